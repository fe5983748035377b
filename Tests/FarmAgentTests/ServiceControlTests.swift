@testable import FarmAgent
import FarmProtocol
import Foundation
import XCTest

/// `ServiceControl` against a scripted `sc.exe` that answers with the Windows fixtures: which
/// programs it runs for a change (each one a process on the server), and how it polls.
final class ServiceControlTests: XCTestCase {
    private func fixture(_ name: String) throws -> String {
        try ToolOutputParserTests.fixture(name)
    }

    /// A service that is running, stops when asked, and is STOPPED from the `pendingQueries`+1-th
    /// query after the stop on.
    private func stoppingService(pendingQueries: Int) throws -> ScriptedServiceControl {
        let running = try fixture("sc-queryex-running.txt")
        let pending = try fixture("sc-queryex-stop-pending.txt")
        let stopped = try fixture("sc-query-stopped.txt")
        let configuration = try fixture("sc-qc-w3svc.txt")
        return ScriptedServiceControl { arguments, history in
            let stopsSoFar = history.filter { $0.first == "stop" }.count
            switch arguments.first {
            case "qc": return CommandOutput(exitCode: 0, output: configuration)
            case "stop": return CommandOutput(exitCode: 0, output: pending)
            case "queryex":
                guard stopsSoFar > 0 else { return CommandOutput(exitCode: 0, output: running) }
                let queriesAfterStop = history.reversed().prefix { $0.first != "stop" }.filter { $0.first == "queryex" }.count
                return CommandOutput(exitCode: 0, output: queriesAfterStop < pendingQueries ? pending : stopped)
            default: return CommandOutput(exitCode: 1639, output: "")
            }
        }
    }

    func testAStopRunsStopConfigAndThenOnlyThePollsItNeeds() throws {
        let runner = try stoppingService(pendingQueries: 1)
        let outcome = try ServiceControl(runner: runner, clock: VirtualClock()).stop("OutSystems Deployment Service", timeout: 10) { _ in }
        guard case let .changed(status) = outcome else { return XCTFail("expected a change, got \(outcome)") }
        XCTAssertEqual(status.state, .stopped)
        // No query before `sc stop` (its answer says what one would), and the status block it
        // prints already says STOP_PENDING: no query straight after it either.
        XCTAssertEqual(runner.calls.map { $0.first ?? "" }, ["stop", "qc", "queryex", "queryex"])
    }

    func testAStopThatEndsAtOnceIsSeenOnTheFirstPoll() throws {
        let runner = try stoppingService(pendingQueries: 0)
        _ = try ServiceControl(runner: runner, clock: VirtualClock()).stop("OutSystems Deployment Service", timeout: 10) { _ in }
        XCTAssertEqual(runner.calls.map { $0.first ?? "" }, ["stop", "qc", "queryex"])
    }

    /// What `sc stop` and `sc start` refuse with stands for the query they no longer follow:
    /// 1062 (not started) is already stopped, 1056 already running, 1060 not installed.
    func testTheRefusalsOfStopAndStartSayWhatAQueryWould() throws {
        let notStarted = try fixture("sc-stop-1062.txt")
        let alreadyRunning = try fixture("sc-start-1056.txt")
        let notInstalled = try fixture("sc-query-1060.txt")
        let running = try fixture("sc-queryex-running.txt")
        let configuration = try fixture("sc-qc-w3svc.txt")
        let stopped = ScriptedServiceControl { arguments, _ in
            arguments.first == "qc" ? CommandOutput(exitCode: 0, output: configuration) : CommandOutput(exitCode: 1062, output: notStarted)
        }
        let outcome = try ServiceControl(runner: stopped, clock: VirtualClock()).stop("W3SVC", timeout: 10) { _ in }
        XCTAssertEqual(outcome, .alreadyThere(ServiceStatus(name: "W3SVC", state: .stopped, startType: .automatic, kind: ServiceCatalog.kind(of: "W3SVC"))))
        XCTAssertEqual(stopped.calls.map { $0.first ?? "" }, ["stop", "qc"])

        let started = ScriptedServiceControl { arguments, _ in
            switch arguments.first {
            case "qc": return CommandOutput(exitCode: 0, output: configuration)
            case "start": return CommandOutput(exitCode: 1056, output: alreadyRunning)
            default: return CommandOutput(exitCode: 0, output: running)
            }
        }
        guard case let .alreadyThere(status) = try ServiceControl(runner: started, clock: VirtualClock()).start("W3SVC", timeout: 10, progress: { _ in })
        else { return XCTFail("not already there") }
        XCTAssertEqual(status.state, .running)
        XCTAssertNotNil(status.processID, "the query after 1056 gives the process")
        XCTAssertEqual(started.calls.map { $0.first ?? "" }, ["qc", "start", "queryex", "qc"])

        let missing = ScriptedServiceControl { _, _ in CommandOutput(exitCode: 1060, output: notInstalled) }
        let control = ServiceControl(runner: missing, clock: VirtualClock(), readings: SessionReadings())
        XCTAssertEqual(try control.stop("OutSystems SMS Connector Service", timeout: 10) { _ in }, .skipped("OutSystems SMS Connector Service: not installed"))
        XCTAssertEqual(
            try control.start("OutSystems SMS Connector Service", timeout: 10) { _ in }, .skipped("OutSystems SMS Connector Service: not installed"))
        XCTAssertEqual(missing.calls.map { $0.first ?? "" }, ["stop"], "known not installed after the first answer")
    }

    /// A service that is STOP_PENDING refuses `sc stop` with 1061: its state is read and waited on,
    /// and a stop that outlives the deadline still reaches the stuck-service handling.
    func testAStopRefusedWith1061ReadsTheStateAndWaits() throws {
        let clock = VirtualClock()
        let pending = try fixture("sc-queryex-stop-pending.txt")
        let stopped = try fixture("sc-query-stopped.txt")
        let configuration = try fixture("sc-qc-w3svc.txt")
        let stopsAt = clock.now.addingTimeInterval(1)
        let runner = ScriptedServiceControl { arguments, _ in
            switch arguments.first {
            case "qc": return CommandOutput(exitCode: 0, output: configuration)
            case "stop":
                return CommandOutput(
                    exitCode: 1061, output: "[SC] ControlService FAILED 1061:\r\n\r\nThe service cannot accept control messages at this time.\r\n")
            default: return CommandOutput(exitCode: 0, output: clock.now < stopsAt ? pending : stopped)
            }
        }
        let outcome = try ServiceControl(runner: runner, clock: clock).stop("W3SVC", timeout: 10) { _ in }
        guard case let .changed(status) = outcome else { return XCTFail("expected a change, got \(outcome)") }
        XCTAssertEqual(status.state, .stopped)
        XCTAssertEqual(Array(runner.calls.map { $0.first ?? "" }.prefix(4)), ["stop", "queryex", "qc", "queryex"])
        XCTAssertEqual(runner.calls.filter { $0.first == "stop" }.count, 1, "a stopping service is not asked again")
    }

    /// A service that stops when asked and stays STOP_PENDING until `seconds` of `clock` have gone.
    private func service(stoppingAfter seconds: Double, on clock: VirtualClock) throws -> ScriptedServiceControl {
        let running = try fixture("sc-queryex-running.txt")
        let pending = try fixture("sc-queryex-stop-pending.txt")
        let stopped = try fixture("sc-query-stopped.txt")
        let configuration = try fixture("sc-qc-w3svc.txt")
        let stopsAt = clock.now.addingTimeInterval(seconds)
        return ScriptedServiceControl { arguments, history in
            switch arguments.first {
            case "qc": return CommandOutput(exitCode: 0, output: configuration)
            case "stop": return CommandOutput(exitCode: 0, output: pending)
            case "queryex":
                guard history.contains(where: { $0.first == "stop" }) else { return CommandOutput(exitCode: 0, output: running) }
                return CommandOutput(exitCode: 0, output: clock.now < stopsAt ? pending : stopped)
            default: return CommandOutput(exitCode: 1639, output: "")
            }
        }
    }

    /// Ten minutes of a stuck service on a virtual clock: the error at the deadline names its
    /// state, and the polls follow the schedule (every 0.05 s for half a second, 0.1 s to one,
    /// 0.25 s to five, then 0.5 s: about 10 + 5 + 16 + 1190), not one per millisecond nor one per minute.
    func testAStuckServiceFailsAtItsDeadlineNamingItsStateAfterTheScheduledPolls() throws {
        let clock = VirtualClock()
        let started = clock.now
        let runner = try service(stoppingAfter: .infinity, on: clock)
        XCTAssertThrowsError(
            try ServiceControl(runner: runner, clock: clock).stop("OutSystems Deployment Service", timeout: 600) { _ in }
        ) { error in
            XCTAssertEqual((error as? AgentError)?.code, .timedOut)
            XCTAssertTrue((error as? AgentError)?.message.contains("STOP_PENDING after 600 s") ?? false, "\(error)")
        }
        XCTAssertEqual(clock.now.timeIntervalSince(started), 600, accuracy: 0.5)
        let polls = runner.calls.drop { $0.first != "stop" }.filter { $0.first == "queryex" }.count
        XCTAssertTrue((1215...1227).contains(polls), "\(polls) polls")
    }

    /// A service that takes 30 s to stop is waited for and seen stopped within a poll of it.
    func testASlowStopIsWaitedForAndSeenWithinAPoll() throws {
        let clock = VirtualClock()
        let started = clock.now
        let runner = try service(stoppingAfter: 30, on: clock)
        let outcome = try ServiceControl(runner: runner, clock: clock).stop("OutSystems Deployment Service", timeout: 120) { _ in }
        guard case let .changed(status) = outcome else { return XCTFail("expected a change, got \(outcome)") }
        XCTAssertEqual(status.state, .stopped)
        XCTAssertEqual(clock.now.timeIntervalSince(started), 30, accuracy: 0.5)
    }

    func testPollingStartsOftenAndSlowsDownForSlowServices() {
        XCTAssertEqual(ServiceControl.pollInterval(afterWaiting: 0), 0.05)
        XCTAssertEqual(ServiceControl.pollInterval(afterWaiting: 0.49), 0.05)
        XCTAssertEqual(ServiceControl.pollInterval(afterWaiting: 0.5), 0.1)
        XCTAssertEqual(ServiceControl.pollInterval(afterWaiting: 0.99), 0.1)
        XCTAssertEqual(ServiceControl.pollInterval(afterWaiting: 1), 0.25)
        XCTAssertEqual(ServiceControl.pollInterval(afterWaiting: 30), 0.5)
    }
}

/// `sc.exe` answered by a closure; records every argv it was run with.
final class ScriptedServiceControl: CommandRunner, @unchecked Sendable {
    private let lock = NSLock()
    private var history: [[String]] = []
    private let answer: ([String], [[String]]) -> CommandOutput

    init(answer: @escaping ([String], [[String]]) -> CommandOutput) { self.answer = answer }

    var calls: [[String]] { lock.withLock { history } }

    func run(_ program: String, _ arguments: [String], timeout: Double, onLine: ((String) -> Void)?) throws(AgentError) -> CommandOutput {
        lock.withLock {
            let output = answer(arguments, history)
            history.append(arguments)
            return output
        }
    }
}

/// Time that passes only when the code under test sleeps.
final class VirtualClock: AgentClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current = Date(timeIntervalSinceReferenceDate: 0)

    var now: Date { lock.withLock { current } }
    func sleep(seconds: Double) { lock.withLock { current += seconds } }
}
