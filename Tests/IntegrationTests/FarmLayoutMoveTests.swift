import FarmController
import FarmProtocol
@testable import FarmSimulator
import Foundation
import XCTest

/// `osfarm move-db` on the documented farm layouts beyond the default one, judged by the
/// simulator's own account (`farm status`), never by osfarm's.
final class FarmLayoutMoveTests: XCTestCase {
    private func decode(_ json: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], json)
    }

    private func section(_ farm: TestFarm, _ server: String, _ section: DatabaseSection) throws -> String? {
        try farm.status().servers.first { $0.name == server }?.databaseServers[section.rawValue]
    }

    func testAnIntegratedAuthenticationFarmMovesWithApplySettingsAndThePasswordInNoRecord() throws {
        let farm = try TestFarm(frontEnds: 1, clearTextPasswords: true, windowsAuthentication: true)
        defer { farm.shutdown() }
        let secret = "Integr4ted-Adm1n-9931"
        var environment = ProcessInfo.processInfo.environment
        environment["OSFARM_TEST_ADMIN"] = secret
        let report = farm.directory + "/change.md"
        let result = try farm.moveDB("run", ["--db-restored", "--admin-password-env", "OSFARM_TEST_ADMIN", "--report", report], environment: environment)
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let truth = Dictionary(uniqueKeysWithValues: try farm.status().servers.map { ($0.name, $0) })
        XCTAssertTrue(truth.values.allSatisfy { $0.database == farm.newDatabase && $0.allRunning }, "\(truth)")
        // The reference's arguments, the password given where each switch needs it.
        XCTAssertEqual(truth["fe1"]?.lastConfigurationTool?.switches, ["/upgradeinstall(1)", "/installservicecenter", "/withwindowsauthentication(1)"])
        XCTAssertEqual(truth["dc1"]?.lastConfigurationTool?.switches, ["/applysettingsfactory", "/withwindowsauthentication(1)"])
        let entries = try farm.journal(try farm.lastRunID())
        for step in ["apply-settings", "wait-ready-after-settings", "platform-proof-after-settings"] {
            XCTAssertTrue(entries.contains { $0.server == "dc1" && $0.step == step && $0.event == .finished }, step)
        }
        let everything = result.stdout + result.stderr + (try String(contentsOfFile: report, encoding: .utf8)) + (try farm.everythingRecorded())
        XCTAssertTrue(everything.contains("settings applied to the factory") && everything.contains("debug"), "the records were read")
        XCTAssertFalse(everything.contains(secret), "the password leaked")
        XCTAssertFalse(result.stdout.contains("APPLY SETTINGS DID NOT RUN"), result.stdout)
    }

    /// Two documented layouts on one farm (each its own part of the move): the new database a named
    /// instance without a port, found through SQL Server Browser, and front-ends whose Deployment
    /// Controller service is Manual, which are front-ends all the same.
    func testANamedInstanceWithoutAPortAndFrontEndsWithAManualControllerService() throws {
        let farm = try TestFarm(frontEnds: 2, layout: SimulatedLayout(newDatabaseInstance: "OSPROD", frontEndControllerService: .manual))
        defer { farm.shutdown() }
        XCTAssertTrue(farm.newDatabase.hasSuffix("\\OSPROD"), farm.newDatabase)
        let preflight = try farm.moveDB("preflight")
        XCTAssertEqual(preflight.status, 0, preflight.stdout)
        XCTAssertTrue(preflight.stdout.contains("as SQL Server Browser said"), preflight.stdout)
        let result = try farm.moveDB("run", ["--db-restored"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertTrue(try farm.status().servers.allSatisfy { $0.database == farm.newDatabase && $0.allRunning })
        for server in try farm.status().servers where server.role == .frontEnd {
            XCTAssertEqual(server.database, farm.newDatabase)
            let controller = server.services.first { $0.name == "OutSystems Deployment Controller Service" }
            XCTAssertEqual(controller?.startType, .manual)
            XCTAssertEqual(controller?.state, .stopped, "\(server.name): its Manual controller service was left alone")
            XCTAssertTrue(server.allRunning)
        }
    }

    func testANamedInstanceBrowserDoesNotKnowIsRefusedWithTheWayToGiveItsPort() throws {
        let farm = try TestFarm(frontEnds: 1, layout: SimulatedLayout(newDatabaseInstance: "OSPROD", newDatabaseBrowser: false))
        defer { farm.shutdown() }
        let before = try farm.status().json()
        let result = try farm.moveDB("run", ["--db-restored"])
        XCTAssertEqual(result.status, 1, result.stdout)
        XCTAssertTrue(result.stdout.contains("not reachable from this server") && result.stdout.contains(",PORT"), result.stdout)
        XCTAssertEqual(try farm.status().json(), before, "nothing was changed")
    }

    func testSeparateSessionAndLoggingServersStayPutUnlessNamed() throws {
        let farm = try TestFarm(frontEnds: 1, layout: SimulatedLayout(separateSessionDatabase: true, separateLoggingDatabase: true))
        defer { farm.shutdown() }
        let session = try XCTUnwrap(farm.record.sessionDatabase).server, logging = try XCTUnwrap(farm.record.loggingDatabase).server
        let preflight = try farm.moveDB("preflight")
        XCTAssertEqual(preflight.status, 0, "a documented layout needs no --force: \(preflight.stdout)")
        XCTAssertTrue(preflight.stdout.contains("the other sections stay where they are"), preflight.stdout)
        let result = try farm.moveDB("run", ["--db-restored"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        for name in ["dc1", "fe1"] {
            XCTAssertEqual(try section(farm, name, .platform), farm.newDatabase)
            XCTAssertEqual(try section(farm, name, .session), session, "the session section stays")
            XCTAssertEqual(try section(farm, name, .logging), logging, "the logging section stays")
        }
        XCTAssertTrue(try farm.status().servers.allSatisfy(\.allRunning))

        XCTAssertEqual(try farm.status().servers.first { $0.name == "dc1" }?.lastConfigurationTool?.switches, ["/applysettingsfactory"])

        // Named, the session section follows. This run leaves Apply Settings out: the report says so first.
        let report = farm.directory + "/change.md"
        let again = try osfarm([
            "move-db", "run", "--yes", "-i", farm.record.inventory, "--to", farm.newDatabase, "--session-to", farm.newDatabase,
            "--db-restored", "--no-apply-settings", "--report", report, "--state-dir", farm.stateDirectory,
        ])
        XCTAssertEqual(again.status, 0, again.stdout + again.stderr)
        XCTAssertEqual(try section(farm, "fe1", .session), farm.newDatabase)
        XCTAssertEqual(try section(farm, "fe1", .logging), logging)
        XCTAssertTrue(again.stdout.hasPrefix("APPLY SETTINGS DID NOT RUN (--no-apply-settings)"), again.stdout)
        let markdown = try String(contentsOfFile: report, encoding: .utf8)
        XCTAssertTrue(markdown.split(separator: "\n").prefix(4).contains { $0.contains("APPLY SETTINGS DID NOT RUN") }, markdown)
        XCTAssertFalse(try farm.journal(try farm.lastRunID()).contains { $0.step == "apply-settings" })
        XCTAssertNotEqual(try farm.status().servers.first { $0.name == "dc1" }?.lastConfigurationTool?.switches, ["/applysettingsfactory"])
    }

    func testPreflightNamesEveryAssumptionOfTheArticleThatDoesNotHold() throws {
        let farm = try TestFarm(frontEnds: 2)
        defer { farm.shutdown() }
        var keyAndVersion = FaultRequest()
        keyAndVersion.drift.newPrivateKey = true
        keyAndVersion.drift.platformVersion = "11.24.0.9"
        try farm.inject(keyAndVersion, on: "fe1")
        var references = FaultRequest()
        references.drift.failoverPartner = farm.oldDatabase
        references.drift.compilerServerHostname = "localhost"
        try farm.inject(references, on: "fe2")
        let text = try farm.moveDB("preflight")
        XCTAssertEqual(text.status, 1, text.stdout)
        XCTAssertTrue(text.stdout.contains("farm: the servers run different platform versions"), text.stdout)
        XCTAssertTrue(text.stdout.contains("farm: the servers do not share one private.key"), text.stdout)
        XCTAssertTrue(text.stdout.contains("fe2: PlatformDatabaseConfiguration/RuntimeAdvancedSettings (Failover Partner) names the old server"), text.stdout)
        XCTAssertTrue(text.stdout.contains("fe2: CompilerServerHostname is localhost"), text.stdout)
        let json = try decode(try farm.moveDB("preflight", ["--json"]).stdout)
        let farmCodes = (json["farmFindings"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
        XCTAssertTrue(Set(farmCodes).isSuperset(of: ["platform-version-mismatch", "private-key-mismatch"]), "\(farmCodes)")
        let fe2 = (json["servers"] as? [[String: Any]] ?? []).first { $0["name"] as? String == "fe2" }
        let codes = (fe2?["findings"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
        XCTAssertTrue(Set(codes).isSuperset(of: ["old-server-referenced", "compiler-hostname-localhost"]), "\(codes)")
    }

    func testOracleAndRedisSessionFarmsAreRefusedAsNotSupportedYet() throws {
        for (layout, words) in [
            (SimulatedLayout(oracle: true), "osfarm does not support moving Oracle databases yet"),
            (SimulatedLayout(redisSessions: true), "osfarm does not support moving this layout yet"),
        ] {
            let farm = try TestFarm(frontEnds: 1, layout: layout)
            defer { farm.shutdown() }
            let before = try farm.status().json()
            let result = try farm.moveDB("run", ["--db-restored"])
            XCTAssertEqual(result.status, 1, result.stdout)
            XCTAssertTrue(result.stdout.contains(words), result.stdout)
            XCTAssertFalse(result.stdout.contains("lacks database sections"), result.stdout)
            XCTAssertEqual(try farm.status().json(), before, "nothing was changed")
        }
    }

    func testConfigurationToolRunsTakeTurnsWhileTheFrontEndsGoInParallel() throws {
        let farm = try TestFarm(frontEnds: 3, profile: .fast)
        defer { farm.shutdown() }
        let plan = try farm.moveDB("plan", ["--parallel", "3"])
        XCTAssertTrue(plan.stdout.contains("/InstallServiceCenter [one server at a time: the configuration-tool turn]"), plan.stdout)
        XCTAssertTrue(plan.stdout.contains("ConfigurationTool.com /ApplySettingsFactory"), plan.stdout)
        let result = try farm.moveDB("run", ["--db-restored", "--parallel", "3"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        for server in try farm.status().servers {
            XCTAssertEqual(server.database, farm.newDatabase, "\(server.name): \(server.databaseServers)")
            XCTAssertTrue(server.allRunning, "\(server.name): \(server.services)")
        }
        // Every server's tool runs, start and end, on one time line: never two at once.
        var events: [(time: Double, delta: Int)] = []
        for server in farm.record.servers {
            let text = (try? String(contentsOfFile: server.directory + "/configuration-tool-runs.jsonl", encoding: .utf8)) ?? ""
            for line in text.split(separator: "\n") {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                    let time = object["time"] as? Double, let event = object["event"] as? String
                else { continue }
                events.append((time, event == "start" ? 1 : -1))
            }
        }
        XCTAssertGreaterThanOrEqual(events.count, 10, "every server's tool ran")
        var running = 0, most = 0
        for event in events.sorted(by: { $0.time == $1.time ? $0.delta < $1.delta : $0.time < $1.time }) {
            running += event.delta
            most = max(most, running)
        }
        XCTAssertEqual(most, 1, "two Configuration Tools ran at once")
        // The front-ends' other steps overlapped: two were in their apply at the same time.
        let entries = try farm.journal(try farm.lastRunID())
        let backups = entries.filter { $0.step == "backup" && $0.event == .started && $0.server != "dc1" }.map(\.time)
        let verified = entries.filter { $0.step == "verify" && $0.event == .finished && $0.server != "dc1" }.map(\.time)
        XCTAssertTrue(backups.count == 3 && verified.count == 3 && backups.max()! < verified.max()!, "front-ends pipelined")
    }

    func testAStuckServiceIsEndedOnlyWhenAskedAndTheErrorNamesTheProcessAndTheOption() throws {
        let farm = try TestFarm(frontEnds: 1)
        defer { farm.shutdown() }
        var stuck = FaultRequest()
        stuck.stuckStopping = ["OutSystems Scheduler Service"]
        try farm.inject(stuck, on: "fe1")
        let refused = try farm.moveDB("run", ["--db-restored", "--service-timeout", "2"])
        XCTAssertEqual(refused.status, 1, refused.stdout)
        XCTAssertTrue(refused.stdout.contains("PID"), refused.stdout)
        // Issue 21: the remedy is the same run carried on, not a new run that leaves this one failed.
        let runID = try farm.lastRunID()
        XCTAssertTrue(refused.stdout.contains("osfarm resume \(runID) --kill-stuck-services"), refused.stdout)
        let result = try osfarm(["resume", runID, "--kill-stuck-services", "--state-dir", farm.stateDirectory])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertEqual(try farm.lastRunID(), runID, "no new run")
        XCTAssertTrue(try farm.status().servers.allSatisfy { $0.database == farm.newDatabase && $0.allRunning })
        // The ended process is on the record: the journal, and so runs show and the change record.
        let ended = try farm.journal(runID).first { $0.server == "fe1" && $0.step == "stop-services" && $0.event == .finished }
        XCTAssertTrue(ended?.message?.contains("ended the stuck process of OutSystems Scheduler Service (PID") ?? false, "\(String(describing: ended))")
        let record = farm.directory + "/stuck-record.md"
        XCTAssertEqual(try osfarm(["runs", "show", runID, "--report", record, "--state-dir", farm.stateDirectory]).status, 0)
        XCTAssertTrue(try String(contentsOfFile: record, encoding: .utf8).contains("ended the stuck process of OutSystems Scheduler Service"))
    }

    func testAPlatformThatDoesNotAnswerAsExpectedStopsTheRunOnThatServer() throws {
        let farm = try TestFarm(frontEnds: 2)
        defer { farm.shutdown() }
        var slow = FaultRequest()
        slow.lockMachineConfigSeconds = 3
        try farm.inject(slow, on: "fe1")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestFarm.binary("osfarm"))
        process.arguments = [
            "move-db", "run", "--yes", "-i", farm.record.inventory, "--to", farm.newDatabase, "--db-restored",
            "--readiness-timeout", "4", "--state-dir", farm.stateDirectory,
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Once fe1 is in its apply, its installed platform turns out another version than preflight read.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let id = try? farm.lastRunID(), (try? farm.journal(id))?.contains(where: { $0.server == "fe1" && $0.step == "configuration-tool" }) == true {
                break
            }
            usleep(20_000)
        }
        var drift = FaultRequest()
        drift.drift.platformVersion = "11.99.0.1"
        try farm.inject(drift, on: "fe1")
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 1, text)
        XCTAssertTrue(text.contains("fe1: platform-proof failed: Service Center on fe1 answered version 11.99.0.1, not \(ServerBuilder.platformVersion)"), text)
        XCTAssertTrue(text.contains("not started: fe2"), text)
    }
}
