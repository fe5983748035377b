import FarmController
import FarmProtocol
import FarmSimulator
import FarmSSH
import Foundation
import XCTest

/// The controller's reading of agent output while data flows, over real sshd: an agent that keeps
/// talking is cut at its request's deadline, a line that never ends at the line limit, and a server
/// that stops answering is declared lost by its keepalives, whatever the request's own deadline.
/// Meanwhile another server of the same farm carries on.
final class SessionDeadlineTests: XCTestCase {
    /// A hostile "agent": the real agent's hello, then it reads one request and does `mode` forever.
    private static func hostileAgent(in directory: String) throws -> String {
        let path = directory + "/hostile-agent.sh"
        let progress = #"{"event":{"message":"still working","step":"hold"},"id":"1","type":"progress"}"#
        let script = """
            #!/bin/sh
            '\(TestFarm.binary("osfarm-agent"))' serve < /dev/null | head -n 1 | sed 's/"heartbeatSeconds":[0-9.]*/"heartbeatSeconds":1/'
            head -n 1 > /dev/null
            case "$1" in
              silent) exec cat > /dev/null ;;
              endless-line) exec tr '\\000' x < /dev/zero ;;
              endless-stderr) exec cat /dev/zero >&2 ;;
              progress-flood) exec yes '\(progress)' ;;
              progress-each-second) while :; do echo '\(progress)' || exit 0; sleep 1; done ;;
            esac
            """
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return path
    }

    /// fe1 runs the hostile agent in `mode`; dc1 is a real agent.
    private func farm(_ mode: String) throws -> (TestFarm, String) {
        let scripts = NSTemporaryDirectory() + "osfarm-hostile-\(UUID().uuidString.prefix(8))"
        let script = try Self.hostileAgent(in: scripts)
        // A plain farm: the hostile agent is a Linux script, which a simulated Windows server would not run.
        let farm = try TestFarm(frontEnds: 1, profile: nil) { specs in specs[1].forcedCommand = .command("\(script) \(mode)") }
        return (farm, scripts)
    }

    /// A request on the hostile fe1 with the given deadlines, while dc1 answers a 2 s request;
    /// returns fe1's error and how long it took.
    private func cut(_ mode: String, timeout: Double, overall: Double) async throws -> (AgentSessionError, Double) {
        let (farm, scripts) = try farm(mode)
        defer {
            farm.shutdown()
            try? FileManager.default.removeItem(atPath: scripts)
        }
        let talkative = try await farm.session("fe1")
        let healthy = try await farm.session("dc1")
        let started = Date()
        async let other = Self.timedPing(healthy)
        var failure: AgentSessionError?
        do {
            let data = try await talkative.perform(.ping(PingArguments(holdMilliseconds: 100)), timeout: timeout, overall: overall)
            XCTFail("\(mode): a talkative agent's request must not succeed: \(data)")
        } catch {
            failure = error
        }
        let elapsed = Date().timeIntervalSince(started)
        let otherElapsed = try await other
        XCTAssertLessThan(otherElapsed, 5, "\(mode): dc1 carried on meanwhile")
        let closing = Date()
        await talkative.close()
        XCTAssertLessThan(Date().timeIntervalSince(closing), 6, "\(mode): closing a talkative session is bounded")
        await healthy.close()
        return (try XCTUnwrap(failure), elapsed)
    }

    /// A 2 s ping; how long it took.
    private static func timedPing(_ session: AgentSession) async throws -> Double {
        let begun = Date()
        guard case .pong = try await session.perform(.ping(PingArguments(holdMilliseconds: 2000)), timeout: 10) else { throw SSHError.cancelled }
        return Date().timeIntervalSince(begun)
    }

    func testAnEndlessLineIsCutAtTheLineLimit() async throws {
        let (error, elapsed) = try await cut("endless-line", timeout: 30, overall: 60)
        guard case let .protocolViolation(detail) = error else { return XCTFail("\(error)") }
        XCTAssertTrue(detail.contains("over the \(WireCodec.maxLineBytes)-byte limit"), detail)
        XCTAssertLessThan(elapsed, 10, "long before either deadline")
    }

    func testAnEndlessStderrIsCutAtTheSilenceDeadline() async throws {
        let (error, elapsed) = try await cut("endless-stderr", timeout: 3, overall: 60)
        guard case let .ssh(.timedOut(phase, seconds)) = error else { return XCTFail("\(error)") }
        XCTAssertEqual(seconds, 3)
        XCTAssertTrue(phase.contains("waiting for the agent's answer to ping"), phase)
        XCTAssertGreaterThanOrEqual(elapsed, 2.9)
        XCTAssertLessThan(elapsed, 5)
    }

    /// A server frozen with its connection open: not one byte for three of its heartbeats. It
    /// stopped answering (exit 4 in a run), which is not an agent that answered with a failure.
    func testAnAgentThatFallsSilentIsAServerThatStoppedAnsweringNotAFailedStep() async throws {
        let (error, elapsed) = try await cut("silent", timeout: 3, overall: 60)
        guard case let .stoppedAnswering(request, seconds, heartbeat) = error else { return XCTFail("\(error)") }
        XCTAssertEqual(request, "ping (request 1)")
        XCTAssertEqual(seconds, 3)
        XCTAssertEqual(heartbeat, 1)
        XCTAssertTrue(error.isServerLost && error.isUnreachable, "exit code 4 territory")
        XCTAssertEqual(error.code, "stopped_answering")
        XCTAssertTrue(error.description.hasPrefix("the server stopped answering"), error.description)
        XCTAssertGreaterThanOrEqual(elapsed, 2.9)
        XCTAssertLessThan(elapsed, 5)
    }

    func testAFloodOfProgressEventsIsCutAtTheWholeRequestDeadline() async throws {
        let (error, elapsed) = try await cut("progress-flood", timeout: 3, overall: 4)
        guard case let .ssh(.timedOut(phase, seconds)) = error else { return XCTFail("\(error)") }
        XCTAssertEqual(seconds, 4)
        XCTAssertEqual(phase, "ping (request 1) as a whole")
        XCTAssertTrue(error.description.contains("did not finish within 4 s"), error.description)
        XCTAssertGreaterThanOrEqual(elapsed, 3.9)
        XCTAssertLessThan(elapsed, 6)
    }

    func testOneProgressEventASecondIsCutAtTheWholeRequestDeadline() async throws {
        let (error, elapsed) = try await cut("progress-each-second", timeout: 3, overall: 4)
        guard case let .ssh(.timedOut(phase, _)) = error else { return XCTFail("\(error)") }
        XCTAssertEqual(phase, "ping (request 1) as a whole", "silence never reached 3 s; the whole request did reach 4")
        XCTAssertGreaterThanOrEqual(elapsed, 3.9)
        XCTAssertLessThan(elapsed, 6)
    }

    func testAServerThatStopsAnsweringIsLostWithinItsKeepalivesWhateverTheRequestDeadline() async throws {
        let farm = try TestFarm(frontEnds: 1)
        defer { farm.shutdown() }
        let interval = 1, count = 2
        var settings = farm.settings(timeout: 10)
        settings.keepaliveInterval = interval
        settings.keepaliveCount = count
        let fe1 = try farm.server("fe1"), dc1 = try farm.server("dc1")
        let frozen = try await AgentSession.open(fe1, options: settings.options(for: fe1), timeout: 10)
        let healthy = try await AgentSession.open(dc1, options: settings.options(for: dc1), timeout: 10)
        // A request with deadlines far away: 60 s of silence, 120 s in all.
        let request = Task { try await frozen.perform(.ping(PingArguments(holdMilliseconds: 30_000)), timeout: 60, overall: 120) }
        try await Task.sleep(nanoseconds: 500_000_000)
        let sshd = try farm.simulated("fe1").sshdPID
        ProcessTree.signalTree(sshd, SIGSTOP)
        defer { ProcessTree.signalTree(sshd, SIGCONT) }
        let stopped = Date()
        // dc1 carries on while fe1 is frozen.
        guard case .pong = try await healthy.perform(.ping(PingArguments(holdMilliseconds: 1500)), timeout: 10) else { return XCTFail() }
        do {
            let data = try await request.value
            XCTFail("a frozen server's request must not succeed: \(data)")
        } catch let error as AgentSessionError {
            let elapsed = Date().timeIntervalSince(stopped)
            guard case let .connectionLost(.connectionLost(reason)) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("answered none of \(count) SSH keepalives sent \(interval) s apart"), reason)
            XCTAssertTrue(error.isUnreachable, "lost, not an agent failure: exit code 4 territory")
            XCTAssertEqual(error.code, "connection_lost")
            XCTAssertGreaterThanOrEqual(elapsed, Double(count - 1) * Double(interval))
            XCTAssertLessThan(elapsed, Double((count + 1) * interval) + 1.5, "within about count × interval, not the 60 s deadline")
        }
        // The session stays lost: a next request says so at once.
        let again = Date()
        do {
            _ = try await frozen.perform(.ping(PingArguments()), timeout: 30)
            XCTFail("a lost session must not carry a request")
        } catch {
            XCTAssertTrue(error.isConnectionLost, "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(again), 1)
        ProcessTree.signalTree(sshd, SIGCONT)
        await frozen.close()
        await healthy.close()
    }
}
