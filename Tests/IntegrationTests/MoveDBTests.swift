import FarmController
import FarmProtocol
@testable import FarmSimulator
import Foundation
import XCTest

/// `osfarm move-db`, resume and rollback, run as the CLI on simulated farms over real sshd, with
/// the simulator's ground truth as the judge.
final class MoveDBTests: XCTestCase {
    private func decode(_ json: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], json)
    }

    private func assertOnNewDatabase(_ farm: TestFarm, file: StaticString = #filePath, line: UInt = #line) throws {
        for server in try farm.status().servers {
            XCTAssertEqual(server.database, farm.newDatabase, "\(server.name): \(server.databaseServers)", file: file, line: line)
            XCTAssertTrue(server.allRunning, "\(server.name): \(server.services)", file: file, line: line)
        }
    }

    func testHappyPathMovesEveryServerAndTheReportAgreesWithTheFarm() throws {
        let farm = try TestFarm(frontEnds: 3)
        defer { farm.shutdown() }
        let report = farm.directory + "/change.md"
        // Without Apply Settings (now on by default; its own tests are in IntegratedMoveTests), so the
        // last Configuration Tool run on each server is the apply's.
        let result = try farm.moveDB("run", ["--db-restored", "--no-apply-settings", "--expect-from", farm.oldDatabase, "--json", "--report", report])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        try assertOnNewDatabase(farm)
        let document = try decode(result.stdout)
        XCTAssertEqual(document["schema"] as? String, "osfarm.move-db/v1")
        XCTAssertEqual(document["outcome"] as? String, "completed")
        XCTAssertEqual(document["from"] as? String, farm.oldDatabase)
        let servers = try XCTUnwrap(document["servers"] as? [[String: Any]])
        XCTAssertEqual(servers.map { $0["name"] as? String }, ["dc1", "fe1", "fe2", "fe3"])
        XCTAssertTrue(servers.allSatisfy { $0["state"] as? String == "moved" }, "\(servers)")
        let markdown = try String(contentsOfFile: report, encoding: .utf8)
        XCTAssertTrue(markdown.contains("| From | \(farm.oldDatabase) |") && markdown.contains("| To | \(farm.newDatabase) |"), markdown)
        XCTAssertTrue(markdown.contains("## Left to do by hand") && markdown.contains("Apply Settings"), markdown)
        XCTAssertTrue(try farm.status().servers.allSatisfy { $0.lastConfigurationTool?.switches == ["/upgradeinstall", "/installservicecenter"] })

        // The journal's order: every stop before any apply, the deployment controller before any front-end.
        let entries = try farm.journal(try farm.lastRunID())
        let firstApply = try XCTUnwrap(entries.firstIndex { $0.step == "backup" })
        XCTAssertTrue(entries[..<firstApply].filter { $0.step == "stop-services" && $0.event == .finished }.count == 4)
        XCTAssertEqual(entries[firstApply].server, "dc1")
        let dcVerified = try XCTUnwrap(entries.firstIndex { $0.server == "dc1" && $0.step == "verify" && $0.event == .finished })
        XCTAssertFalse(entries[..<dcVerified].contains { $0.server?.hasPrefix("fe") == true && $0.step == "backup" })
    }

    func testPlanChangesNothingAndItsTextIsPinned() throws {
        let farm = try TestFarm(frontEnds: 1)
        defer { farm.shutdown() }
        let before = try farm.status().json(), files = try farm.configurationFiles()
        let live = try farm.moveDB("plan")
        XCTAssertEqual(live.status, 0, live.stderr)
        XCTAssertEqual(try farm.status().json(), before)
        XCTAssertEqual(try farm.configurationFiles(), files)
        XCTAssertFalse(FileManager.default.fileExists(atPath: farm.stateDirectory), "plan journals nothing")

        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/move-db")
        let snapshot = try osfarm([
            "move-db", "plan", "-i", fixtures.appendingPathComponent("inventory.yaml").path, "--to", "sqlnew.corp.example,1433",
            "--expect-from", "sqlold.corp.example", "--parallel", "2", "--apply-settings", "--window", "2026-11-28T22:00:00Z/2026-11-29T02:00:00Z",
        ])
        XCTAssertEqual(snapshot.status, 0, snapshot.stderr)
        let text = snapshot.stdout.replacingOccurrences(of: fixtures.path, with: "FIXTURES")
        let pinned = fixtures.appendingPathComponent("plan.txt")
        if ProcessInfo.processInfo.environment["OSFARM_RECORD_FIXTURES"] == "1" { try text.write(to: pinned, atomically: true, encoding: .utf8) }
        XCTAssertEqual(text, try String(contentsOf: pinned, encoding: .utf8))
    }

    func testPreflightRefusesASplitFarmAnUnreachableNewDatabaseAndARoleMismatch() throws {
        let farm = try TestFarm(frontEnds: 2)
        defer { farm.shutdown() }
        let files = try farm.configurationFiles()

        // fe1 points its session database elsewhere: the farm is split.
        let hsconf = try farm.file(#"C:\Program Files\OutSystems\Platform Server\server.hsconf"#, on: "fe1")
        let original = try String(contentsOfFile: hsconf, encoding: .utf8)
        let split = original.replacingOccurrences(
            of: "<Server>\(farm.oldDatabase)</Server>\r\n    <Catalog>osSession",
            with: "<Server>sql-other.farm.test</Server>\r\n    <Catalog>osSession")
        XCTAssertNotEqual(split, original)
        try split.write(toFile: hsconf, atomically: true, encoding: .utf8)
        var result = try farm.moveDB("preflight")
        XCTAssertEqual(result.status, 1, result.stdout)
        XCTAssertTrue(result.stdout.contains("fe1: its database sections point at different servers"), result.stdout)
        XCTAssertTrue(result.stdout.contains("farm: the farm is split across databases"), result.stdout)
        XCTAssertEqual(try farm.moveDB("run", ["--db-restored"]).status, 1, "run refuses it too")
        try original.write(toFile: hsconf, atomically: true, encoding: .utf8)

        // From fe2 the new database's name leads nowhere (a stale hosts entry).
        var stale = FaultRequest()
        stale.hostsEntries = ["sql-new.farm.test": "127.0.0.1"]
        try farm.inject(stale, on: "fe2")
        result = try farm.moveDB("preflight")
        XCTAssertEqual(result.status, 1, result.stdout)
        XCTAssertTrue(result.stdout.contains("fe2: the new database sql-new.farm.test is not reachable from this server"), result.stdout)
        XCTAssertFalse(result.stdout.contains("dc1: the new database"), result.stdout)
        var fixed = FaultRequest()
        fixed.hostsEntries = ["sql-new.farm.test": farm.record.newDatabase!.address]
        try farm.inject(fixed, on: "fe2")

        // Issue 21: a comment in fe2's server.hsconf holds a Windows-1252 byte while the file
        // declares utf-8. The Configuration Tool cannot read it, so the run is refused before
        // anything stops (it used to repoint servers first); inspect names the line and position,
        // and the simulated tool stops at the same place.
        let fe2Hsconf = try farm.file(#"C:\Program Files\OutSystems\Platform Server\server.hsconf"#, on: "fe2")
        let fe2Original = try Data(contentsOf: URL(fileURLWithPath: fe2Hsconf))
        var legacy = FaultRequest()
        legacy.drift.legacyByteInComment = true
        try farm.inject(legacy, on: "fe2")
        let line = try XCTUnwrap(Array(try Data(contentsOf: URL(fileURLWithPath: fe2Hsconf))).split(separator: 0x0A).firstIndex { $0.contains(0xE9) }) + 1
        let before = try farm.status().json()
        result = try farm.moveDB("run", ["--db-restored"])
        XCTAssertEqual(result.status, 1, result.stdout + result.stderr)
        XCTAssertTrue(
            result.stdout.contains(
                "fe2: the Configuration Tool cannot read C:\\Program Files\\OutSystems\\Platform Server\\server.hsconf: line \(line), position 9: "
                    + "byte 0xE9 is not UTF-8, the encoding its XML declaration names (utf-8)"), result.stdout)
        XCTAssertTrue(result.stdout.contains("nothing was changed"), result.stdout)
        XCTAssertEqual(try farm.status().json(), before, "nothing was stopped or repointed")
        let tool = try farm.emulate(#"C:\Program Files\OutSystems\Platform Server\ConfigurationTool.com"#, ["/UpgradeInstall"], on: "fe2")
        XCTAssertNotEqual(tool.status, 0)
        XCTAssertTrue((tool.stdout + tool.stderr).contains("Invalid character in the given encoding. Line \(line), position 9."), tool.stdout + tool.stderr)
        try fe2Original.write(to: URL(fileURLWithPath: fe2Hsconf))

        // fe1's Deployment Controller service is enabled while CompilerServerHostname names dc1: it
        // reads as a deployment controller by its services, and preflight names both facts.
        try farm.store("fe1").update { state in
            state.services[state.serviceIndex("OutSystems Deployment Controller Service")!].startType = .automatic
        }
        result = try farm.moveDB("preflight")
        XCTAssertEqual(result.status, 1, result.stdout)
        XCTAssertTrue(result.stdout.contains("fe1: the inventory says front-end, but the server reads as Deployment Controller"), result.stdout)
        XCTAssertTrue(result.stdout.contains("CompilerServerHostname \(try farm.simulated("dc1").address) is not one of this server's names"), result.stdout)
        XCTAssertEqual(try farm.configurationFiles()["fe2/server.hsconf"], files["fe2/server.hsconf"], "preflight changes nothing")
    }

    func testAConfigurationToolFailureOnTheControllerStopsBeforeAnyFrontEndAndRollbackRestoresEverything() throws {
        let farm = try TestFarm(frontEnds: 2)
        defer { farm.shutdown() }
        let original = try farm.configurationFiles()
        var fault = FaultRequest()
        fault.configurationToolFailure = "Timeout expired while upgrading the platform database model."
        try farm.inject(fault, on: "dc1")
        let result = try farm.moveDB("run", ["--db-restored"])
        XCTAssertEqual(result.status, 1, result.stdout + result.stderr)
        XCTAssertTrue(
            result.stdout.contains("dc1 failed: configuration-tool failed: ConfigurationTool.com /UpgradeInstall exited 1: ERROR: Timeout expired"),
            result.stdout)
        XCTAssertTrue(result.stdout.contains("No front-end was touched"), result.stdout)
        let entries = try farm.journal(try farm.lastRunID())
        XCTAssertFalse(
            entries.contains {
                $0.server != "dc1" && Runbook.moveDatabase.phases.filter { $0.kind == .apply }.flatMap(\.steps).map(\.rawValue).contains($0.step)
            })
        for name in ["fe1", "fe2"] {
            XCTAssertEqual(try farm.configurationFiles()["\(name)/server.hsconf"], original["\(name)/server.hsconf"])
        }
        XCTAssertNotEqual(try farm.configurationFiles()["dc1/server.hsconf"], original["dc1/server.hsconf"], "dc1 was repointed")

        var clear = FaultRequest()
        clear.clear = true
        try farm.inject(clear, on: "dc1")
        let rollback = try osfarm(["rollback", "--yes", try farm.lastRunID(), "--state-dir", farm.stateDirectory])
        XCTAssertEqual(rollback.status, 0, rollback.stdout + rollback.stderr)
        XCTAssertEqual(try farm.configurationFiles(), original, "every touched file back byte for byte")
        for server in try farm.status().servers {
            XCTAssertEqual(server.database, farm.oldDatabase)
            XCTAssertTrue(server.allRunning, "\(server.name) runs against the old database: \(server.services)")
        }
    }

    func testAFrontEndFailureStopsNewFrontEndsAndTheReportNamesEachState() throws {
        let farm = try TestFarm(frontEnds: 3)
        defer { farm.shutdown() }
        var fault = FaultRequest()
        fault.configurationToolFailure = "Service Center installation failed."
        try farm.inject(fault, on: "fe1")
        let result = try farm.moveDB("run", ["--db-restored", "--max-failures", "0", "--json"])
        XCTAssertEqual(result.status, 1, result.stdout + result.stderr)
        let servers = try XCTUnwrap(try decode(result.stdout)["servers"] as? [[String: Any]])
        let states = Dictionary(uniqueKeysWithValues: servers.map { ($0["name"] as! String, $0["state"] as! String) })
        XCTAssertEqual(
            states, ["dc1": "moved", "fe1": "failed at configuration-tool", "fe2": "services stopped, not moved", "fe3": "services stopped, not moved"])
        let truth = try farm.status().servers
        XCTAssertEqual(truth.first { $0.name == "fe2" }?.database, farm.oldDatabase, "fe2 never started")
        XCTAssertTrue(try decode(result.stdout)["message"].map { "\($0)" }?.contains("not started: fe2, fe3") ?? false)
    }

    func testAWindowThatEndsMidRunStopsWithExit3NamingWhatRemains() throws {
        let farm = try TestFarm(frontEnds: 3)
        defer { farm.shutdown() }
        // fe1's Configuration Tool waits for machine.config past the window's end: fe1 is in flight
        // then. The test ends the lock itself once the window is over (its holder exiting), so
        // nothing waits out more of it than the window's 20 s: room for the preflight, the stop
        // phase and dc1's apply on a loaded machine.
        var lock = FaultRequest()
        lock.lockMachineConfigSeconds = 120
        try farm.inject(lock, on: "fe1")
        let deadline = ISO8601DateFormatter().string(from: Date().addingTimeInterval(20))
        let windowEnd = try XCTUnwrap(ISO8601DateFormatter().date(from: deadline))
        let run = try BackgroundRun(farm, ["--deadline", deadline, "--server-budget", "1"])
        let runID = try run.waitFor(farm) { $0.server == "fe1" && $0.step == "configuration-tool" && $0.event == .started }
        let toolStarted = try XCTUnwrap(try farm.journal(runID).first { $0.server == "fe1" && $0.step == "configuration-tool" }?.time)
        XCTAssertLessThan(toolStarted, windowEnd, "fe1 started before the window ended (a machine too loaded for 20 s?)")
        while Date() < windowEnd.addingTimeInterval(1) { usleep(50_000) }
        XCTAssertTrue(run.process.isRunning, "the run waits for the step in flight, past the window's end")
        try farm.releaseMachineConfig(on: "fe1")
        let (status, output) = run.finish()
        let result = CommandResult(status: status, stdout: output, stderr: "")
        XCTAssertEqual(result.status, 3, result.stdout + result.stderr)
        XCTAssertTrue(result.stdout.contains("the maintenance window ended"), result.stdout)
        XCTAssertTrue(result.stdout.contains("not started: fe2, fe3"), result.stdout)
        XCTAssertTrue(result.stdout.contains("Not serving now:") && result.stdout.contains("fe2  stopped"), result.stdout)
        let toolEnded = try XCTUnwrap(
            try farm.journal(runID).first { $0.server == "fe1" && $0.step == "configuration-tool" && $0.event == .finished }?.time)
        XCTAssertGreaterThan(toolEnded, windowEnd, "the step in flight was waited for")
        let truth = Dictionary(uniqueKeysWithValues: try farm.status().servers.map { ($0.name, $0) })
        XCTAssertEqual(truth["dc1"]?.database, farm.newDatabase)
        XCTAssertEqual(truth["fe1"]?.database, farm.newDatabase, "the server in flight finished")
        XCTAssertTrue(truth["fe1"]?.allRunning ?? false)
        XCTAssertEqual(truth["fe2"]?.database, farm.oldDatabase, "untouched")
        XCTAssertEqual(truth["fe3"]?.database, farm.oldDatabase, "untouched")
        XCTAssertEqual(try farm.lastRunID(), runID)
        let states = try farm.journal(runID)
        XCTAssertFalse(states.contains { $0.server == "fe2" && $0.step == "backup" })
        XCTAssertTrue(result.stdout.contains("osfarm resume \(runID) --window START/END (or --deadline TIME, or --no-window)"), result.stdout)

        // Issue 21: a plain resume keeps the ended window and stops at once, saying so; a resume
        // without a window (or with a new one) carries the run on.
        let kept = try osfarm(["resume", runID, "--state-dir", farm.stateDirectory])
        XCTAssertEqual(kept.status, 3, kept.stdout + kept.stderr)
        XCTAssertTrue(kept.stdout.contains("osfarm resume \(runID) --window START/END"), kept.stdout)
        XCTAssertEqual(try farm.status().servers.first { $0.name == "fe2" }?.database, farm.oldDatabase, "the kept window started nothing")
        let resumed = try osfarm(["resume", runID, "--no-window", "--state-dir", farm.stateDirectory])
        XCTAssertEqual(resumed.status, 0, resumed.stdout + resumed.stderr)
        XCTAssertTrue(try farm.status().servers.allSatisfy { $0.database == farm.newDatabase && $0.allRunning })
        XCTAssertTrue(try farm.journal(runID).contains { $0.step == "resume" && $0.message?.hasSuffix("; no window") == true })
    }

    func testALimitThatWouldSplitTheFarmIsRefusedUnlessAllowed() throws {
        let farm = try TestFarm(frontEnds: 2)
        defer { farm.shutdown() }
        let refused = try farm.moveDB("run", ["--db-restored", "--limit", "dc1,fe1"])
        XCTAssertEqual(refused.status, 2)
        XCTAssertTrue(refused.stderr.contains("fe2 would stay on the old database and the farm would be split"), refused.stderr)
        XCTAssertEqual(try farm.status().servers.first { $0.name == "dc1" }?.database, farm.oldDatabase)
        let allowed = try farm.moveDB("run", ["--db-restored", "--limit", "dc1,fe1", "--allow-partial"])
        XCTAssertEqual(allowed.status, 0, allowed.stdout + allowed.stderr)
        XCTAssertTrue(allowed.stdout.hasPrefix("PARTIAL RUN: only dc1, fe1 were selected"), allowed.stdout)
    }

    func testNoSecretReachesTheJournalTheReportsOrTheLogs() throws {
        let farm = try TestFarm(frontEnds: 1, clearTextPasswords: true, windowsAuthentication: true)
        defer { farm.shutdown() }
        let secret = "S3cret-Admin-Pa55-7741"
        let report = farm.directory + "/change.md"
        var environment = ProcessInfo.processInfo.environment
        environment["OSFARM_TEST_ADMIN"] = secret
        let missing = try farm.moveDB("run", ["--db-restored"])
        XCTAssertEqual(missing.status, 2, "Windows authentication without the admin password is refused before any change: \(missing.stdout)")
        XCTAssertTrue(missing.stderr.contains("--admin-password-env"), missing.stderr)
        let result = try farm.moveDB(
            "run", ["--db-restored", "--no-apply-settings", "--admin-password-env", "OSFARM_TEST_ADMIN", "--json", "--report", report],
            environment: environment)
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        try assertOnNewDatabase(farm)
        XCTAssertTrue(
            try farm.status().servers.allSatisfy { $0.lastConfigurationTool?.switches.first == "/upgradeinstall(1)" },
            "the password reached the Configuration Tool")
        let everything = result.stdout + result.stderr + (try String(contentsOfFile: report, encoding: .utf8)) + (try farm.everythingRecorded())
        XCTAssertTrue(everything.contains("osfarm.move-db/v1") && everything.contains("Configuration Tool finished successfully"))
        for clear in [secret, "Adm1n&Platform", "Adm1n&amp;Platform", "LogRunt1me", "S3ssion"] {
            XCTAssertFalse(everything.contains(clear), "\(clear) leaked")
        }
    }
}
