@testable import FarmController
import FarmProtocol
import FarmSSH
import Foundation
import XCTest

/// Every step's start and end as the engine shows them, in order, across all servers.
final class StepTrace: RunObserver, @unchecked Sendable {
    struct Event: Equatable {
        var server: String
        var step: String
        var begins: Bool
    }

    private let lock = NSLock()
    private var recorded: [Event] = []
    private var current: [String: String] = [:]

    var events: [Event] { lock.withLock { recorded } }

    func step(_ server: String, _ step: String) {
        lock.withLock {
            current[server] = step
            recorded.append(Event(server: server, step: step, begins: true))
        }
    }

    func stepEnded(_ server: String) {
        lock.withLock {
            if let step = current.removeValue(forKey: server) { recorded.append(Event(server: server, step: step, begins: false)) }
        }
    }

    func note(_ message: String) {}
    func event(_ server: String, _ message: String) {}
    func suspend() {}
    func resume() {}
    func finish() {}

    /// Front-ends that have finished `step`.
    func finished(_ step: String) -> Set<String> {
        Set(events.filter { !$0.begins && $0.step == step && $0.server.hasPrefix("fe") }.map(\.server))
    }

    /// The most front-ends at once in a step that `counts`, within `events` (all by default).
    static func mostAtOnce(_ events: [Event], counts: (String) -> Bool) -> Int {
        var inStep: Set<String> = []
        var most = 0
        for event in events where event.server.hasPrefix("fe") && counts(event.step) {
            if event.begins { inStep.insert(event.server) } else { inStep.remove(event.server) }
            most = max(most, inStep.count)
        }
        return most
    }
}

/// A front-end that waits for its Configuration Tool turn gives its `--parallel` place to the next
/// front-end's backup, repoint and IIS start; turns never overlap; `--parallel` still bounds the
/// front-ends in their other steps; a stop while front-ends are prepared and waiting leaves a
/// journal that resume and rollback end.
final class TurnSchedulingTests: XCTestCase {
    private let tool = StepID.configurationTool.rawValue
    private let rollbackTool = StepID.configurationTool.journalNameInRollback
    /// The front-ends' apply steps other than the Configuration Tool (the stop phase runs every server at once).
    private let applyStepsBesideTheTurn = Set(
        [StepID.backup, .repoint, .startIIS, .startServices, .waitReady, .verify, .platformProof].map(\.rawValue))

    private func engine(
        _ farm: ScriptedFarm, _ journal: MemoryJournal, observer: any RunObserver, interrupt: OperatorInterrupt = OperatorInterrupt(),
        turnPriority: [String: Int] = [:]
    ) throws -> RunEngine {
        try RunEngine(
            record: farm.record, journal: journal, servers: farm.servers, agents: farm.agents, observer: observer, interrupt: interrupt,
            clock: farm.clock, adminPassword: nil, confirmRestore: nil, turnPriority: turnPriority)
    }

    /// Holds the first Configuration Tool run of the front-ends until `enough` other front-ends
    /// have started IIS (prepared), or 10 s of real time; then calls `then` and lets it go on.
    /// Returns how many had when it let go.
    private func holdFirstTurn(_ farm: ScriptedFarm, _ trace: StepTrace, until enough: Int, then: @escaping @Sendable () -> Void = {})
        -> PreparedCount
    {
        let prepared = PreparedCount()
        for (name, agent) in farm.agents where name.hasPrefix("fe") {
            agent.hold = { kind in
                guard kind == .runConfigurationTool, prepared.claimFirst() else { return }
                let giveUp = Date().addingTimeInterval(10)
                var others = 0
                while Date() < giveUp {
                    others = trace.finished(StepID.startIIS.rawValue).subtracting([name]).count
                    if others >= enough { break }
                    await Task.yield()
                }
                prepared.set(others)
                then()
            }
        }
        return prepared
    }

    func testAFrontEndWaitingForItsTurnLetsTheNextPrepareTurnsNeverOverlapAndParallelBoundsTheRest() async throws {
        var farm = ScriptedFarm(frontEnds: 7)
        farm.options.parallel = 3
        let trace = StepTrace()
        let prepared = holdFirstTurn(farm, trace, until: 6)
        let journal = farm.newJournal()
        let outcome = try await engine(farm, journal, observer: trace).run()
        XCTAssertEqual(outcome, .completed)
        XCTAssertTrue(farm.agents.values.allSatisfy { $0.database == "sqlnew" && $0.servicesRunning })

        // While the first front-end ran the Configuration Tool, the two waiting for their turn gave
        // their places on: every other front-end backed up, repointed and started IIS.
        XCTAssertEqual(prepared.value, 6, "front-ends prepared during the first turn (today's engine: 2, the ones holding places)")
        let events = trace.events
        let firstTurn = try XCTUnwrap(events.firstIndex { $0.server.hasPrefix("fe") && $0.step == tool && $0.begins })
        let firstTurnEnd = try XCTUnwrap(events[firstTurn...].firstIndex { $0.server == events[firstTurn].server && !$0.begins })
        let duringTurn = events[firstTurn...firstTurnEnd]
        // Some may have started IIS before the turn began (their turns are later): count up to its end.
        XCTAssertEqual(
            Set(
                events[..<firstTurnEnd].filter { $0.server.hasPrefix("fe") && $0.step == "start-iis" && !$0.begins && $0.server != events[firstTurn].server }
                    .map(\.server)
            ).count, 6)
        // The turn's holder kept its place: two preparing at most beside it.
        XCTAssertLessThanOrEqual(StepTrace.mostAtOnce(Array(duringTurn)) { self.applyStepsBesideTheTurn.contains($0) }, 2)

        XCTAssertEqual(StepTrace.mostAtOnce(events) { $0 == self.tool }, 1, "Configuration Tool runs never overlap")
        XCTAssertLessThanOrEqual(
            StepTrace.mostAtOnce(events) { self.applyStepsBesideTheTurn.contains($0) }, 3, "--parallel 3 bounds the front-ends in their other steps")
        XCTAssertEqual(farm.agents.values.map(\.overlappingConfigurationTools).reduce(0, +), 0)
        for server in farm.servers where server.role == .frontEnd {
            let order = events.filter { $0.server == server.name && $0.begins }.map(\.step)
            XCTAssertEqual(
                order, Runbook.moveDatabase.forwardSteps(on: RunServer(name: server.name, role: .frontEnd), options: farm.options).map(\.id.rawValue))
        }
    }

    /// Of the front-ends waiting for the turn, those with more services to start after it go
    /// first, so the last turn (whose finish ends the farm's downtime) is one with less to start.
    func testWaitingFrontEndsTakeTheTurnMostServicesToStartFirst() async throws {
        var farm = ScriptedFarm(frontEnds: 7)
        farm.options.parallel = 3
        let trace = StepTrace()
        let priority = ["fe1": 2, "fe2": 2, "fe3": 2, "fe4": 3, "fe5": 2, "fe6": 3, "fe7": 2]
        let run = try engine(farm, farm.newJournal(), observer: trace, turnPriority: priority)
        // The first turn is held until the six others wait for it (not only prepared: a front-end
        // that finished starting IIS may not have asked for the turn yet), or 10 s of real time.
        let waiting = PreparedCount()
        let turn = run.turn(Runbook.configurationToolTurn)
        for (name, agent) in farm.agents where name.hasPrefix("fe") {
            agent.hold = { kind in
                guard kind == .runConfigurationTool, waiting.claimFirst() else { return }
                let giveUp = Date().addingTimeInterval(10)
                var count = 0
                while Date() < giveUp {
                    count = await turn.waitingCount
                    if count >= 6 { break }
                    await Task.yield()
                }
                waiting.set(count)
            }
        }
        let outcome = try await run.run()
        XCTAssertEqual(outcome, .completed)
        XCTAssertEqual(waiting.value, 6, "every other front-end waited for the first turn")
        let turns = trace.events.filter { $0.server.hasPrefix("fe") && $0.step == tool && $0.begins }.map(\.server)
        XCTAssertEqual(turns.count, 7)
        let afterFirst = Array(turns.dropFirst())
        let higher = Set(["fe4", "fe6"]).subtracting([turns[0]])
        XCTAssertEqual(Set(afterFirst.prefix(higher.count)), higher, "turns: \(turns)")
        XCTAssertEqual(priority[turns.last ?? ""], 2, "turns: \(turns)")
        XCTAssertEqual(StepTrace.mostAtOnce(trace.events) { $0 == self.tool }, 1, "Configuration Tool runs never overlap")
    }

    func testTheTurnGoesToTheHighestPriorityThenToTheFirstToArrive() async {
        let turn = AsyncTurn()
        await turn.acquire()
        let order = OrderLog()
        var tasks: [Task<Void, Never>] = []
        for (name, priority) in [("a", 1), ("b", 5), ("c", 1), ("d", 5)] {
            tasks.append(
                Task {
                    await turn.acquire(priority: priority)
                    order.append(name)
                    await turn.release()
                })
            while await turn.waitingCount < tasks.count { await Task.yield() }
        }
        await turn.release()
        for task in tasks { await task.value }
        XCTAssertEqual(order.names, ["b", "d", "a", "c"])
    }

    private enum Stop: CaseIterable {
        case signal, windowEnd
    }

    /// A run stopped while the first front-end runs its Configuration Tool and four others are prepared and waiting.
    private func stoppedWhilePrepared(_ stop: Stop) async throws -> (ScriptedFarm, MemoryJournal) {
        var farm = ScriptedFarm(frontEnds: 7)
        farm.options.parallel = 3
        farm.options.window = MaintenanceWindow(start: nil, end: farm.clock.now().addingTimeInterval(86_400))
        farm.options.serverBudget = 1
        let interrupt = OperatorInterrupt()
        let trace = StepTrace()
        let clock = farm.clock
        let prepared = holdFirstTurn(farm, trace, until: 4) {
            switch stop {
            case .signal: interrupt.request("SIGTERM")
            case .windowEnd: clock.advance(2 * 86_400)
            }
        }
        let journal = farm.newJournal()
        let outcome = try await engine(farm, journal, observer: trace, interrupt: interrupt).run()
        XCTAssertGreaterThanOrEqual(prepared.value, 4)
        guard case let .stopped(message) = outcome else {
            XCTFail("\(stop): \(outcome)")
            return (farm, journal)
        }
        XCTAssertTrue(message.hasPrefix(stop == .signal ? "stopped by SIGTERM" : "the maintenance window ended"), message)
        XCTAssertTrue(message.contains("prepared, waiting for their turn: "), message)
        XCTAssertTrue(message.contains("osfarm resume run-1") && message.contains("osfarm rollback run-1"), message)

        let entries = try journal.entries()
        let turns = entries.filter { $0.step == tool && $0.event == .started && $0.server?.hasPrefix("fe") == true }
        XCTAssertEqual(turns.count, 1, "no turn taken after the stop")
        let holder = try XCTUnwrap(turns.first?.server)
        XCTAssertEqual(
            entries.filter { $0.server == holder && $0.event == .finished }.map(\.step).suffix(4),
            ["start-services", "wait-ready", "verify", "platform-proof"], "the front-end past its turn finished")
        let waiting = Set(
            entries.filter { $0.step == "start-iis" && $0.event == .finished && $0.server != holder && $0.server?.hasPrefix("fe") == true }
                .compactMap(\.server))
        XCTAssertGreaterThanOrEqual(waiting.count, 4)
        for server in waiting { XCTAssertTrue(message.contains(server), "\(server) is named: \(message)") }
        XCTAssertEqual(RunState(entries: entries).lifecycle, .stopped)
        return (farm, journal)
    }

    func testAStopWhileFrontEndsArePreparedAndWaitingLeavesAJournalThatResumeEnds() async throws {
        for stop in Stop.allCases {
            var (farm, journal) = try await stoppedWhilePrepared(stop)
            let before = try journal.entries()
            let done = Set(before.filter { $0.event == .finished && $0.server != nil }.map { "\($0.server!)/\($0.step)" })
            for agent in farm.agents.values { agent.hold = nil }
            farm.options.window = nil
            let trace = StepTrace()
            let outcome = try await engine(farm, journal, observer: trace).run()
            XCTAssertEqual(outcome, .completed, "\(stop)")
            let again = try journal.entries().dropFirst(before.count).filter {
                $0.event == .started && done.contains("\($0.server ?? "")/\($0.step)")
            }
            XCTAssertEqual(again.map { "\($0.server ?? "")/\($0.step)" }, [], "\(stop): a done step ran again")
            XCTAssertTrue(farm.agents.values.allSatisfy { $0.database == "sqlnew" && $0.servicesRunning }, "\(stop)")
            XCTAssertEqual(StepTrace.mostAtOnce(trace.events) { $0 == self.tool }, 1, "\(stop)")
        }
    }

    func testAStopWhileFrontEndsArePreparedAndWaitingLeavesAJournalThatRollbackEnds() async throws {
        for stop in Stop.allCases {
            var (farm, journal) = try await stoppedWhilePrepared(stop)
            for agent in farm.agents.values { agent.hold = nil }
            farm.options.window = nil
            let trace = StepTrace()
            let (outcome, _) = try await engine(farm, journal, observer: trace).rollback(of: farm.servers)
            XCTAssertEqual(outcome, .completed, "\(stop)")
            XCTAssertTrue(farm.agents.values.allSatisfy { $0.database == "sqlold" && $0.servicesRunning }, "\(stop)")
            XCTAssertEqual(RunState(entries: try journal.entries()).lifecycle, .rolledBack, "\(stop)")
            XCTAssertEqual(StepTrace.mostAtOnce(trace.events) { $0 == self.rollbackTool }, 1, "\(stop)")
        }
    }
}

/// How many front-ends were prepared when the first turn let go; and which turn is the first.
final class PreparedCount: @unchecked Sendable {
    private let lock = NSLock()
    private var claimed = false
    private var count = -1

    var value: Int { lock.withLock { count } }
    func set(_ value: Int) { lock.withLock { count = value } }
    /// True for the first caller only.
    func claimFirst() -> Bool {
        lock.withLock {
            defer { claimed = true }
            return !claimed
        }
    }
}

/// Names in the order tasks appended them.
final class OrderLog: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [String] = []
    var names: [String] { lock.withLock { recorded } }
    func append(_ name: String) { lock.withLock { recorded.append(name) } }
}
