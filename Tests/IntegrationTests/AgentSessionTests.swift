import FarmController
import FarmProtocol
import FarmSimulator
import FarmSSH
import Foundation
import XCTest

/// The controller's session with a real agent behind a real sshd, when things go wrong.
final class AgentSessionTests: XCTestCase {
    func testAnAgentKilledMidRequestEndedWithoutAResult() async throws {
        let farm = try TestFarm(frontEnds: 0)
        defer { farm.shutdown() }
        let server = try farm.server("dc1")
        let session = try await AgentSession.open(server, options: farm.settings().options(for: server), timeout: 10)
        let agentPID = session.hello.host.processID
        XCTAssertTrue(ProcessTree.isAlive(agentPID))
        let request = Task { try await session.perform(.ping(PingArguments(holdMilliseconds: 20_000)), timeout: 30) }
        try await Task.sleep(nanoseconds: 500_000_000)
        XCTAssertEqual(kill(agentPID, SIGKILL), 0)
        do {
            let data = try await request.value
            XCTFail("a killed agent's request must not succeed: \(data)")
        } catch let error as AgentSessionError {
            guard case let .endedWithoutResult(requestName, exit, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(requestName, "ping (request 1)")
            // sshd reports the signal, or the login shell's 128+9 when it did not exec the agent.
            XCTAssertTrue(exit.contains("KILL") || exit.contains("137"), exit)
            XCTAssertTrue(error.description.contains("agent ended without a result"), error.description)
        }
        await session.close()
    }

    func testAnAgentThatExitsZeroWithoutAnsweringIsNotASuccess() async throws {
        // The "agent" reads one request and exits 0 without a word: libssh2 reports status 0.
        let farm = try TestFarm(frontEnds: 0, profile: nil) { specs in
            specs[0].forcedCommand = .command("/bin/sh -c 'echo \"$(\(TestFarm.agentCommand) < /dev/null | head -n 1)\"; head -n 1 >/dev/null; exit 0'")
        }
        defer { farm.shutdown() }
        let server = try farm.server("dc1")
        let session = try await AgentSession.open(server, options: farm.settings().options(for: server), timeout: 10)
        do {
            _ = try await session.perform(.inspect)
            XCTFail("no result must not be a success")
        } catch let error as AgentSessionError {
            guard case let .endedWithoutResult(_, exit, _) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(exit.contains("exit status 0"), exit)
        }
        await session.close()
    }

    func testATenMegabyteStderrFloodDoesNotStallTheSession() async throws {
        let farm = try TestFarm(frontEnds: 0, profile: nil) { specs in
            specs[0].forcedCommand = .command("/bin/sh -c 'head -c 10000000 /dev/zero >&2; exec \(TestFarm.agentCommand)'")
        }
        defer { farm.shutdown() }
        let server = try farm.server("dc1")
        let session = try await AgentSession.open(server, options: farm.settings().options(for: server), timeout: 20)
        guard case .inspection = try await session.perform(.inspect) else { return XCTFail("no inspection") }
        XCTAssertGreaterThanOrEqual(session.agentStderr.totalBytes, 10_000_000)
        await session.close()
    }

    func testProgressEventsArriveBeforeTheResult() async throws {
        let farm = try TestFarm(frontEnds: 0)
        defer { farm.shutdown() }
        let server = try farm.server("dc1")
        let session = try await AgentSession.open(server, options: farm.settings().options(for: server), timeout: 10)
        var events: [ProgressEvent] = []
        let result = try await session.perform(.ping(PingArguments(holdMilliseconds: 50))) { events.append($0) }
        guard case .pong = result else { return XCTFail("\(result)") }
        XCTAssertEqual(events.map(\.step), ["ping"])
        await session.close()
    }

    func testARequestDeadlineIsEnforced() async throws {
        let farm = try TestFarm(frontEnds: 0)
        defer { farm.shutdown() }
        let server = try farm.server("dc1")
        let session = try await AgentSession.open(server, options: farm.settings().options(for: server), timeout: 10)
        let started = Date()
        do {
            _ = try await session.perform(.ping(PingArguments(holdMilliseconds: 10_000)), timeout: 1)
            XCTFail("the deadline should have passed")
        } catch let error as AgentSessionError {
            guard case .ssh(.timedOut) = error else { return XCTFail("\(error)") }
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 2)
        let closing = Date()
        await session.close()
        XCTAssertLessThan(Date().timeIntervalSince(closing), 5, "teardown is bounded")
    }
}
