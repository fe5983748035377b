import FarmController
import FarmProtocol
import Foundation
import XCTest

/// What the summary, the change record, the way out and `runs list` say, from journals the engine
/// wrote against scripted agents: each tells the run's state now, and no two lines disagree.
final class RunReportTests: XCTestCase {
    private func report(_ farm: ScriptedFarm, _ journal: MemoryJournal, _ outcome: RunOutcome, after seconds: Double = 0) throws -> MoveReport {
        MoveReport(record: farm.record, entries: try journal.entries(), outcome: outcome, now: farm.clock.now().addingTimeInterval(seconds))
    }

    private func temporaryDirectory() throws -> String {
        let directory = NSTemporaryDirectory() + "osfarm-report-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: directory) }
        return directory
    }

    func testAResumedRunReportsItsFinalStateWithTheEarlierFailureAsHistoryAndRewritesTheFailedRunsRecord() async throws {
        let farm = ScriptedFarm()
        farm.agents["fe1"]!.failures[.runConfigurationTool] = [.agentFailed(operation: "run-configuration-tool", AgentError(.operationFailed, "SC failed"))]
        let journal = farm.newJournal()
        let failed = try await farm.engine(journal).run()
        XCTAssertEqual(failed.exitStatus, .someFailed)
        let directory = try temporaryDirectory()
        let path = directory + "/change.md"
        try ChangeRecords.write(try report(farm, journal, failed), to: path, runDirectory: directory)
        XCTAssertTrue(try String(contentsOfFile: path, encoding: .utf8).contains("| Exit code | 1 "))

        let resumed = try await farm.engine(journal).run()
        XCTAssertEqual(resumed, .completed)
        let final = try report(farm, journal, resumed)
        let summary = final.summary()
        let parts = summary.components(separatedBy: "History (earlier in this run")
        XCTAssertEqual(parts.count, 2, summary)
        XCTAssertFalse(parts[0].contains("SC failed"), "the failure is no longer the run's state:\n\(summary)")
        XCTAssertTrue(parts[1].contains("fe1 configuration-tool failed: SC failed"), summary)
        XCTAssertTrue(parts[1].contains("run failed: "), summary)
        XCTAssertTrue(summary.contains("run run-1: completed"), summary)
        XCTAssertFalse(summary.contains("Not serving now"), summary)
        let markdown = final.markdown()
        XCTAssertTrue(markdown.contains("| Exit code | 0 "), markdown)
        XCTAssertFalse(markdown.contains("\nError: "), markdown)
        XCTAssertTrue(markdown.contains("## History (earlier in this run"), markdown)

        // The record the failed run wrote now says what the run is.
        XCTAssertEqual(ChangeRecords.refresh(final, runDirectory: directory), [URL(fileURLWithPath: path).standardizedFileURL.path])
        let rewritten = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(rewritten.contains("| Exit code | 0 ") && !rewritten.contains("| Exit code | 1 "), rewritten)
    }

    func testAFailedDatabaseProbeNamesTheSameResumeInTheMessageAndInTheWayOut() async throws {
        let farm = ScriptedFarm()  // --db-restored: the gate's probe runs at once
        farm.agents["dc1"]!.failures[.probeDatabase] = [.agentFailed(operation: "probe-database", AgentError(.operationFailed, "no answer"))]
        let journal = farm.newJournal()
        let outcome = try await farm.engine(journal).run()
        XCTAssertEqual(outcome.exitStatus, .someFailed)
        let summary = try report(farm, journal, outcome).summary()
        let block = try XCTUnwrap(summary.components(separatedBy: "To end this state, either:").last)
        XCTAssertTrue(block.contains("osfarm resume run-1 --db-restored"), summary)
    }

    func testAStopAtTheGateSaysTheFarmIsStillDownAndASecondSignalListsWhatIsNotServing() async throws {
        var farm = ScriptedFarm()
        farm.options.databaseRestored = false
        let journal = farm.newJournal()
        let outcome = try await farm.engine(journal).run()
        guard case .stopped = outcome else { return XCTFail("\(outcome)") }
        let report = try report(farm, journal, outcome, after: 60)
        let summary = report.summary()
        XCTAssertTrue(summary.range(of: #"farm downtime \(no front-end served\): 1 min \d+ s \(still\)"#, options: .regularExpression) != nil, summary)
        XCTAssertTrue(report.markdown().contains(" (still) |"), report.markdown())

        let interrupt = OperatorInterrupt()
        let lines = try XCTUnwrap(report.wayOut).lines(record: farm.record)
        interrupt.runStarted("run-1") { lines }
        let quit = interrupt.quitMessage("Ctrl-C (SIGINT)")
        XCTAssertTrue(quit.contains("Not serving now:") && quit.contains("fe3") && quit.contains("osfarm resume run-1 --db-restored"), quit)
    }

    func testARunWaitingAtTheGateReadsAtGate() async throws {
        var farm = ScriptedFarm()
        farm.options.databaseRestored = false
        let journal = farm.newJournal()
        let seen = LockedValue<RunLifecycle?>(nil)
        let observer = SilentObserver()
        let engine = try RunEngine(
            record: farm.record, journal: journal, servers: farm.servers, agents: farm.agents, observer: observer,
            interrupt: OperatorInterrupt(), clock: farm.clock, adminPassword: nil,
            confirmRestore: { _ in
                seen.set(RunState(entries: (try? journal.entries()) ?? []).lifecycle)
                return false
            })
        _ = await engine.run()
        XCTAssertEqual(seen.get(), .atGate)
        // The question comes with since when the farm has not served.
        XCTAssertTrue(observer.notes.contains { $0.hasPrefix("every server is stopped; no front-end has served since ") }, "\(observer.notes)")
    }

    func testARollbackOfACompletedRunCountsOnlyTheTimeTheFarmDidNotServe() async throws {
        let farm = ScriptedFarm()
        let journal = farm.newJournal()
        let moved = try await farm.engine(journal).run()
        XCTAssertEqual(moved, .completed)
        let movedDown = try report(farm, journal, .completed).availability.farmDownSeconds
        farm.clock.advance(3600)  // an hour serving on the new database
        let (outcome, _) = await (try farm.engine(journal)).rollback(of: farm.servers)
        XCTAssertEqual(outcome, .completed)
        let rolledBack = try report(farm, journal, .completed)
        XCTAssertLessThan(rolledBack.availability.farmDownSeconds, movedDown + 600, "the hour the farm served is not downtime")
        XCTAssertGreaterThan(rolledBack.availability.farmDownSeconds, movedDown)
        for server in rolledBack.availability.servers { XCTAssertLessThan(server.downSeconds, 600, server.name) }
        XCTAssertTrue(rolledBack.summary().contains("run run-1: ROLLED BACK, back on sqlold (the move to sqlnew undone)"), rolledBack.summary())
    }

    func testRunsListTellsALiveControllerFromAStoppedOneByTheLock() throws {
        let directory = try temporaryDirectory()
        var farm = ScriptedFarm()
        farm.options.databaseRestored = true
        var record = farm.record
        record.runID = "20261204-020304-beef"
        let journal = try RunJournal.create(record, stateDirectory: directory)
        try journal.append(JournalEntry(server: nil, step: "run", event: .started))
        try journal.append(JournalEntry(server: nil, step: RunState.phasePrefix + "apply", event: .started))
        let dead = RunCatalog.list(stateDirectory: directory)
        XCTAssertEqual(dead.first?.controllerProcess, nil)
        XCTAssertTrue(RunCatalog.text(dead).contains("applying, no controller: stopped, resumable"), RunCatalog.text(dead))

        let lock = try FarmLock.acquire(farm: farm.servers, stateDirectory: directory, runID: record.runID, command: "resume")
        let live = RunCatalog.list(stateDirectory: directory)
        XCTAssertEqual(live.first?.controllerProcess, getpid())
        XCTAssertTrue(RunCatalog.text(live).contains("applying (controller running, process \(getpid()))"), RunCatalog.text(live))
        withExtendedLifetime(lock) {}
    }

    func testPlansEstimateComesFromAnEarlierRunOfThisFarmNotOfAnotherSharingAServerName() async throws {
        let directory = try temporaryDirectory()
        var farm = ScriptedFarm()
        let ours = Inventory(path: directory + "/ours.yaml", knownHostsPath: directory + "/known_hosts", servers: farm.servers)
        var record = farm.record
        record.runID = "20261204-030405-f00d"
        record.farmIdentity = FarmIdentity.of(ours)
        let memory = farm.newJournal()
        let completed = try await farm.engine(memory).run()
        XCTAssertEqual(completed, .completed)
        let journal = try RunJournal.create(record, stateDirectory: directory)
        for entry in try memory.entries().dropFirst() { try journal.append(entry) }

        farm.options = MoveOptions()
        let estimate = DowntimeEstimate.make(stateDirectory: directory, farm: FarmIdentity.of(ours), servers: farm.servers, options: farm.options)
        XCTAssertEqual(estimate?.basedOn, record.runID)
        // Another farm whose controller is also called dc1: no estimate from this one.
        var others = farm.servers
        for index in others.indices { others[index].host = "10.9.9.\(index + 1)" }
        let other = Inventory(path: directory + "/other.yaml", knownHostsPath: directory + "/known_hosts", servers: others)
        XCTAssertNil(DowntimeEstimate.make(stateDirectory: directory, farm: FarmIdentity.of(other), servers: others, options: farm.options))
    }

    func testRunsWatchFollowsTheJournalWhileTheControllerHoldsTheFarmThenSummarizes() async throws {
        let directory = try temporaryDirectory()
        let farm = ScriptedFarm()
        let memory = farm.newJournal()
        let outcome = try await farm.engine(memory).run()
        XCTAssertEqual(outcome, .completed)
        let entries = Array(try memory.entries().dropFirst())
        var record = farm.record
        record.runID = "20261204-040506-abba"
        let journal = try RunJournal.create(record, stateDirectory: directory)
        let half = entries.count / 2
        for entry in entries[..<half] { try journal.append(entry) }
        var lock: FarmLock? = try FarmLock.acquire(farm: farm.servers, stateDirectory: directory, runID: record.runID, command: "move-db run")
        let written = LockedValue<[String]>([])
        var watch = RunWatch(runID: record.runID, stateDirectory: directory)
        var pauses = 0
        let report = try await watch.follow(
            makeObserver: { servers in
                LiveView(
                    servers: servers, interactive: false, now: { farm.clock.now() }, ticking: false,
                    write: { text in written.set(written.get() + [text]) })
            },
            pause: {
                pauses += 1
                // What the controller writes meanwhile; then it ends and lets the farm go.
                for entry in entries[half...] { try? journal.append(entry) }
                lock = nil
            })
        XCTAssertEqual(pauses, 1)
        XCTAssertNil(lock)
        XCTAssertEqual(report.state.lifecycle, .completed)
        let text = written.get().joined()
        XCTAssertTrue(text.contains("watching run \(record.runID)"), text)
        for server in ["dc1", "fe1", "fe2", "fe3"] { XCTAssertTrue(text.contains("\(server): moved to sqlnew ✓"), text) }
        XCTAssertTrue(text.contains("run finished: completed"), text)
    }

    func testPruneCompletedTakesTheFinishedRunsOfThisFarmOnly() async throws {
        let directory = try temporaryDirectory()
        let farm = ScriptedFarm()
        let ours = Inventory(path: directory + "/ours.yaml", knownHostsPath: directory + "/known_hosts", servers: farm.servers)
        var others = farm.servers
        for index in others.indices { others[index].host = "10.9.9.\(index + 1)" }
        let theirs = Inventory(path: directory + "/theirs.yaml", knownHostsPath: directory + "/known_hosts", servers: others)
        func journaled(_ runID: String, _ inventory: Inventory, failing: Bool) async throws {
            let run = ScriptedFarm()
            if failing {
                run.agents["fe1"]!.failures[.runConfigurationTool] = [
                    .agentFailed(operation: "run-configuration-tool", AgentError(.operationFailed, "SC failed"))
                ]
            }
            let memory = run.newJournal()
            _ = try await run.engine(memory).run()
            var record = run.record
            record.runID = runID
            record.farmIdentity = FarmIdentity.of(inventory)
            let journal = try RunJournal.create(record, stateDirectory: directory)
            for entry in try memory.entries().dropFirst() { try journal.append(entry) }
        }
        try await journaled("20261204-050000-0001", ours, failing: false)
        try await journaled("20261204-050000-0002", ours, failing: true)
        try await journaled("20261204-050000-0003", theirs, failing: false)
        XCTAssertEqual(FarmBackups.prunableRuns(stateDirectory: directory, inventory: ours), ["20261204-050000-0001"])
    }
}

/// A value set from a Sendable closure and read afterwards.
final class LockedValue<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func set(_ newValue: Value) { lock.withLock { value = newValue } }
    func get() -> Value { lock.withLock { value } }
}
