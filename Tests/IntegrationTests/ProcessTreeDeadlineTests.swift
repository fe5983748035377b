import FarmController
import FarmProtocol
@testable import FarmSimulator
import Foundation
import XCTest

/// The Configuration Tool's deadline ends the tool and every process it started: a helper that
/// keeps the tool's output pipe open must not hold the agent (and so the run) past the deadline.
final class ProcessTreeDeadlineTests: XCTestCase {
    func testTheDeadlineEndsAHelperThatHoldsTheToolsOutput() async throws {
        let farm = try TestFarm(frontEnds: 0)
        defer { farm.shutdown() }
        var fault = FaultRequest()
        fault.configurationToolOrphanSeconds = 60
        try farm.inject(fault, on: "dc1")
        let session = try await farm.session("dc1", timeout: 30)
        let started = Date()
        let collected = LineBox()
        let outcome: Result<ResultData, Error>
        do {
            let arguments = ConfigurationToolArguments(mode: .applySettingsFactory, timeoutSeconds: 2)
            outcome = .success(try await session.perform(.runConfigurationTool(arguments), timeout: 40) { collected.add($0.message) })
        } catch {
            outcome = .failure(error)
        }
        guard case let .failure(failure) = outcome, case let .agentFailed(_, error)? = failure as? AgentSessionError else {
            return XCTFail("a hung Configuration Tool must fail at its deadline, got \(outcome)")
        }
        XCTAssertEqual(error.code, .timedOut, error.message)
        XCTAssertTrue(error.message.contains("did not finish within 2 s"), error.message)
        let lines = collected.lines
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertLessThan(elapsed, 8, "the helper holds the pipe for 60 s; the agent must not wait for it")
        XCTAssertTrue(lines.contains { $0.contains("Starting the Configuration Tool's helper") }, "\(lines)")

        let pidFile = try farm.simulated("dc1").directory + "/configuration-tool-helper.pid"
        let helper = try XCTUnwrap(Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        let deadline = Date().addingTimeInterval(3)
        while ProcessTree.isAlive(helper) && Date() < deadline { try await Task.sleep(nanoseconds: 50_000_000) }
        XCTAssertFalse(ProcessTree.isAlive(helper), "the helper the tool started was ended with it")

        // The agent goes on serving the session.
        guard case .pong = try await session.perform(.ping(PingArguments())) else { return XCTFail("no pong") }
        await session.close()
    }
}

/// Progress lines gathered from the session's callback.
final class LineBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []

    func add(_ line: String) { lock.withLock { stored.append(line) } }
    var lines: [String] { lock.withLock { stored } }
}
