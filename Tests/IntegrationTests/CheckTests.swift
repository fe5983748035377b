import FarmController
import FarmProtocol
import FarmSimulator
import FarmSSH
import Foundation
import XCTest

/// `osfarm check` over real sshd and the real agent.
final class CheckTests: XCTestCase {
    func testThirtyTwoServersInOneRun() throws {
        let farm = try TestFarm(frontEnds: 31)
        defer { farm.shutdown() }
        // 32 agents starting at once on a busy 2-core machine can take more than the default 10 s.
        let result = try osfarm(["check", "-i", farm.record.inventory, "--json", "--timeout", "60"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let document = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(document["schema"] as? String, "osfarm.check/v1")
        let servers = try XCTUnwrap(document["servers"] as? [[String: Any]])
        XCTAssertEqual(servers.count, 32)
        for (row, simulated) in zip(servers, farm.record.servers) {
            XCTAssertEqual(row["name"] as? String, simulated.name)
            XCTAssertEqual(row["status"] as? String, "ok", "\(row)")
            XCTAssertEqual(row["hostKeyFingerprint"] as? String, simulated.hostKeyFingerprint, "the key sshd really has")
            XCTAssertEqual(row["agentVersion"] as? String, OsfarmVersion.current)
            XCTAssertNotNil(row["roundTripMilliseconds"] as? Double)
        }
        XCTAssertEqual((document["summary"] as? [String: Int])?["ok"], 32)

        let table = try osfarm(["check", "-i", farm.record.inventory, "--limit", "role:fe,!fe3*", "--timeout", "60"])
        XCTAssertEqual(table.status, 0, table.stderr)
        XCTAssertTrue(table.stdout.hasPrefix("SERVER"), table.stdout)
        XCTAssertTrue(table.stdout.contains("28 servers: 28 ok, 0 failed, 0 unreachable"), table.stdout)
        XCTAssertFalse(table.stdout.contains("dc1 "), table.stdout)
    }

    func testAServerThatStopsAnsweringFailsAtItsDeadlineWhileTheOthersSucceed() async throws {
        let farm = try TestFarm(frontEnds: 2)
        defer { farm.shutdown() }
        let frozen = try farm.simulated("fe1").sshdPID
        ProcessTree.signalTree(frozen, SIGSTOP)
        defer { ProcessTree.signalTree(frozen, SIGCONT) }
        let timeout = 4.0
        let started = Date()
        let checks = await FarmCheck.run(try farm.inventory().servers, settings: farm.settings(timeout: timeout))
        let total = Date().timeIntervalSince(started)
        XCTAssertEqual(checks.map(\.status), [.ok, .unreachable, .ok])
        let stuck = checks[1]
        guard case .unreachable(.timedOut) = stuck.error else { return XCTFail("\(String(describing: stuck.error))") }
        XCTAssertTrue(stuck.error!.description.contains("deadline"), stuck.error!.description)
        XCTAssertLessThanOrEqual(stuck.elapsedMilliseconds / 1000, timeout + 1)
        XCTAssertLessThanOrEqual(total, timeout + 1)
        XCTAssertEqual(CheckReport(checks).exitStatus, .unreachable)
    }

    /// A server that goes away while the check waits on it (its sshd and everything under it
    /// die) is reported unreachable when the connection drops, not at the deadline, and the
    /// others are still checked.
    func testAServerLostDuringTheCheckIsUnreachableAtOnceWhileTheOthersSucceed() async throws {
        let farm = try TestFarm(frontEnds: 2)
        defer { farm.shutdown() }
        let lost = try farm.simulated("fe1").sshdPID
        ProcessTree.signalTree(lost, SIGSTOP)
        let timeout = 30.0
        let servers = try farm.inventory().servers, settings = farm.settings(timeout: timeout)
        let started = Date()
        let check = Task { await FarmCheck.run(servers, settings: settings) }
        try await Task.sleep(nanoseconds: 1_500_000_000)
        // SIGKILL while stopped: a SIGTERM would let sshd accept the waiting connection first.
        ProcessTree.signalTree(lost, SIGKILL)
        ProcessTree.terminate(lost, grace: 0)
        let checks = await check.value
        let total = Date().timeIntervalSince(started)
        XCTAssertEqual(checks.map(\.status), [.ok, .unreachable, .ok])
        let error = try XCTUnwrap(checks[1].error)
        if case .unreachable(.timedOut) = error { XCTFail("waited for the deadline: \(error)") }
        XCTAssertTrue(error.description.contains("connection to the server lost: SSH handshake with"), error.description)
        XCTAssertLessThan(total, 10, "ended by the dropped connection, not the \(timeout) s deadline")
        XCTAssertEqual(CheckReport(checks).exitStatus, .unreachable)
        let table = CheckReport(checks).table()
        XCTAssertTrue(table.contains("fe1: \(error.description)"), table)
        XCTAssertTrue(table.contains("3 servers: 2 ok, 0 failed, 1 unreachable"), table)
    }

    func testExitCodesSayWhatHappened() throws {
        // fe1 forces the agent's path unquoted: cmd.exe runs C:\Program, which is not there.
        let farm = try TestFarm(frontEnds: 1) { specs in specs[1].forcedCommand = .command(#"C:\Program Files\osfarm\osfarm-agent.exe serve"#) }
        defer { farm.shutdown() }
        // fe1's "agent" never starts: reached, but failed.
        let failed = try osfarm(["check", "-i", farm.record.inventory])
        XCTAssertEqual(failed.status, 1, failed.stdout)
        XCTAssertTrue(failed.stdout.contains("fe1: agent ended before saying hello"), failed.stdout)
        XCTAssertEqual(try osfarm(["check", "-i", farm.record.inventory, "--limit", "dc1"]).status, 0)

        // dc1's sshd is gone: unreachable wins.
        ProcessTree.terminate(try farm.simulated("dc1").sshdPID)
        let unreachable = try osfarm(["check", "-i", farm.record.inventory, "--json"])
        XCTAssertEqual(unreachable.status, 4, unreachable.stdout)
        XCTAssertTrue(unreachable.stdout.contains("\"code\" : \"unreachable\""), unreachable.stdout)

        // Configuration problems are usage errors and name what is wrong.
        let badLimit = try osfarm(["check", "-i", farm.record.inventory, "--limit", "fe9"])
        XCTAssertEqual(badLimit.status, 2)
        XCTAssertTrue(badLimit.stderr.contains("\"fe9\" matches no server"), badLimit.stderr)
        let noInventory = try osfarm(["check", "-i", farm.directory + "/missing.yaml"])
        XCTAssertEqual(noInventory.status, 2)
        XCTAssertTrue(noInventory.stderr.contains("missing.yaml: no such file"), noInventory.stderr)
        XCTAssertEqual(try osfarm(["check"]).status, 2, "a missing required option is a usage error")
    }

    func testAMistypedSubcommandOrOptionGetsTheNearestName() throws {
        for (arguments, suggestion) in [
            (["chekc"], "Did you mean 'osfarm check'?"),
            (["move-db", "rnu"], "Did you mean 'osfarm move-db run'?"),
            (["runs", "shwo", "20261127-010203-abcd"], "Did you mean 'osfarm runs show'?"),
            (["move-db", "run", "-i", "farm.yaml", "--to", "sql2", "--yess"], "Did you mean '--yes'?"),
            (["move-db", "run", "-i", "farm.yaml", "--to", "sql2", "--dry-run"], "'osfarm move-db plan' prints what run would do"),
            (["move-db", "run", "-i", "farm.yaml", "--to", "sql2", "--check"], "'osfarm move-db preflight' checks every server"),
            (["rollback", "20261127-010203-abcd", "--auto-approve"], "Did you mean '--yes' (-y)?"),
        ] {
            let result = try osfarm(arguments)
            XCTAssertEqual(result.status, 2, "\(arguments)")
            XCTAssertTrue(result.stderr.contains(suggestion), "\(arguments): \(result.stderr)")
            // The hint comes first, before the usage it would otherwise hide under.
            let usage = result.stderr.range(of: "Usage:")?.lowerBound ?? result.stderr.endIndex
            XCTAssertTrue(result.stderr[..<usage].contains(suggestion), "\(arguments): \(result.stderr)")
        }
        // A command that only groups others names them (issue 21: it printed only "See 'osfarm move-db --help'").
        let group = try osfarm(["move-db"])
        XCTAssertEqual(group.status, 2)
        XCTAssertTrue(
            group.stderr.contains("osfarm move-db needs a subcommand: plan, preflight, run or rehearse\n  plan: Print what run would do"), group.stderr)
        XCTAssertTrue(group.stderr.contains("\n  preflight: Read-only checks") && group.stderr.contains("\n  run: Preflight, then"), group.stderr)
        // A run id after `runs` (its default subcommand's place) is not taken for a typo.
        let runID = try osfarm(["runs", "20261127-010203-abcd"])
        XCTAssertFalse(runID.stderr.contains("Did you mean"), runID.stderr)
    }
}
