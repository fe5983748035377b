import FarmController
import FarmProtocol
import Foundation
import XCTest

/// The live view as drawn: each row says what its server does now, in the order of events the
/// engine sends; and without a terminal a few readable lines, every step under --verbose.
final class LiveViewTests: XCTestCase {
    /// What a view wrote, and its clock.
    private final class Screen: @unchecked Sendable {
        private let lock = NSLock()
        private var writes: [String] = []
        var time = Date(timeIntervalSince1970: 1_800_000_000)

        func write(_ text: String) { lock.withLock { writes.append(text) } }
        /// The block last drawn (a redraw writes it in one piece, after the clearing sequence).
        var block: String { lock.withLock { writes.last { !$0.hasPrefix("\u{1B}[") && !$0.hasSuffix("[J") } ?? "" } }
        var all: String { lock.withLock { writes.joined() } }
        func row(_ server: String) -> String { block.split(separator: "\n").first { $0.hasPrefix(server + " ") }.map(String.init) ?? "" }
    }

    private func view(_ screen: Screen, colour: Bool = false, interactive: Bool = true, verbose: Bool = false) -> LiveView {
        LiveView(
            servers: ["dc1", "fe1", "fe2"], interactive: interactive, verbose: verbose, colour: colour, now: { screen.time }, ticking: false,
            write: screen.write)
    }

    func testAFailedStepShowsACrossInRedAndADoneStepATickInGreen() {
        let screen = Screen()
        let view = view(screen, colour: true)
        view.step("fe1", "configuration-tool")
        view.event("fe1", "FAILED: Service Center installation failed.")
        view.stepFailed("fe1")
        XCTAssertTrue(screen.row("fe1").contains("configuration-tool \u{1B}[31m✗\u{1B}[0m"), screen.row("fe1"))
        XCTAssertFalse(screen.row("fe1").contains("✓"), screen.row("fe1"))
        view.step("dc1", "verify")
        view.stepEnded("dc1")
        XCTAssertTrue(screen.row("dc1").contains("verify \u{1B}[32m✓\u{1B}[0m"), screen.row("dc1"))
    }

    func testStepNamesAreNotCut() {
        let screen = Screen()
        let view = view(screen)
        view.step("dc1", "rollback:start-services")
        view.step("fe1", "stop-iis")
        XCTAssertTrue(screen.row("dc1").contains("rollback:start-services "), screen.block)
        // The columns stay aligned: the clocks start at the same place.
        XCTAssertEqual(
            screen.row("dc1").range(of: "00:00")?.lowerBound.utf16Offset(in: screen.row("dc1")),
            screen.row("fe1").range(of: "00:00")?.lowerBound.utf16Offset(in: screen.row("fe1")))
    }

    func testAServerBetweenStepsShowsWaitingWithItsLastStepAsDone() {
        let screen = Screen()
        let view = view(screen)
        view.step("fe1", "stop-services")
        view.event("fe1", "platform services stopped")
        view.stepEnded("fe1")
        screen.time.addTimeInterval(42)
        view.note("apply")
        let row = screen.row("fe1")
        XCTAssertTrue(row.hasPrefix("fe1  waiting "), row)
        XCTAssertTrue(row.contains("00:42  stop-services ✓: platform services stopped"), row)
    }

    func testAFinishedServerShowsItsOutcomeNotWaiting() {
        let screen = Screen()
        let view = view(screen)
        view.serverFinished("dc1", "moved to sqlnew")
        XCTAssertTrue(screen.row("dc1").contains("moved to sqlnew ✓"), screen.block)
        XCTAssertFalse(screen.row("dc1").contains("waiting"), screen.block)
    }

    func testTheProgressLineCountsStepsTimeLeftAndTheFarmsDowntime() {
        let screen = Screen()
        let view = view(screen)
        let down = screen.time
        view.progress(RunProgress(done: 10, total: 40, farmDownSince: down))
        screen.time.addTimeInterval(30)
        view.progress(RunProgress(done: 20, total: 40, farmDownSince: down))
        view.note("…")
        let last = screen.block.split(separator: "\n").last.map(String.init) ?? ""
        XCTAssertEqual(last, "20/40 steps · about 1 min 0 s left · farm down 00:30 (no front-end serving)")
    }

    func testNoColourUnderNO_COLOROrWithoutATerminal() {
        setenv("NO_COLOR", "1", 1)
        defer { unsetenv("NO_COLOR") }
        let screen = Screen()
        let view = LiveView(servers: ["dc1"], interactive: true, now: { screen.time }, ticking: false, write: screen.write)
        view.step("dc1", "verify")
        view.stepEnded("dc1")
        XCTAssertTrue(screen.block.contains("✓") && !screen.block.contains("\u{1B}[32m"), screen.block)
        unsetenv("NO_COLOR")
        let plain = Screen()
        let lines = LiveView(servers: ["dc1"], interactive: false, now: { plain.time }, ticking: false, write: plain.write)
        lines.step("dc1", "verify")
        lines.stepFailed("dc1")
        XCTAssertTrue(plain.all.contains("✗") && !plain.all.contains("\u{1B}"), plain.all)
    }

    func testWithoutATerminalAFourServerRunIsAFewLinesAndEveryStepUnderVerbose() async throws {
        func run(verbose: Bool) async throws -> String {
            let farm = ScriptedFarm()
            let screen = Screen()
            let view = LiveView(
                servers: farm.servers.map(\.name), interactive: false, verbose: verbose, now: { farm.clock.now() }, ticking: false,
                write: screen.write)
            let engine = try RunEngine(
                record: farm.record, journal: farm.newJournal(), servers: farm.servers, agents: farm.agents, observer: view,
                interrupt: OperatorInterrupt(), clock: farm.clock, adminPassword: nil, confirmRestore: nil)
            let outcome = await engine.run()
            XCTAssertEqual(outcome, .completed)
            return screen.all
        }
        let quiet = try await run(verbose: false)
        let lines = quiet.split(separator: "\n")
        XCTAssertLessThanOrEqual(lines.count, 20, quiet)
        for server in ["dc1", "fe1", "fe2", "fe3"] { XCTAssertTrue(quiet.contains("\(server): moved to sqlnew ✓"), quiet) }
        let verbose = try await run(verbose: true)
        XCTAssertGreaterThan(verbose.split(separator: "\n").count, 60, verbose)
        XCTAssertTrue(verbose.contains("fe2 configuration-tool: started"), verbose)
    }

    func testAResumeShowsTheServersAlreadyDoneAsFinishedBeforeItsFirstStep() async throws {
        let farm = ScriptedFarm()
        let journal = farm.newJournal()
        farm.agents["fe2"]!.failures[.runConfigurationTool] = [.agentFailed(operation: "run-configuration-tool", AgentError(.operationFailed, "SC failed"))]
        _ = try await farm.engine(journal).run()
        let screen = Screen()
        let view = LiveView(servers: farm.servers.map(\.name), interactive: true, now: { farm.clock.now() }, ticking: false, write: screen.write)
        let firstStep = LockedValue<String?>(nil)
        farm.agents["fe2"]!.onCall = { _ in if firstStep.get() == nil { firstStep.set(screen.block) } }
        let engine = try RunEngine(
            record: farm.record, journal: journal, servers: farm.servers, agents: farm.agents, observer: view,
            interrupt: OperatorInterrupt(), clock: farm.clock, adminPassword: nil, confirmRestore: nil)
        let outcome = await engine.run()
        XCTAssertEqual(outcome, .completed)
        let atFirstStep = try XCTUnwrap(firstStep.get())
        // fe1 was moved before the resume (dc1 still has its after-steps to run).
        for server in ["fe1"] {
            let row = atFirstStep.split(separator: "\n").first { $0.hasPrefix(server + " ") } ?? ""
            XCTAssertTrue(row.contains("moved to sqlnew ✓"), "finished before the resume, shown so: \(atFirstStep)")
        }
        for server in ["dc1", "fe1", "fe2", "fe3"] { XCTAssertTrue(screen.row(server).contains("moved to sqlnew ✓"), screen.block) }
    }
}
