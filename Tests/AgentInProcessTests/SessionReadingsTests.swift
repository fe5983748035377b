import FarmAgent
import FarmProtocol
@testable import FarmSimulator
import Foundation
import XCTest

/// What one agent session reads once (SessionReadings): the installation, the host's names and
/// locale, the start types and the services that are not installed. Counted on the programs the
/// agent runs, and checked against a server changed behind the agent's back.
final class SessionReadingsTests: XCTestCase {
    /// The simulator's programs called in-process, each run's argv counted.
    final class CountingRunner: CommandRunner, @unchecked Sendable {
        let inner: InProcessRunner
        private let lock = NSLock()
        private var runs: [String] = []

        init(_ inner: InProcessRunner) { self.inner = inner }

        func run(_ program: String, _ arguments: [String], timeout: Double, onLine: ((String) -> Void)?) throws(AgentError) -> CommandOutput {
            note(program, arguments)
            return try inner.run(program, arguments, timeout: timeout, onLine: onLine)
        }

        func run(_ program: String, _ arguments: [String], input: Data, timeout: Double) throws(AgentError) -> CommandOutput {
            note(program, arguments)
            return try inner.run(program, arguments, input: input, timeout: timeout)
        }

        private func note(_ program: String, _ arguments: [String]) {
            let line = ([WindowsLocations.fileName(program)] + arguments).joined(separator: " ")
            lock.withLock { runs.append(line) }
        }

        func count(_ line: String) -> Int { lock.withLock { runs.filter { $0 == line }.count } }
    }

    private func session(_ farm: InProcessFarm, _ name: String) throws -> (ServerOperations, CountingRunner) {
        let server = try farm.simulated(name)
        let environment = HostEnvironment(root: server.directory, localAddress: server.address)
        let runner = CountingRunner(InProcessRunner(environment: environment))
        return (ServerOperations(environment: environment, runner: runner), runner)
    }

    private func ok(_ operations: ServerOperations, _ operation: AgentOperation) throws -> ResultData {
        switch operations.perform(operation, progress: { _ in }) {
        case let .ok(data): return data
        case let .failure(error): throw error
        }
    }

    func testARunReadsTheInstallationAndEachStartTypeOnceUntilTheConfigurationTool() throws {
        let farm = try InProcessFarm(frontEnds: 1)
        defer { farm.shutdown() }
        let (operations, runner) = try session(farm, "fe1")
        let services = ServiceControlArguments(serviceTimeoutSeconds: 10)
        for operation: AgentOperation in [
            .inspect, .stopIIS(services), .stopServices(services), .backupConfiguration(BackupArguments(runID: "20261206-000000-aaaa")),
            .inspect,
        ] {
            _ = try ok(operations, operation)
        }
        let installer = #"reg.exe query HKLM\SOFTWARE\OutSystems\Installer\Server /ve"#
        XCTAssertEqual(runner.count(installer), 1)
        XCTAssertEqual(runner.count(#"reg.exe query HKLM\SOFTWARE\OpenSSH"#), 1)
        XCTAssertEqual(runner.count("sc.exe qc OutSystems Deployment Service"), 1)
        XCTAssertEqual(runner.count("sc.exe qc W3SVC"), 1)
        XCTAssertEqual(runner.count("sc.exe queryex OutSystems SMS Connector Service"), 1, "not installed: asked once")
        // Read by each inspect and by each poll of a stop; the stop itself asks `sc stop` first
        // (an instant farm answers it STOPPED at once, so no poll).
        XCTAssertEqual(runner.count("sc.exe queryex OutSystems Deployment Service"), 3, "states are read every time")
        XCTAssertEqual(runner.count("sc.exe stop OutSystems Deployment Service"), 1)
        XCTAssertEqual(runner.count("sc.exe stop OutSystems SMS Connector Service"), 0, "known not installed: not asked to stop")

        // The Configuration Tool may install platform parts: what was read of the services is read again after it.
        _ = try ok(operations, .startIIS(services))
        _ = try ok(
            operations, .runConfigurationTool(ConfigurationToolArguments(mode: .upgradeInstall(integratedAuthenticationPassword: nil), timeoutSeconds: 60)))
        _ = try ok(operations, .startServices(services))
        _ = try ok(operations, .inspect)
        XCTAssertEqual(runner.count("sc.exe qc OutSystems Deployment Service"), 2)
        // Asked again after the Configuration Tool, by the start's `sc qc` (1060) rather than a query.
        XCTAssertEqual(runner.count("sc.exe queryex OutSystems SMS Connector Service") + runner.count("sc.exe qc OutSystems SMS Connector Service"), 2)
        XCTAssertEqual(runner.count(installer), 1)
        XCTAssertTrue(try farm.status().servers.first { $0.name == "fe1" }?.allRunning == true)
    }

    /// A service disabled after this session read its start type refuses `sc start` with 1058: it is
    /// skipped as a fresh read would skip it, and the next read sees Disabled.
    func testAServiceDisabledDuringTheSessionIsSkippedAtStart() throws {
        let farm = try InProcessFarm(frontEnds: 1)
        defer { farm.shutdown() }
        let (operations, runner) = try session(farm, "fe1")
        let services = ServiceControlArguments(serviceTimeoutSeconds: 10)
        _ = try ok(operations, .inspect)
        _ = try ok(operations, .stopServices(services))
        try farm.store("fe1").update { state in
            guard let index = state.serviceIndex("OutSystems Scheduler Service") else { return XCTFail("no Scheduler service") }
            state.services[index].startType = .disabled
        }
        guard case let .services(_, started) = try ok(operations, .startServices(services)) else { return XCTFail("no report") }
        XCTAssertTrue(started.skipped.contains("OutSystems Scheduler Service: disabled"), "\(started.skipped)")
        XCTAssertTrue(started.actions.contains("started OutSystems Deployment Service"), "\(started.actions)")
        XCTAssertEqual(runner.count("sc.exe start OutSystems Scheduler Service"), 1)
        guard case let .inspection(inspection) = try ok(operations, .inspect) else { return XCTFail("no inspection") }
        XCTAssertEqual(inspection.platform?.services.first { $0.name == "OutSystems Scheduler Service" }?.startType, .disabled)
        XCTAssertEqual(inspection.platform?.services.first { $0.name == "OutSystems Scheduler Service" }?.state, .stopped)
    }
}
