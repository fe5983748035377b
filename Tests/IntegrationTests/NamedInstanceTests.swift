import FarmController
import FarmProtocol
@testable import FarmSimulator
import Foundation
import Glibc
import XCTest

/// A new database that is a named instance without a port: SQL Server Browser on UDP 1434 of its
/// host announces its dynamic port. The agent's probe resolves it from each server, as SqlClient
/// would; Browser off, or an instance it does not announce, gets a message that suggests host\INST,port.
final class NamedInstanceTests: XCTestCase {
    static let instance = "OSNEW"

    private func probe(_ session: AgentSession, _ server: String, browserTimeout: Double = 1) async throws -> DatabaseProbeResult {
        let address = try DatabaseServerAddress(parsing: server)
        guard
            case let .databaseProbe(result) = try await session.answer(
                .probeDatabase(DatabaseProbeArguments(address: address, timeoutSeconds: 2, browserTimeoutSeconds: browserTimeout))
            ).data
        else { throw AgentError(.internalError, "no probe result") }
        return result
    }

    func testANamedInstanceIsFoundThroughBrowserFromEachServer() async throws {
        let farm = try TestFarm(frontEnds: 1, layout: SimulatedLayout(newDatabaseInstance: Self.instance))
        defer { farm.shutdown() }
        let new = try XCTUnwrap(farm.record.newDatabase)
        XCTAssertEqual(new.server, "sql-new.farm.test\\\(Self.instance)", "no port in the server value")
        XCTAssertNotEqual(new.port, DatabaseServerAddress.defaultPort)
        for name in ["dc1", "fe1"] {
            let session = try await farm.session(name)
            let found = try await probe(session, new.server)
            XCTAssertTrue(found.reachable, found.message)
            XCTAssertEqual(found.port, new.port, "the port Browser announced is the instance's real one")
            XCTAssertEqual(found.portSource, .browser)
            XCTAssertEqual(found.message, "sql-new.farm.test\\\(Self.instance) answers on TCP \(new.port) (announced by SQL Server Browser)")

            let given = try await probe(session, "\(new.server),\(new.port)")
            XCTAssertTrue(given.reachable)
            XCTAssertEqual(given.portSource, .given)
            let old = try await probe(session, farm.oldDatabase)
            XCTAssertTrue(old.reachable)
            XCTAssertEqual(old.portSource, .defaultPort)
            XCTAssertEqual(old.port, 1433)

            // What osfarm did before: probe the instance's host on 1433, which is not where it listens.
            guard case let .probe(tcp) = try await session.answer(.probeTCP(TCPProbeArguments(host: new.server, port: 1433, timeoutSeconds: 2))).data else {
                return XCTFail("no probe")
            }
            XCTAssertFalse(tcp.reachable, "1433 on the named instance's host does not answer")
            await session.close()
        }
    }

    func testAnInstanceBrowserDoesNotKnowIsNamedWithTheSuggestion() async throws {
        let farm = try TestFarm(frontEnds: 0, layout: SimulatedLayout(newDatabaseInstance: Self.instance))
        defer { farm.shutdown() }
        let session = try await farm.session("dc1")
        let unknown = try await probe(session, "sql-new.farm.test\\NOSUCH")
        await session.close()
        XCTAssertFalse(unknown.reachable)
        XCTAssertEqual(unknown.failure, .instanceUnknown)
        XCTAssertEqual(unknown.browserInstances, [Self.instance])
        XCTAssertEqual(
            unknown.message,
            "SQL Server Browser on sql-new.farm.test does not know instance NOSUCH (it lists \(Self.instance); "
                + "a hidden instance is never listed); give the port in the address: sql-new.farm.test\\NOSUCH,PORT")
    }

    func testAHiddenInstanceIsUnknownToBrowser() async throws {
        let farm = try TestFarm(frontEnds: 0, layout: SimulatedLayout(newDatabaseInstance: Self.instance, newDatabaseHidden: true))
        defer { farm.shutdown() }
        let new = try XCTUnwrap(farm.record.newDatabase)
        let session = try await farm.session("dc1")
        let hidden = try await probe(session, new.server)
        // With its port, the hidden instance answers: only Browser keeps quiet about it.
        let direct = try await probe(session, "\(new.server),\(new.port)")
        await session.close()
        XCTAssertEqual(hidden.failure, .browserSilent, "Browser knows no visible instance: it ignores both requests ([MC-SQLR] 3.1.5.2)")
        XCTAssertTrue(hidden.message.hasSuffix("give the port in the address: sql-new.farm.test\\\(Self.instance),PORT"), hidden.message)
        XCTAssertTrue(direct.reachable, direct.message)
    }

    func testNoBrowserFailsWithinItsDeadlineWithTheSuggestion() async throws {
        let farm = try TestFarm(frontEnds: 1, layout: SimulatedLayout(newDatabaseInstance: Self.instance, newDatabaseBrowser: false))
        defer { farm.shutdown() }
        let new = try XCTUnwrap(farm.record.newDatabase)
        let session = try await farm.session("fe1")
        let started = Date()
        let silent = try await probe(session, new.server, browserTimeout: 0.5)
        XCTAssertLessThan(Date().timeIntervalSince(started), 3)
        await session.close()
        XCTAssertFalse(silent.reachable)
        XCTAssertNil(silent.port)
        XCTAssertEqual(silent.failure, .browserSilent)
        XCTAssertTrue(silent.message.hasPrefix("SQL Server Browser on sql-new.farm.test did not answer (UDP 1434 refused"), silent.message)
        XCTAssertTrue(silent.message.hasSuffix("give the port in the address: sql-new.farm.test\\\(Self.instance),PORT"), silent.message)
    }

    func testTheConfigurationToolAndTheServicesReachANamedInstanceOnlyThroughBrowser() async throws {
        let farm = try TestFarm(frontEnds: 0, profile: .fast, layout: SimulatedLayout(newDatabaseInstance: Self.instance))
        defer { farm.shutdown() }
        let new = try XCTUnwrap(farm.record.newDatabase)
        let session = try await farm.session("dc1")
        let services = ServiceControlArguments(serviceTimeoutSeconds: 10)
        _ = try await session.answer(.stopServices(services))
        let target = DatabaseTarget(server: try DatabaseServerAddress(parsing: new.server))
        _ = try await session.answer(.repointDatabase(RepointArguments(targets: DatabaseTargets(all: target))))
        let upgrade = ConfigurationToolArguments(mode: .upgradeInstall(integratedAuthenticationPassword: nil), installServiceCenter: true, timeoutSeconds: 60)
        let (_, progress) = try await session.answer(.runConfigurationTool(upgrade), timeout: 90)
        XCTAssertTrue(progress.contains("Checking connection to database server \(new.server)..."), "\(progress)")
        _ = try await session.answer(.startServices(services))
        // The Deployment Controller initialises only once its platform database answers: through Browser here.
        guard case let .readiness(ready) = try await session.answer(.waitForReadiness(ReadinessArguments(timeoutSeconds: 20))).data else {
            return XCTFail("no readiness")
        }
        XCTAssertTrue(ready.ports.contains { $0.port == 12000 && $0.answered })

        var fault = FaultRequest()
        fault.browserDown = ["new"]
        try farm.inject(fault, on: "dc1")
        let error = try await session.refusal(.runConfigurationTool(upgrade), timeout: 90)
        await session.close()
        XCTAssertTrue(error.message.contains("error: 26 - Error Locating Server/Instance Specified"), error.message)
    }
}

/// The same layouts and faults through osfarm-sim's command line, as a person or a script sets them up.
final class SimulatorCommandLineTests: XCTestCase {
    /// osfarm-sim with its output in files, waited for with waitpid: `farm up` leaves sshd and the
    /// network process running, which keep a captured pipe open after it exits, and Foundation's
    /// Process on Linux did not reap it here (the test hung on a zombie).
    /// osfarm-sim with these arguments; or, when the first is /usr/bin/env, whatever env starts.
    private func sim(_ arguments: [String]) throws -> CommandResult {
        let base = NSTemporaryDirectory() + "osfarm-sim-\(UUID().uuidString)"
        defer { for suffix in [".out", ".err"] { try? FileManager.default.removeItem(atPath: base + suffix) } }
        let out = open(base + ".out", O_WRONLY | O_CREAT | O_TRUNC, 0o600), err = open(base + ".err", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        defer { close(out); close(err) }
        let viaEnvironment = arguments.first == "/usr/bin/env"
        let pid = try Tool.spawn(
            viaEnvironment ? "/usr/bin/env" : TestFarm.binary("osfarm-sim"), Array(arguments.dropFirst(viaEnvironment ? 1 : 0)), stdout: out,
            stderr: err)
        let status = Tool.waitForExit(pid)
        func text(_ suffix: String) -> String { String(decoding: FileManager.default.contents(atPath: base + suffix) ?? Data(), as: UTF8.self) }
        return CommandResult(status: status, stdout: text(".out"), stderr: text(".err"))
    }

    func testFarmUpTakesTheLayoutsAndFaultTakesTheDrift() throws {
        let directory = NSTemporaryDirectory() + "osfarm-cli-\(UUID().uuidString.prefix(8))"
        defer { _ = try? sim(["farm", "down", "--dir", directory, "--remove"]) }
        let refused = try sim(["farm", "up", "--dir", directory, "--new-database-instance", "MY-INST"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("the instance contains \"-\", which SQL Server instance names cannot hold"), refused.stderr)

        // Started from PATH (argv[0] only a name) in a folder without the agent: it finds the agent
        // next to itself, as its help says, and says what to do next.
        let folder = URL(fileURLWithPath: TestFarm.binary("osfarm-sim")).deletingLastPathComponent().path
        let path = folder + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let up = try sim([
            "/usr/bin/env", "PATH=\(path)", "osfarm-sim", "farm", "up", "--dir", directory, "--front-ends", "1", "--profile", "instant",
            "--new-database-instance", "OSNEW",
            "--no-new-database-browser", "--separate-session-database", "--front-end-controller-service", "manual",
            "--port", String(Int.random(in: 20000...40000)),
        ])
        XCTAssertEqual(up.status, 0, up.stderr)
        XCTAssertTrue(up.stdout.contains("next:        osfarm check -i \(directory)/"), up.stdout)
        XCTAssertTrue(up.stdout.contains("osfarm move-db plan -i \(directory)/"), up.stdout)
        XCTAssertTrue(up.stdout.contains("database:    new sql-new.farm.test\\OSNEW ("), up.stdout)
        XCTAssertTrue(up.stdout.contains("database:    session sql-session.farm.test ("), up.stdout)
        XCTAssertEqual(try sim(["farm", "database", "--dir", directory, "new"]).stdout, "sql-new.farm.test\\OSNEW\n")
        XCTAssertEqual(try sim(["farm", "database", "--dir", directory, "session"]).stdout, "sql-session.farm.test\n")
        let record = try LocalFarm.record(in: directory)
        XCTAssertEqual(record.newDatabase?.browser, false)
        XCTAssertEqual(
            try StateStore(serverDirectory: try record.server(named: "fe1").directory).read()
                .service("OutSystems Deployment Controller Service")?.startType, .manual)

        let fault = try sim(["fault", "--dir", directory, "--server", "fe1", "--compiler-server-hostname", "localhost", "--platform-version", "11.24.0.9"])
        XCTAssertEqual(fault.status, 0, fault.stderr)
        let status = try FarmStatus.read(directory: directory)
        XCTAssertEqual(status.servers.first { $0.name == "fe1" }?.platformVersion, "11.24.0.9")
        let hsconf = try String(
            contentsOfFile: ServerBuilder.localPath(
                ServerBuilder.installDirectory + #"\server.hsconf"#,
                serverDirectory: try record.server(named: "fe1").directory), encoding: .utf8)
        XCTAssertTrue(hsconf.contains("<CompilerServerHostname>localhost</CompilerServerHostname>"))
        XCTAssertTrue(status.text().contains("new sql-new.farm.test\\OSNEW (no Browser)"), status.text())

        // What fault says is what it did; an unknown service is answered with the server's services.
        let unknown = try sim(["fault", "--dir", directory, "--server", "fe1", "--stuck-stop", "OutSystems Sheduler"])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(
            unknown.stderr.contains("fe1 has no service \"OutSystems Sheduler\"; its services: ")
                && unknown.stderr.contains("\"OutSystems Scheduler Service\""), unknown.stderr)
        let cleared = try sim(["fault", "--dir", directory, "--server", "fe1", "--clear"])
        XCTAssertEqual(cleared.stdout, "faults cleared on fe1\n", cleared.stderr)
    }
}
