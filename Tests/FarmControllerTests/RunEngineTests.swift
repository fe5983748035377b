import FarmController
import FarmProtocol
import FarmSSH
import Foundation
import XCTest

/// The runbook engine against scripted agents and a virtual clock: window, budget, failures,
/// resume from every journal prefix and rollback, in milliseconds.
final class RunEngineTests: XCTestCase {
    private func done(_ entries: [JournalEntry]) -> Set<String> {
        Set(entries.filter { $0.event == .finished && $0.server != nil }.map { "\($0.server!)/\($0.step)" })
    }

    private func steps(_ entries: [JournalEntry], _ server: String, _ event: JournalEntry.Event = .started) -> [String] {
        entries.filter { $0.server == server && $0.event == event }.map(\.step)
    }

    func testTheTableRunsInOrderEveryStopBeforeAnyApplyAndTheControllerFirst() async throws {
        let farm = ScriptedFarm()
        let journal = farm.newJournal()
        let outcome = try await farm.engine(journal).run()
        XCTAssertEqual(outcome, .completed)
        let entries = try journal.entries()
        let forward = Runbook.moveDatabase.forwardSteps(on: RunServer(name: "fe2", role: .frontEnd), options: farm.options).map(\.id.rawValue)
        XCTAssertEqual(steps(entries, "fe2"), forward, "each front-end runs the table's steps, in order")
        XCTAssertEqual(
            steps(entries, "dc1"),
            Runbook.moveDatabase.forwardSteps(on: RunServer(name: "dc1", role: .deploymentController), options: farm.options).map(\.id.rawValue))
        let firstBackup = try XCTUnwrap(entries.firstIndex { $0.step == "backup" })
        XCTAssertEqual(entries[..<firstBackup].filter { $0.step == "stop-services" && $0.event == .finished }.count, 4)
        XCTAssertEqual(entries[firstBackup].server, "dc1")
        let dcVerified = try XCTUnwrap(entries.firstIndex { $0.server == "dc1" && $0.step == "verify" && $0.event == .finished })
        XCTAssertFalse(entries[..<dcVerified].contains { $0.server?.hasPrefix("fe") == true && $0.step == "backup" })
        XCTAssertEqual(RunState(entries: entries).lifecycle, .completed)
        XCTAssertTrue(farm.agents.values.allSatisfy { $0.database == "sqlnew" && $0.servicesRunning })
    }

    func testResumeFromEveryPrefixOfTheJournalEndsMovedWithoutRepeatingADoneStep() async throws {
        let reference = ScriptedFarm()
        let full = reference.newJournal()
        _ = try await reference.engine(full).run()
        let entries = try full.entries()
        XCTAssertGreaterThan(entries.count, 60)
        var points = 0
        for cut in 1..<entries.count {
            let farm = ScriptedFarm()
            // The servers as the crashed run left them: replay the prefix's finished steps on the model.
            let prefix = Array(entries[..<cut])
            let journal = MemoryJournal(prefix)
            for server in farm.servers { farm.agents[server.name]!.replay(prefix.filter { $0.server == server.name }) }
            let outcome = try await farm.engine(journal).run()
            XCTAssertEqual(outcome, .completed, "resumed after entry \(cut)")
            let after = try journal.entries().dropFirst(prefix.count)
            let repeated = after.filter { $0.event == .started && $0.server != nil && done(prefix).contains("\($0.server!)/\($0.step)") }
            XCTAssertEqual(repeated.map { "\($0.server!)/\($0.step)" }, [], "after entry \(cut): a done step ran again")
            XCTAssertTrue(farm.agents.values.allSatisfy { $0.database == "sqlnew" && $0.servicesRunning }, "after entry \(cut)")
            XCTAssertTrue(farm.agents.values.allSatisfy { $0.overlappingConfigurationTools == 0 })
            points += 1
        }
        XCTAssertEqual(points, entries.count - 1)
    }

    func testAWindowThatEndsMidApplyLetsTheServerFinishAndStartsNoOther() async throws {
        var farm = ScriptedFarm()
        let start = farm.clock.now()
        // Virtual time: the stop phase's eight 1 s steps, the gate, the controller's apply (its
        // Configuration Tool 20 s) take about 35 s; fe1's Configuration Tool runs from about 38 to 58.
        farm.options.window = MaintenanceWindow(start: nil, end: start.addingTimeInterval(50))
        farm.options.serverBudget = 1
        for agent in farm.agents.values { agent.durations[.runConfigurationTool] = 20 }
        let journal = farm.newJournal()
        let outcome = try await farm.engine(journal).run()
        guard case let .stopped(message) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertTrue(message.contains("the maintenance window ended"), message)
        XCTAssertEqual(outcome.exitStatus, .stopped)
        let entries = try journal.entries()
        let windowEnd = try XCTUnwrap(farm.options.window?.end)
        let toolEnded = try XCTUnwrap(entries.first { $0.server == "fe1" && $0.step == "configuration-tool" && $0.event == .finished })
        XCTAssertGreaterThan(toolEnded.time, windowEnd, "fe1 was in its Configuration Tool when the window ended")
        XCTAssertEqual(
            steps(entries, "fe1", .finished).suffix(4), ["start-services", "wait-ready", "verify", "platform-proof"], "the server in flight finishes")
        XCTAssertTrue(message.contains("not started: fe2, fe3"), message)
        XCTAssertFalse(entries.contains { $0.server == "fe2" && $0.step == "backup" })
        // Where each server ended (from MoveDBTests' window test, which waited out a real 30 s lock).
        XCTAssertEqual(outcome.exitStatus.rawValue, 3)
        XCTAssertEqual(farm.agents["dc1"]!.database, "sqlnew")
        XCTAssertEqual(farm.agents["fe1"]!.database, "sqlnew", "the server in flight finished")
        XCTAssertTrue(farm.agents["fe1"]!.servicesRunning && farm.agents["fe1"]!.iisRunning)
        XCTAssertEqual(farm.agents["fe2"]!.database, "sqlold", "untouched")
        XCTAssertEqual(farm.agents["fe3"]!.database, "sqlold", "untouched")
    }

    func testAStopRequestBetweenTwoStepsHaltsBeforeTheRepoint() async throws {
        let farm = ScriptedFarm()
        let interrupt = OperatorInterrupt()
        farm.agents["fe1"]!.onCall = { if $0 == .backupConfiguration { interrupt.request("SIGTERM") } }
        let journal = farm.newJournal()
        let outcome = try await farm.engine(journal, interrupt: interrupt).run()
        guard case let .stopped(message) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertTrue(message.hasPrefix("stopped by SIGTERM"), message)
        XCTAssertTrue(message.contains("osfarm resume run-1") && message.contains("osfarm rollback run-1"), message)
        let entries = try journal.entries()
        XCTAssertEqual(steps(entries, "fe1", .finished).last, "backup", "the step in flight finished, nothing after it started")
        XCTAssertEqual(farm.agents["fe1"]!.database, "sqlold")
    }

    func testTooLittleWindowLeftForTheBudgetStartsNoServer() async throws {
        var farm = ScriptedFarm()
        farm.options.window = MaintenanceWindow(start: nil, end: farm.clock.now().addingTimeInterval(100))
        farm.options.serverBudget = 600
        let outcome = try await farm.engine(farm.newJournal()).run()
        guard case let .stopped(message) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertTrue(message.contains("less than the 600 s a server's apply takes"), message)
        XCTAssertTrue(message.contains("not started: dc1, fe1, fe2, fe3"), message)
        XCTAssertTrue(farm.agents.values.allSatisfy { $0.database == "sqlold" })
    }

    /// Issue 21: the way out names `--window`, `--deadline` or `--no-window` for a run the window ended.
    func testAWindowStopNamesANewWindowInItsWayOut() async throws {
        var farm = ScriptedFarm(frontEnds: 1)
        farm.options.window = MaintenanceWindow(start: nil, end: farm.clock.now().addingTimeInterval(100))
        farm.options.serverBudget = 600
        let journal = farm.newJournal()
        let outcome = try await farm.engine(journal).run()
        guard case let .stopped(message) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertTrue(message.contains("Resume with osfarm resume run-1 --window START/END (or --deadline TIME, or --no-window)"), message)
        let report = MoveReport(record: farm.record, entries: try journal.entries(), outcome: outcome, now: farm.clock.now())
        XCTAssertEqual(report.wayOut?.resume, "osfarm resume run-1 --window START/END (or --deadline TIME, or --no-window)")
        // A stop by the operator keeps the plain resume.
        let other = ScriptedFarm(frontEnds: 1)
        let interrupt = OperatorInterrupt()
        other.agents["fe1"]!.onCall = { if $0 == .stopServices { interrupt.request("SIGTERM") } }
        let stopped = try await other.engine(other.newJournal(), interrupt: interrupt).run()
        XCTAssertTrue(stopped.message.contains("Resume with osfarm resume run-1, or undo"), stopped.message)
    }

    /// Issue 21: a run whose every change another run's claim refused touched nothing: it says who
    /// holds the farm, and names no way out of a state it did not cause.
    func testARunRefusedByAnotherRunsClaimSaysWhoHoldsTheFarmAndNamesNoWayOut() async throws {
        let farm = ScriptedFarm(frontEnds: 1)
        let busy = "run 20261201-010101-aaaa from ops@jump2 is changing this server (agent process 42); one run at a time"
        for agent in farm.agents.values {
            agent.failures[.stopIIS] = [.agentFailed(operation: "stop-iis", AgentError(.serverBusy, busy))]
        }
        let journal = farm.newJournal()
        let outcome = try await farm.engine(journal).run()
        guard case let .failed(message) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(
            message,
            "another run holds this farm: \(busy) (refused on dc1, fe1). Run run-1 changed nothing: no server was stopped, there is nothing to resume or roll back"
        )
        XCTAssertTrue(farm.agents.values.allSatisfy { $0.servicesRunning && $0.iisRunning })
        let report = MoveReport(record: farm.record, entries: try journal.entries(), outcome: outcome)
        XCTAssertNil(report.wayOut, "nothing is down because of this run")
        let summary = report.summary()
        XCTAssertFalse(summary.contains("Not serving now") || summary.contains("osfarm resume run-1"), summary)
        XCTAssertEqual(report.availability.notServing.map(\.name), [])
    }

    /// Issue 21: the remedy for a stuck service is the same run resumed with --kill-stuck-services
    /// (a new run left this one failed and resumable), and the process it ends is on the record.
    func testAStuckServiceNamesResumeWithKillStuckServicesAndTheEndedProcessIsJournaled() async throws {
        var farm = ScriptedFarm(frontEnds: 1)
        let scheduler = "OutSystems Scheduler Service"
        farm.agents["fe1"]!.stuckService = scheduler
        farm.agents["fe1"]!.failures[.stopServices] = [
            .agentFailed(
                operation: "stop-services",
                AgentError(
                    .timedOut, "\(scheduler) is still STOP_PENDING after 2 s; its process is PID 4242. To end it, carry the run on with --kill-stuck-services"))
        ]
        let journal = farm.newJournal()
        let failed = try await farm.engine(journal).run()
        guard case let .failed(message) = failed else { return XCTFail("\(failed)") }
        XCTAssertTrue(message.contains("Resume with osfarm resume run-1 --kill-stuck-services, or start everything again"), message)
        let report = MoveReport(record: farm.record, entries: try journal.entries(), outcome: failed)
        XCTAssertEqual(report.wayOut?.resume, "osfarm resume run-1 --kill-stuck-services")

        farm.options.killStuckServices = true
        let resumed = try await farm.engine(journal).run()
        XCTAssertEqual(resumed, .completed)
        let ended = "ended the stuck process of \(scheduler) (PID 4242); \(scheduler) stopped"
        let entry = try journal.entries().first { $0.server == "fe1" && $0.step == "stop-services" && $0.event == .finished }
        XCTAssertEqual(entry?.message, "platform services stopped; " + ended)
        let done = MoveReport(record: farm.record, entries: try journal.entries(), outcome: resumed)
        XCTAssertTrue(done.details().contains("  \(ended)\n"), done.details())
        XCTAssertTrue(done.markdown().contains("Forced: \(ended)"))
    }

    func testTheRunWaitsForTheWindowToOpen() async throws {
        var farm = ScriptedFarm()
        let opens = farm.clock.now().addingTimeInterval(3600)
        farm.options.window = MaintenanceWindow(start: opens, end: opens.addingTimeInterval(7200))
        let journal = farm.newJournal()
        let outcome = try await farm.engine(journal).run()
        XCTAssertEqual(outcome, .completed)
        let firstStep = try XCTUnwrap(try journal.entries().first { $0.server != nil })
        XCTAssertGreaterThanOrEqual(firstStep.time, opens)
    }

    func testFrontEndFailuresInParallelStopNewFrontEndsOnceOverTheLimit() async throws {
        var farm = ScriptedFarm(frontEnds: 4)
        farm.options.parallel = 2
        farm.options.maxFailures = 0
        farm.agents["fe1"]!.failures[.runConfigurationTool] = [.agentFailed(operation: "run-configuration-tool", AgentError(.operationFailed, "SC failed"))]
        let journal = farm.newJournal()
        let outcome = try await farm.engine(journal).run()
        guard case let .failed(message) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertTrue(message.contains("fe1: configuration-tool failed: SC failed"), message)
        // A front-end waiting for its turn gave its place on, so the others may have prepared by
        // then; none takes its turn once the failures are over the limit: each is named, as
        // prepared and waiting or as not started (or it had its turn before fe1 and finished).
        let entries = try journal.entries()
        let failedAt = try XCTUnwrap(entries.firstIndex { $0.server == "fe1" && $0.step == "configuration-tool" && $0.event == .failed })
        XCTAssertFalse(entries[failedAt...].contains { $0.step == "configuration-tool" && $0.event == .started }, "no turn after the failure")
        for server in ["fe2", "fe3", "fe4"] where !steps(entries, server, .finished).contains("platform-proof") {
            XCTAssertTrue(message.contains(server), "\(server) is named: \(message)")
            XCTAssertEqual(farm.agents[server]!.calls.filter { $0 == .runConfigurationTool }, [])
        }
        XCTAssertEqual(farm.agents.values.map(\.overlappingConfigurationTools).reduce(0, +), 0, "Configuration Tool runs take turns")

        var tolerant = ScriptedFarm(frontEnds: 4)
        tolerant.options.maxFailures = 1
        tolerant.agents["fe1"]!.failures[.runConfigurationTool] = [.agentFailed(operation: "run-configuration-tool", AgentError(.operationFailed, "SC failed"))]
        let second = try await tolerant.engine(tolerant.newJournal()).run()
        XCTAssertEqual(second.exitStatus, .someFailed)
        XCTAssertTrue(["fe2", "fe3", "fe4"].allSatisfy { tolerant.agents[$0]!.database == "sqlnew" }, "one failure tolerated")
    }

    func testAControllerFailureStopsBeforeAnyFrontEnd() async throws {
        let farm = ScriptedFarm()
        farm.agents["dc1"]!.failures[.repointDatabase] = [.agentFailed(operation: "repoint-database", AgentError(.operationFailed, "locked"))]
        let journal = farm.newJournal()
        let outcome = try await farm.engine(journal).run()
        guard case let .failed(message) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertTrue(message.hasPrefix("dc1 failed: repoint failed: locked") && message.contains("No front-end was touched"), message)
        XCTAssertFalse(try journal.entries().contains { $0.server?.hasPrefix("fe") == true && $0.step == "backup" })
    }

    /// Issue 18: a login the new database refuses stops the run at the gate, before any
    /// server.hsconf changes; once the DBA fixed it, the same journal goes on to the end.
    func testARefusedLoginStopsAtTheGateAndResumeAfterTheFixFinishes() async throws {
        let farm = ScriptedFarm()
        farm.agents["dc1"]!.runtimeLogin = .disabled
        let journal = farm.newJournal()
        let outcome = try await farm.engine(journal).run()
        guard case let .failed(message) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertTrue(message.contains("check-logins failed") && message.contains("platform runtime OSRUNTIME"), message)
        XCTAssertTrue(message.contains("ALTER LOGIN [OSRUNTIME] ENABLE;") && message.contains("still on the old database"), message)
        XCTAssertTrue(message.contains("osfarm resume \(farm.record.runID) --db-restored") && message.contains("osfarm rollback \(farm.record.runID)"), message)
        XCTAssertFalse(try journal.entries().contains { $0.step == "backup" || $0.step == "repoint" })
        XCTAssertTrue(farm.agents.values.allSatisfy { $0.database == "sqlold" })

        farm.agents["dc1"]!.runtimeLogin = .ok
        let resumed = try await farm.engine(journal).run()
        XCTAssertEqual(resumed, .completed)
        XCTAssertTrue(farm.agents.values.allSatisfy { $0.database == "sqlnew" && $0.servicesRunning })
    }

    func testWithoutTheLoginCheckTheGateDoesNotLogIn() async throws {
        var farm = ScriptedFarm()
        farm.options.loginCheck = false
        farm.agents["dc1"]!.runtimeLogin = .disabled
        let outcome = try await farm.engine(farm.newJournal()).run()
        XCTAssertEqual(outcome, .completed)
        XCTAssertFalse(farm.agents["dc1"]!.calls.contains(.checkLogins))
    }

    func testAStopFailureFailsTheRunAfterEveryServerTried() async throws {
        let farm = ScriptedFarm()
        farm.agents["fe2"]!.failures[.stopServices] = [.agentFailed(operation: "stop-services", AgentError(.timedOut, "Scheduler still STOP_PENDING"))]
        let journal = farm.newJournal()
        let outcome = try await farm.engine(journal).run()
        guard case let .failed(message) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertTrue(message.hasPrefix("could not stop every server"), message)
        XCTAssertTrue(["dc1", "fe1", "fe3"].allSatisfy { !farm.agents[$0]!.servicesRunning }, "the others were stopped")
        XCTAssertFalse(try journal.entries().contains { $0.step == "backup" })
    }

    func testALostServerEndsTheRunAsUnreachable() async throws {
        let farm = ScriptedFarm()
        farm.agents["fe2"]!.failures[.startIIS] = [.ssh(.disconnected("the connection was reset"))]
        let outcome = try await farm.engine(farm.newJournal()).run()
        guard case let .lost(message) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(outcome.exitStatus, .unreachable)
        XCTAssertTrue(message.contains("lost fe2"), message)
    }

    func testAFrozenServerIsLostNotAFailedStep() async throws {
        let farm = ScriptedFarm()
        farm.agents["fe1"]!.failures[.backupConfiguration] = [.stoppedAnswering(request: "backup-configuration (request 9)", seconds: 15, heartbeatSeconds: 5)]
        let outcome = try await farm.engine(farm.newJournal()).run()
        guard case let .lost(message) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(outcome.exitStatus, .unreachable, "exit 4, as for a server that cannot be reached")
        XCTAssertTrue(message.hasPrefix("lost fe1 during the run (fe1: the server stopped answering"), message)
        XCTAssertTrue(message.contains("osfarm resume run-1") && message.contains("osfarm rollback run-1"), message)
    }

    func testAJournalThatCannotBeWrittenStopsTheRunAndSaysSo() async throws {
        let farm = ScriptedFarm()
        let journal = farm.newJournal(failFrom: 12)
        let observer = SilentObserver()
        let outcome = try await farm.engine(journal, observer: observer).run()
        guard case let .stopped(message) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(outcome.exitStatus, .stopped, "resumable: exit 3")
        XCTAssertTrue(message.contains("the journal could not be written (cannot write the journal /state/run-1/journal.jsonl"), message)
        XCTAssertFalse(message.contains("operator"), message)
        XCTAssertTrue(
            observer.notes.contains { $0.hasPrefix("osfarm: cannot write the journal /state/run-1/journal.jsonl: No space left on device") },
            "a line says the journal could not be written, and where: \(observer.notes)")
        let started = farm.agents.values.map(\.calls.count).reduce(0, +)
        XCTAssertEqual(
            started, try journal.entries().filter { $0.event == .started && $0.server != nil }.count,
            "no step ran without its journal entry")
    }

    /// The state directory fills at each journal write of the stop phase in turn: the run stops
    /// at once (exit 3, saying so), and once there is room again both `resume` and `rollback`
    /// finish from what it left.
    func testAJournalThatFillsAtAnyWriteOfTheStopPhaseLeavesARunThatResumesAndRollsBack() async throws {
        let reference = ScriptedFarm()
        let full = reference.newJournal()
        _ = try await reference.engine(full).run()
        let entries = try full.entries()
        let first = try XCTUnwrap(entries.firstIndex { $0.subject == .phase(.stop) })
        let gate = try XCTUnwrap(entries.firstIndex { $0.subject == .phase(.gate) })
        XCTAssertGreaterThan(gate - first, 16, "the phase's own entry and every server's stop steps")
        for failing in first...gate {
            for way in ["resume", "rollback"] {
                let farm = ScriptedFarm()
                let journal = farm.newJournal(failFrom: failing)
                let outcome = try await farm.engine(journal).run()
                XCTAssertEqual(outcome.exitStatus, .stopped, "write \(failing): \(outcome)")
                XCTAssertTrue(outcome.message.contains("the journal could not be written"), "write \(failing): \(outcome.message)")
                journal.makeRoom()
                let ended: RunOutcome
                if way == "resume" {
                    ended = try await farm.engine(journal).run()
                } else {
                    ended = try await farm.engine(journal).rollback(of: farm.servers).0
                }
                XCTAssertEqual(ended, .completed, "\(way) after a full journal at write \(failing)")
                let database = way == "resume" ? "sqlnew" : "sqlold"
                for agent in farm.agents.values {
                    XCTAssertTrue(
                        agent.database == database && agent.servicesRunning && agent.iisRunning,
                        "\(way) after write \(failing): \(agent.name) on \(agent.database), services \(agent.servicesRunning), IIS \(agent.iisRunning)")
                }
                let lifecycle = RunState(entries: try journal.entries()).lifecycle
                XCTAssertEqual(lifecycle, way == "resume" ? .completed : .rolledBack, "\(way) after write \(failing)")
            }
        }
    }

    func testRollbackRunsTheInversesLatestFirstEveryServerStoppedFirstTheControllerBeforeFrontEnds() async throws {
        let farm = ScriptedFarm()
        let journal = farm.newJournal()
        _ = try await farm.engine(journal).run()
        let before = try journal.entries().count
        let (outcome, plans) = try await farm.engine(journal).rollback(of: farm.servers)
        XCTAssertEqual(outcome, .completed)
        XCTAssertEqual(
            plans["fe1"]?.map(\.rawValue),
            ["stop-services", "stop-iis", "restore", "start-iis", "configuration-tool", "start-services", "wait-ready", "verify", "platform-proof"])
        let entries = Array(try journal.entries().dropFirst(before))
        let firstRestore = try XCTUnwrap(entries.firstIndex { $0.step == "rollback:restore" })
        XCTAssertEqual(entries[..<firstRestore].filter { $0.step == "rollback:stop-services" && $0.event == .finished }.count, 4)
        XCTAssertEqual(entries[firstRestore].server, "dc1")
        XCTAssertTrue(farm.agents.values.allSatisfy { $0.database == "sqlold" && $0.servicesRunning })
        XCTAssertEqual(RunState(entries: try journal.entries()).lifecycle, .rolledBack)
        XCTAssertNotEqual(RunLifecycle.rolledBack.admits(.resume, runID: "r"), .allowed)
        XCTAssertNotEqual(RunLifecycle.rolledBack.admits(.rollback, runID: "r"), .allowed)
    }

    func testARollbackThatStoppedIsCarriedOnWithoutRepeatingItsDoneSteps() async throws {
        let farm = ScriptedFarm()
        let journal = farm.newJournal()
        _ = try await farm.engine(journal).run()
        let interrupt = OperatorInterrupt()
        farm.agents["fe1"]!.onCall = { if $0 == .restoreConfiguration { interrupt.request() } }
        let (first, _) = try await farm.engine(journal, interrupt: interrupt).rollback(of: farm.servers)
        XCTAssertEqual(first.exitStatus, .stopped)
        XCTAssertEqual(RunState(entries: try journal.entries()).lifecycle, .rollingBack)
        let doneBefore = done(try journal.entries())
        let count = try journal.entries().count
        farm.agents["fe1"]!.onCall = { _ in }
        let (second, _) = try await farm.engine(journal).rollback(of: farm.servers)
        XCTAssertEqual(second, .completed)
        let again = try journal.entries().dropFirst(count).filter { $0.event == .started && doneBefore.contains("\($0.server ?? "")/\($0.step)") }
        XCTAssertEqual(again.map(\.step), [])
        XCTAssertTrue(farm.agents.values.allSatisfy { $0.database == "sqlold" && $0.servicesRunning })
    }

    func testARollbackChecksEveryBackupBeforeItStopsAnything() async throws {
        let farm = ScriptedFarm()
        let journal = farm.newJournal()
        farm.agents["fe2"]!.failures[.runConfigurationTool] = [.agentFailed(operation: "run-configuration-tool", AgentError(.operationFailed, "SC failed"))]
        let run = try await farm.engine(journal).run()
        XCTAssertEqual(run.exitStatus, .someFailed)
        farm.agents["fe1"]!.pruneBackups()
        let before = farm.agents.mapValues(\.calls.count)
        let (outcome, _) = try await farm.engine(journal).rollback(of: farm.servers)
        guard case let .failed(message) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertTrue(message.hasPrefix("rollback refused, nothing was stopped: fe1: no backup of run run-1"), message)
        XCTAssertTrue(message.contains("osfarm resume run-1") && message.contains("osfarm move-db run -i /farm.yaml --to sqlold"), message)
        for (name, agent) in farm.agents {
            // fe3's apply never began: it has nothing to restore.
            XCTAssertEqual(agent.calls.dropFirst(before[name]!), name == "fe3" ? [] : [.listBackups], "\(name) was only asked for its backups")
        }
        XCTAssertTrue(["dc1", "fe1"].allSatisfy { farm.agents[$0]!.servicesRunning && farm.agents[$0]!.iisRunning }, "the moved servers still serve")
        XCTAssertNotEqual(RunState(entries: try journal.entries()).lifecycle, .rollingBack, "the rollback never started")
    }

    func testAStepAddedToTheTableAppearsInPlanRunAndRollback() async throws {
        let mark = RunbookStep(
            id: "mark", summary: "mark the server", deadline: { _ in StepDeadline(total: 5) },
            request: { _ in .ping(PingArguments()) }, judge: { _, _ in "marked" }, inverse: ["unmark"])
        let unmark = RunbookStep(
            id: "unmark", summary: "unmark the server", deadline: { _ in StepDeadline(total: 5) },
            request: { _ in .ping(PingArguments()) }, judge: { _, _ in "unmarked" })
        var runbook = Runbook.moveDatabase.inserting(mark, after: .repoint)
        runbook.steps[unmark.id] = unmark
        XCTAssertEqual(runbook.undefinedSteps, [])

        let farm = ScriptedFarm()
        let inventory = Inventory(path: "/farm.yaml", knownHostsPath: "/known_hosts", servers: farm.servers)
        let plan = MovePlan.make(inventory: inventory, selected: farm.servers, targets: farm.record.targets, options: farm.options, runbook: runbook)
        XCTAssertTrue(plan.text().contains("3. mark the server"), plan.text())
        XCTAssertTrue(plan.rollback.contains("unmark"))

        let journal = farm.newJournal()
        _ = try await farm.engine(journal, runbook: runbook).run()
        let finished = steps(try journal.entries(), "fe1", .finished)
        XCTAssertEqual(finished.firstIndex(of: "mark"), finished.firstIndex(of: "repoint").map { $0 + 1 })
        _ = try await farm.engine(journal, runbook: runbook).rollback(of: farm.servers)
        XCTAssertTrue(steps(try journal.entries(), "fe1", .finished).contains("rollback:unmark"))
    }

    func testEveryStepTheTableNamesIsDefined() {
        XCTAssertEqual(Runbook.moveDatabase.undefinedSteps, [])
    }
}
