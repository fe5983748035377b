import FarmController
import FarmProtocol
@testable import FarmSimulator
import Foundation
import Glibc
import XCTest

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
