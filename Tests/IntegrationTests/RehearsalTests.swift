import FarmController
import FarmProtocol
@testable import FarmSimulator
import Foundation
import XCTest

/// Issue 22: a snapshot of a farm (`osfarm inspect --save`), a replica built from it
/// (`osfarm-sim farm up --from`), and the window's move rehearsed on the replica
/// (`osfarm move-db rehearse`), all through the real programs. One farm and its replica.
final class RehearsalTests: XCTestCase {
    /// Every password the simulated farm's server.hsconf holds, as written and XML-escaped.
    static var passwords: [String] {
        let plain = SimulatedSecurity.platformUsers.map(\.password) + ["Rabb1t"]
        return plain
            + plain.map {
                $0.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            }
    }

    func testSnapshotReplicaAndRehearsedMoveEndAsTheMoveOnTheFarmDid() throws {
        // Several languages, a named instance behind Browser as the new database, a logging
        // server of its own, front-ends whose Deployment Controller service is Manual, and
        // passwords in clear text in server.hsconf.
        let farm = try TestFarm(
            frontEnds: 2, clearTextPasswords: true,
            layout: SimulatedLayout(newDatabaseInstance: "OUTSYS", separateLoggingDatabase: true, frontEndControllerService: .manual)
        ) { specs in
            specs[1].language = .german
            specs[2].language = .japanese
        }
        defer { farm.shutdown() }
        let work = farm.directory + "/rehearsal"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        // The real inventory's targeting, tags, hooks and options, which the replica must keep.
        var inventory = try String(contentsOfFile: farm.record.inventory, encoding: .utf8)
        inventory = inventory.replacingOccurrences(of: "tags: [simulated]", with: "tags: [simulated, web]")
        // fe1's IIS answers only for its host name: the inventory says which (service-center).
        var binding = FaultRequest()
        binding.iisHostBinding = "fe1.farm.test"
        try farm.inject(binding, on: "fe1")
        inventory = inventory.replacingOccurrences(of: "  - name: fe1\n", with: "  - name: fe1\n    service-center: {host: fe1.farm.test}\n")
        inventory += "    hooks:\n      before-stop: ['/bin/sh', '-c', 'echo \"$OSFARM_SERVER $OSFARM_HOST\" >> \(work)/hooks.log']\n      timeout: 20\n"
        try inventory.write(toFile: farm.record.inventory, atomically: true, encoding: .utf8)
        let hsconf = try String(contentsOfFile: try farm.file(ServerBuilder.installDirectory + #"\server.hsconf"#, on: "fe1"), encoding: .utf8)
        for password in ["Adm1n&amp;Platform", "S3ssion", "Rabb1t"] { XCTAssertTrue(hsconf.contains(password), "the farm's passwords are in clear text") }

        // 1. The snapshot: every server, read-only, no secret.
        let snapshotPath = work + "/farm.json"
        let inspected = try osfarm(["inspect", "-i", farm.record.inventory, "--save", snapshotPath, "--state-dir", farm.stateDirectory])
        XCTAssertEqual(inspected.status, 0, inspected.stdout + inspected.stderr)
        XCTAssertTrue(inspected.stdout.contains("in clear text") && inspected.stdout.contains("snapshot: \(snapshotPath)"), inspected.stdout)
        let text = try String(contentsOfFile: snapshotPath, encoding: .utf8)
        for password in Self.passwords { XCTAssertFalse(text.contains(password), "the snapshot holds \(password)") }
        let snapshot = try FarmSnapshotFile.read(path: snapshotPath)
        XCTAssertEqual(snapshot.servers.map(\.name), ["dc1", "fe1", "fe2"])
        XCTAssertEqual(snapshot.servers.map { $0.locale?.language }, ["en-US", "de-DE", "ja-JP"])
        XCTAssertEqual(snapshot.servers.map { $0.locale?.oemCodePage }, [437, 850, 932])
        XCTAssertEqual(snapshot.servers.map { $0.platform?.role }, [.deploymentController, .frontEnd, .frontEnd])
        XCTAssertEqual(snapshot.privateKeysMatch, true)
        XCTAssertTrue(snapshot.servers.allSatisfy { $0.platform?.privateKeySHA256 == nil }, "no digest of private.key")
        let secrets = try XCTUnwrap(snapshot.server("fe1")?.platform?.hsconfLayout?.secrets)
        XCTAssertEqual(secrets.count, 6)
        XCTAssertTrue(secrets.allSatisfy { $0.form == .clear && $0.standIn == HsconfSecret.clearStandIn })
        XCTAssertEqual(
            snapshot.server("fe2")?.platform?.services.first { $0.name == "OutSystems Deployment Controller Service" }?.startType, .manual)
        XCTAssertEqual(snapshot.inventory.servers.map(\.tags), Array(repeating: ["simulated", "web"], count: 3))
        XCTAssertNotNil(snapshot.inventory.servers.last?.hooks?.commands["before-stop"])
        XCTAssertNil(snapshot.durations, "no run on this farm yet")
        XCTAssertEqual(snapshot.servers.map { $0.iisBindings?.first { $0.protocol == "http" }?.hostName }, [nil, "fe1.farm.test", nil])

        // 2. The replica: same names on other loopback addresses, same shape, an inventory that names the snapshot.
        let replicaDirectory = work + "/replica"
        defer { try? LocalFarm.down(directory: replicaDirectory, removeFiles: true) }
        let up = try Self.sim(
            [
                "farm", "up", "--dir", replicaDirectory, "--from", snapshotPath, "--to", farm.newDatabase, "--profile", "instant",
                "--port", String(Int.random(in: 20000...40000)),
            ], folder: work)
        XCTAssertEqual(up.status, 0, up.stdout + up.stderr)
        XCTAssertTrue(up.stdout.contains("replica of \(snapshotPath)"), up.stdout)
        let replica = try LocalFarm.record(in: replicaDirectory)
        XCTAssertEqual(replica.servers.map(\.name), farm.record.servers.map(\.name))
        XCTAssertTrue(Set(replica.servers.map(\.address)).isDisjoint(with: farm.record.servers.map(\.address)))
        XCTAssertEqual(replica.newDatabase?.server, farm.newDatabase)
        XCTAssertEqual(replica.newDatabase?.instance, "OUTSYS")
        XCTAssertEqual(replica.newDatabase?.browserRuns, true)
        XCTAssertEqual(replica.loggingDatabase?.server, farm.record.loggingDatabase?.server)
        let replicaInventory = try InventoryLoader.load(path: replica.inventory)
        XCTAssertEqual(replicaInventory.replicaOf, snapshotPath)
        XCTAssertEqual(replicaInventory.servers.map(\.tags), Array(repeating: ["simulated", "web"], count: 3))
        XCTAssertEqual(replicaInventory.servers.last?.hooks, try farm.inventory().servers.last?.hooks)
        XCTAssertEqual(replicaInventory.servers.map(\.identity), Array(repeating: replica.clientKey, count: 3))
        XCTAssertEqual(replicaInventory.servers.map { $0.serviceCenter?.host }, [nil, "fe1.farm.test", nil])
        let replicaSnapshotPath = work + "/replica.json"
        let again = try osfarm(["inspect", "-i", replica.inventory, "--save", replicaSnapshotPath, "--state-dir", farm.stateDirectory])
        XCTAssertEqual(again.status, 0, again.stdout + again.stderr)
        XCTAssertEqual(Self.shape(try FarmSnapshotFile.read(path: replicaSnapshotPath)), Self.shape(snapshot))

        // 3. The move on the farm, and the same line rehearsed on the replica.
        let moved = try farm.moveDB("run", ["--db-restored", "--expect-from", farm.oldDatabase])
        XCTAssertEqual(moved.status, 0, moved.stdout + moved.stderr)
        let refused = try osfarm(["move-db", "rehearse", "-i", farm.record.inventory, "--to", farm.newDatabase, "--state-dir", farm.stateDirectory])
        XCTAssertEqual(refused.status, 2)
        XCTAssertTrue(refused.stderr.contains("is not a replica's inventory"), refused.stderr)
        let record = work + "/rehearsal.md"
        let rehearsed = try osfarm([
            "move-db", "rehearse", "-i", replica.inventory, "--to", farm.newDatabase, "--expect-from", farm.oldDatabase, "--state-dir",
            farm.stateDirectory, "--report", record,
        ])
        XCTAssertEqual(rehearsed.status, 0, rehearsed.stdout + rehearsed.stderr)
        for line in [
            "what preflight says of the real farm", "preflight passed: the farm is on \(farm.oldDatabase)", "change record: \(record)",
            "measured downtime on the replica:", "estimate for the real window:", "preflight findings the real farm would raise: none",
        ] {
            XCTAssertTrue(rehearsed.stdout.contains(line), "\(line)\n\(rehearsed.stdout)")
        }
        XCTAssertTrue(try String(contentsOfFile: record, encoding: .utf8).hasPrefix("> REHEARSAL on a replica built from \(snapshotPath)"))
        let hooks = try String(contentsOfFile: work + "/hooks.log", encoding: .utf8)
        XCTAssertTrue(hooks.contains("fe2 \(try replica.server(named: "fe2").address)"), "the replica ran the real inventory's hook: \(hooks)")

        // farm status of the replica is what the move left on the farm.
        let original = try farm.status(), rehearsal = try FarmStatus.read(directory: replicaDirectory)
        XCTAssertEqual(rehearsal.servers.map(Self.outcome), original.servers.map(Self.outcome))
        XCTAssertTrue(original.servers.allSatisfy { $0.databaseServers["platform"] == farm.newDatabase })
    }

    /// What preflight checks and the simulator's defaults lack goes onto the replica as drift; the
    /// delays come from the snapshot's step medians (no farm needed).
    func testDriftAndDelaysComeFromTheSnapshot() throws {
        func server(_ name: String, version: String, key: Int, references: [ServerReference] = [], compiler: String = "10.0.0.5") -> SnapshotServer {
            var server = SnapshotServer(
                name: name, status: "ok",
                platform: PlatformInspection(
                    version: version, installDirectory: ServerBuilder.installDirectory, role: .frontEnd, roleDescription: "", services: [],
                    databases: [], compilerServerHostname: compiler, configurationToolPresent: true, serverReferences: references))
            server.privateKeyGroup = key
            return server
        }
        let old = try DatabaseServerAddress(parsing: #"sqlprod1\OUTSYS"#)
        let controller = server("dc1", version: "11.23.0.1", key: 1)
        XCTAssertTrue(FarmReplica.drift(of: controller, controller: controller, old: old).isEmpty)
        let drifted = FarmReplica.drift(
            of: server(
                "fe1", version: "11.24.0.9", key: 2,
                references: [
                    ServerReference(location: "PlatformDatabaseConfiguration/RuntimeAdvancedSettings", keyword: "Failover Partner", server: "SQLPROD1"),
                    ServerReference(location: "CacheInvalidationConfiguration/ServiceHost", keyword: nil, server: "10.0.0.5"),
                ], compiler: "localhost"), controller: controller, old: old)
        XCTAssertEqual(drifted.platformVersion, "11.24.0.9")
        XCTAssertTrue(drifted.newPrivateKey)
        XCTAssertEqual(drifted.failoverPartner, "SQLPROD1")
        XCTAssertNil(drifted.cacheServiceHost, "the cache host names the controller, not the old server")
        XCTAssertEqual(drifted.compilerServerHostname, "localhost")

        let timings = FarmReplica.timings(
            SnapshotDurations(
                runID: "r", stepSeconds: ["stop-services": 40, "start-services": 60, "configuration-tool": 300, "stop-iis": 5, "start-iis": 9],
                farmDowntimeSeconds: nil))
        XCTAssertEqual(
            timings,
            SimulatedTimings(
                stopSeconds: 10, startSeconds: 15, initialisationSeconds: SimulationProfile.realistic.initialisationSeconds, iisSeconds: 9,
                configurationToolSeconds: 300))
    }

    /// osfarm-sim with its output in files, waited for with waitpid: `farm up` leaves sshd and the
    /// network process running, and Foundation's Process did not reap it (SimulatorCommandLineTests).
    static func sim(_ arguments: [String], folder: String) throws -> CommandResult {
        let base = folder + "/osfarm-sim-\(UUID().uuidString.prefix(8))"
        let out = open(base + ".out", O_WRONLY | O_CREAT | O_TRUNC, 0o600), err = open(base + ".err", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        defer { close(out); close(err) }
        let status = Tool.waitForExit(try Tool.spawn(TestFarm.binary("osfarm-sim"), arguments, stdout: out, stderr: err))
        func text(_ suffix: String) -> String { String(decoding: FileManager.default.contents(atPath: base + suffix) ?? Data(), as: UTF8.self) }
        return CommandResult(status: status, stdout: text(".out"), stderr: text(".err"))
    }

    /// What a server is, leaving out where it is (addresses, host names).
    struct Shape: Equatable {
        var name: String
        var role: ServerRole?
        var language: String?
        var codePage: Int?
        var shell: String?
        var version: String?
        var services: [String]
        var databases: [String]
        var layout: HsconfLayout?
        var evidence: [ServerRole?]
        var hostBindings: [String?]
    }

    static func shape(_ snapshot: FarmSnapshot) -> [Shape] {
        snapshot.servers.map { server in
            let platform = server.platform
            return Shape(
                name: server.name, role: platform?.role, language: server.locale?.language, codePage: server.locale?.oemCodePage,
                shell: server.effectiveShell, version: platform?.version,
                services: (platform?.services ?? []).map { "\($0.name) \($0.startType.rawValue) \($0.state.rawValue)" },
                databases: (platform?.databases ?? []).map { "\($0.section.rawValue) \($0.server) \($0.catalog ?? "-") \($0.authenticationMode ?? "-")" },
                layout: platform?.hsconfLayout,
                evidence: [platform?.roleEvidence?.fromServices, platform?.roleEvidence?.fromCompilerServerHostname],
                hostBindings: (server.iisBindings ?? []).map(\.hostName))
        }
    }

    /// What a move leaves on a server, as `farm status` reads it.
    static func outcome(_ server: FarmStatus.Server) -> String {
        let services = server.services.map { "\($0.name) \($0.startType.rawValue) \($0.state.rawValue)" }.joined(separator: ", ")
        let sections = server.databaseServers.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        return "\(server.name) \(server.role.rawValue) \(server.language?.rawValue ?? "-") iis=\(server.iisRunning) [\(services)] \(sections) "
            + "tool=\(server.lastConfigurationTool?.exitCode ?? -1)"
    }
}
