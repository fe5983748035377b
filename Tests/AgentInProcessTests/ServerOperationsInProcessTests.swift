import FarmAgent
import FarmProtocol
@testable import FarmSimulator
import Foundation
import XCTest

/// The agent's operations on simulated OutSystems servers, run in this process against the
/// simulator's emulated programs (no sshd), checked against the simulator's ground truth
/// (`FarmStatus`, the server's state store and files), never against the agent's own word alone.
/// Waits on the agent's side run on a virtual clock where the simulator need not move meanwhile.
final class ServerOperationsInProcessTests: XCTestCase {
    private func perform(_ operations: ServerOperations, _ operation: AgentOperation, events: ((ProgressEvent) -> Void)? = nil) throws -> ResultData {
        switch operations.perform(operation, progress: events ?? { _ in }) {
        case let .ok(data): return data
        case let .failure(error):
            XCTFail("\(operation.name) failed: \(error.message)")
            throw error
        }
    }

    private func agentError(_ operations: ServerOperations, _ operation: AgentOperation) throws -> AgentError {
        switch operations.perform(operation, progress: { _ in }) {
        case let .failure(error): return error
        case let .ok(result):
            XCTFail("\(operation.name) should have failed, got \(result)")
            throw AgentError(.operationFailed, "no failure")
        }
    }

    func testInspectReportsRoleServicesVersionAndDatabases() throws {
        let farm = try InProcessFarm(frontEnds: 1)
        defer { farm.shutdown() }
        let truth = try farm.status()
        for (name, role) in [("dc1", ServerRole.deploymentController), ("fe1", .frontEnd)] {
            guard case let .inspection(inspection) = try perform(try farm.operations(name), .inspect) else { return XCTFail("no inspection") }
            let platform = try XCTUnwrap(inspection.platform, inspection.platformProblem ?? "")
            let real = try XCTUnwrap(truth.servers.first { $0.name == name })
            XCTAssertEqual(platform.role, role)
            XCTAssertEqual(platform.version, "11.23.0.1")
            XCTAssertEqual(platform.installDirectory, #"C:\Program Files\OutSystems\Platform Server"#)
            XCTAssertTrue(platform.configurationToolPresent)
            XCTAssertEqual(platform.compilerServerHostname, try farm.simulated("dc1").address)
            XCTAssertEqual(platform.databases.map(\.section), [.platform, .session, .logging])
            for database in platform.databases {
                XCTAssertEqual(database.server, real.databaseServers[database.section.rawValue])
                XCTAssertEqual(database.providerKey, "SqlServer")
            }
            for service in real.services {
                let reported = try XCTUnwrap(platform.services.first { $0.name == service.name }, service.name)
                XCTAssertEqual(reported.state, service.state, service.name)
                XCTAssertEqual(reported.startType, service.startType, service.name)
            }
        }
        let fe = try XCTUnwrap(truth.servers.first { $0.name == "fe1" })
        XCTAssertEqual(fe.services.first { $0.name == "OutSystems Deployment Controller Service" }?.startType, .disabled)
    }

    /// On the wall clock: the services start and initialise in the simulator's own (fast profile) time.
    func testStopThenStartServicesAndIIS() throws {
        let farm = try InProcessFarm(frontEnds: 1, profile: .fast)
        defer { farm.shutdown() }
        let arguments = ServiceControlArguments(serviceTimeoutSeconds: 10)
        for name in ["dc1", "fe1"] {
            let operations = try farm.operations(name)
            var events: [String] = []
            _ = try perform(operations, .stopIIS(arguments)) { events.append($0.message) }
            guard case let .services(_, stopped) = try perform(operations, .stopServices(arguments), events: { events.append($0.message) }) else {
                return XCTFail("no report")
            }
            XCTAssertFalse(stopped.actions.isEmpty)
            XCTAssertTrue(events.contains("stopping OutSystems Deployment Service"), "\(events)")
            var truth = try XCTUnwrap(try farm.status().servers.first { $0.name == name })
            XCTAssertFalse(truth.iisRunning)
            XCTAssertTrue(truth.services.filter { $0.name.hasPrefix("OutSystems") }.allSatisfy { $0.state == .stopped }, "\(truth.services)")

            guard case let .services(_, again) = try perform(operations, .stopServices(arguments)),
                case let .services(_, iisAgain) = try perform(operations, .stopIIS(arguments))
            else { return XCTFail("no report") }
            XCTAssertEqual(again.actions, [], "a repeated stop does nothing")
            XCTAssertEqual(iisAgain.actions, [])

            guard case let .services(_, started) = try perform(operations, .startServices(arguments)) else { return XCTFail("no report") }
            XCTAssertTrue(started.skipped.contains { $0.contains("disabled") } == (name == "fe1"), "\(started.skipped)")
            _ = try perform(operations, .startIIS(arguments))
            guard case let .readiness(readiness) = try perform(operations, .waitForReadiness(ReadinessArguments(timeoutSeconds: 20))) else {
                return XCTFail("no readiness")
            }
            XCTAssertEqual(Set(readiness.ports.map(\.port)), name == "dc1" ? [12000, 12001, 12002] : [12001, 12002])
            truth = try XCTUnwrap(try farm.status().servers.first { $0.name == name })
            XCTAssertTrue(truth.allRunning, "\(truth.services)")
            XCTAssertTrue(truth.services.filter { FarmNetwork.servicePorts[$0.name] != nil && $0.startType != .disabled }.allSatisfy(\.initialised))
        }
    }

    /// A minute of a service stuck stopping, on the virtual clock.
    func testAStuckServiceFailsAtItsDeadlineNamingServiceAndState() throws {
        let farm = try InProcessFarm(frontEnds: 1)
        defer { farm.shutdown() }
        var fault = FaultRequest()
        fault.stuckStopping = ["OutSystems Scheduler Service"]
        try farm.inject(fault, on: "fe1")
        let clock = VirtualClock()
        let started = Date()
        let error = try agentError(try farm.operations("fe1", clock: clock), .stopServices(ServiceControlArguments(serviceTimeoutSeconds: 60)))
        XCTAssertEqual(error.code, .timedOut)
        // Without --kill-stuck-services the error names the process (from the simulator's truth) and the option.
        let pid = try XCTUnwrap(try farm.store("fe1").read().service("OutSystems Scheduler Service")?.processID)
        XCTAssertEqual(
            error.message,
            "OutSystems Scheduler Service is still STOP_PENDING after 60 s (waiting for STOPPED); "
                + "its process is PID \(pid) (Scheduler.exe). To end it, carry the run on with --kill-stuck-services")
        XCTAssertEqual(try farm.store("fe1").read().service("OutSystems Scheduler Service")?.state, .stopPending)
        XCTAssertGreaterThanOrEqual(clock.elapsed, 60, "the deadline is waited out on the virtual clock")
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
    }

    /// On the wall clock: the simulator's Scheduler leaves START_PENDING in its own time.
    func testAStopWhileAServiceIsStartingWaitsOutError1061() throws {
        let farm = try InProcessFarm(frontEnds: 1)
        defer { farm.shutdown() }
        let scheduler = "OutSystems Scheduler Service"
        // The Scheduler is still starting (START_PENDING for two more seconds): sc.exe stop answers
        // 1061 until it runs, as ControlService does.
        try farm.store("fe1").update { state in
            let index = state.serviceIndex(scheduler)!
            state.services[index].state = .startPending
            state.services[index].pendingUntil = Date().timeIntervalSince1970 + 2
        }
        var events: [String] = []
        guard
            case let .services(_, report) = try perform(
                try farm.operations("fe1"), .stopServices(ServiceControlArguments(serviceTimeoutSeconds: 20)), events: { events.append($0.message) })
        else { return XCTFail() }
        XCTAssertEqual(report.services.first { $0.name == scheduler }?.state, .stopped)
        XCTAssertTrue(events.contains { $0.contains("error 1061") }, "\(events)")
        XCTAssertEqual(try farm.status().servers.first { $0.name == "fe1" }?.services.first { $0.name == scheduler }?.state, .stopped)
    }

    func testAFailingStartReportsError1053() throws {
        let farm = try InProcessFarm(frontEnds: 1)
        defer { farm.shutdown() }
        var fault = FaultRequest()
        fault.failingStart = ["OutSystems Deployment Service"]
        try farm.inject(fault, on: "fe1")
        let operations = try farm.operations("fe1", clock: VirtualClock())
        _ = try perform(operations, .stopServices(ServiceControlArguments(serviceTimeoutSeconds: 5)))
        let error = try agentError(operations, .startServices(ServiceControlArguments(serviceTimeoutSeconds: 5)))
        XCTAssertEqual(
            error.message,
            "sc.exe start \"OutSystems Deployment Service\" failed with error 1053: The service did not respond to the start or control request in a timely fashion."
        )
        XCTAssertNotEqual(try farm.store("fe1").read().service("OutSystems Deployment Service")?.state, .running)
    }

    func testRepointChangesExactlyTheThreeServerValuesAndRestoreGivesBackEveryByte() throws {
        let farm = try InProcessFarm(frontEnds: 1)
        defer { farm.shutdown() }
        let old = try XCTUnwrap(farm.record.oldDatabase).server, new = try XCTUnwrap(farm.record.newDatabase).server
        let hsconf = try farm.file(#"C:\Program Files\OutSystems\Platform Server\server.hsconf"#, on: "fe1")
        let original = try Data(contentsOf: URL(fileURLWithPath: hsconf))
        let originalText = String(decoding: original, as: UTF8.self)
        XCTAssertTrue(originalText.contains("<!--") && originalText.contains("&amp;") && originalText.contains("encrypted=\"true\">$2$"))
        XCTAssertEqual(try decryptedPassword("RuntimePassword", in: originalText, farm, "fe1"), "Run<time>Pass", "the farm's private.key reads it")

        let operations = try farm.operations("fe1")
        guard case let .backup(_, backup) = try perform(operations, .backupConfiguration(BackupArguments(runID: "run-1"))) else { return XCTFail() }
        XCTAssertEqual(backup.files.map(\.sha256).first, SHA256.hex(Array(original)))

        let target = DatabaseTarget(server: try DatabaseServerAddress(parsing: new))
        let wrongExpectation = try agentError(
            operations,
            .repointDatabase(RepointArguments(targets: DatabaseTargets(all: target), expectedCurrentServer: try DatabaseServerAddress(host: "elsewhere"))))
        XCTAssertTrue(wrongExpectation.message.contains("not elsewhere as expected"), wrongExpectation.message)

        guard
            case let .repoint(result) = try perform(
                operations,
                .repointDatabase(RepointArguments(targets: DatabaseTargets(all: target), expectedCurrentServer: try DatabaseServerAddress(parsing: old))))
        else { return XCTFail() }
        XCTAssertEqual(result.changes.map(\.section), [.platform, .session, .logging])
        let changed = try String(contentsOfFile: hsconf, encoding: .utf8)
        XCTAssertEqual(
            changed, originalText.replacingOccurrences(of: "<Server>\(old)</Server>", with: "<Server>\(new)</Server>"),
            "only the three Server values change")
        XCTAssertEqual(Set(try farm.status().servers.first { $0.name == "fe1" }!.databaseServers.values), [new])

        guard case let .repoint(again) = try perform(operations, .repointDatabase(RepointArguments(targets: DatabaseTargets(all: target)))) else {
            return XCTFail()
        }
        XCTAssertEqual(again.changes, [], "repointing twice changes nothing")

        // A second backup for the same run keeps the original copy, not the repointed file.
        guard case let .backup(_, kept) = try perform(operations, .backupConfiguration(BackupArguments(runID: "run-1"))) else { return XCTFail() }
        XCTAssertEqual(kept, backup)
        _ = try perform(operations, .restoreConfiguration(BackupArguments(runID: "run-1")))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: hsconf)), original, "restore gives back every byte")
        let missing = try agentError(operations, .restoreConfiguration(BackupArguments(runID: "never-made")))
        XCTAssertEqual(missing.code, .notFound)
    }

    func testConfigurationToolAgainstReachableAndUnreachableDatabases() throws {
        let farm = try InProcessFarm(frontEnds: 1, clearTextPasswords: true)
        defer { farm.shutdown() }
        let new = try XCTUnwrap(farm.record.newDatabase).server
        let hsconf = try farm.file(#"C:\Program Files\OutSystems\Platform Server\server.hsconf"#, on: "dc1")
        XCTAssertTrue(try String(contentsOfFile: hsconf, encoding: .utf8).contains("<AdminPassword>Adm1n&amp;Platform</AdminPassword>"))
        let operations = try farm.operations("dc1")
        let target = DatabaseTarget(server: try DatabaseServerAddress(parsing: new))
        _ = try perform(operations, .repointDatabase(RepointArguments(targets: DatabaseTargets(all: target))))
        var lines: [String] = []
        let upgrade = ConfigurationToolArguments(mode: .upgradeInstall(integratedAuthenticationPassword: nil), installServiceCenter: true, timeoutSeconds: 60)
        guard case let .configurationTool(run) = try perform(operations, .runConfigurationTool(upgrade), events: { lines.append($0.message) }) else {
            return XCTFail()
        }
        XCTAssertEqual(run.exitCode, 0)
        XCTAssertTrue(lines.contains("Checking connection to database server \(new)..."), "\(lines)")
        XCTAssertTrue(lines.contains("Service Center installed."), "output is streamed as progress: \(lines)")
        XCTAssertTrue(run.logTail.contains { $0.contains("Configuration Tool finished successfully") }, "\(run.logTail)")
        XCTAssertEqual(try farm.status().servers.first { $0.name == "dc1" }?.lastConfigurationTool?.exitCode, 0)
        let encrypted = try String(contentsOfFile: hsconf, encoding: .utf8)
        XCTAssertFalse(encrypted.contains("Adm1n"), "clear-text passwords are encrypted in place")
        XCTAssertTrue(encrypted.contains("<AdminPassword encrypted=\"true\">$2$"))
        XCTAssertEqual(try decryptedPassword("AdminPassword", in: encrypted, farm, "dc1"), "Adm1n&Platform", "the tool encrypts as the platform does")

        // Point at a database that does not answer.
        let nowhere = DatabaseTarget(server: try DatabaseServerAddress(parsing: "127.0.0.1,9"))
        _ = try perform(operations, .repointDatabase(RepointArguments(targets: DatabaseTargets(all: nowhere))))
        let unreachable = try agentError(operations, .runConfigurationTool(upgrade))
        XCTAssertEqual(unreachable.code, .operationFailed)
        XCTAssertTrue(unreachable.message.contains("exited 1: ERROR: Error connecting to database server '127.0.0.1,9'"), unreachable.message)
        XCTAssertTrue(unreachable.detail?.contains { $0.contains("Error connecting to database server") } ?? false, "\(String(describing: unreachable.detail))")
        XCTAssertEqual(try farm.status().servers.first { $0.name == "dc1" }?.lastConfigurationTool?.exitCode, 1)
    }

    func testConfigurationToolInjectedFailureIsReportedWithTheLogTail() throws {
        let farm = try InProcessFarm(frontEnds: 0)
        defer { farm.shutdown() }
        var fault = FaultRequest()
        fault.configurationToolFailure = "The license file is not valid for this installation."
        try farm.inject(fault, on: "dc1")
        let error = try agentError(
            try farm.operations("dc1", clock: VirtualClock()),
            .runConfigurationTool(ConfigurationToolArguments(mode: .applySettingsFactory, timeoutSeconds: 30)))
        XCTAssertTrue(error.message.hasSuffix("ERROR: The license file is not valid for this installation."), error.message)
        XCTAssertEqual(
            error.detail?.last?.hasSuffix("[ERROR] ERROR The license file is not valid for this installation."), true, "\(String(describing: error.detail))")
    }

    func testServiceCenterInstallationNeedsIIS() throws {
        let farm = try InProcessFarm(frontEnds: 0)
        defer { farm.shutdown() }
        let operations = try farm.operations("dc1", clock: VirtualClock())
        _ = try perform(operations, .stopIIS(ServiceControlArguments(serviceTimeoutSeconds: 5)))
        XCTAssertEqual(try farm.status().servers.first { $0.name == "dc1" }?.iisRunning, false)
        let error = try agentError(
            operations,
            .runConfigurationTool(ConfigurationToolArguments(mode: .upgradeInstall(integratedAuthenticationPassword: nil), installServiceCenter: true)))
        XCTAssertTrue(error.message.contains("IIS is not running"), error.message)
    }

    /// Both waits on the virtual clock: the short lock ends at the agent's first poll (as its holder
    /// exiting would), the long one outlasts the agent's bound without a second of it waited out.
    func testALockedMachineConfigIsWaitedOutWithinItsBound() throws {
        let farm = try InProcessFarm(frontEnds: 0)
        defer { farm.shutdown() }
        var lock = FaultRequest()
        lock.lockMachineConfigSeconds = 60
        try farm.inject(lock, on: "dc1")
        let clock = VirtualClock()
        clock.onSleep = { [clock] in
            clock.onSleep = nil
            try? farm.releaseMachineConfig(on: "dc1")
        }
        var lines: [String] = []
        let arguments = ConfigurationToolArguments(mode: .applySettingsFactory, timeoutSeconds: 30, machineConfigWaitSeconds: 10)
        guard
            case let .configurationTool(run) = try perform(
                try farm.operations("dc1", clock: clock), .runConfigurationTool(arguments), events: { lines.append($0.message) })
        else { return XCTFail() }
        XCTAssertEqual(run.exitCode, 0)
        XCTAssertTrue(lines.contains { $0.contains("machine.config is locked") } && lines.contains("machine.config is free"), "\(lines)")
        XCTAssertEqual(try farm.status().servers.first { $0.name == "dc1" }?.lastConfigurationTool?.exitCode, 0)

        try farm.inject(lock, on: "dc1")
        defer { try? farm.releaseMachineConfig(on: "dc1") }
        let before = try farm.status().servers.first { $0.name == "dc1" }?.lastConfigurationTool
        let bounded = VirtualClock()
        let started = Date()
        let error = try agentError(
            try farm.operations("dc1", clock: bounded),
            .runConfigurationTool(ConfigurationToolArguments(mode: .applySettingsFactory, timeoutSeconds: 30, machineConfigWaitSeconds: 1)))
        XCTAssertEqual(error.code, .timedOut)
        XCTAssertTrue(error.message.contains("machine.config") && error.message.contains("stayed locked by another process for 1 s"), error.message)
        XCTAssertGreaterThanOrEqual(bounded.elapsed, 1)
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
        XCTAssertEqual(try farm.status().servers.first { $0.name == "dc1" }?.lastConfigurationTool, before, "the tool did not run")
    }

    func testTCPProbeFromTheServer() throws {
        let farm = try InProcessFarm(frontEnds: 0)
        defer { farm.shutdown() }
        let operations = try farm.operations("dc1")
        let new = try XCTUnwrap(farm.record.newDatabase)
        guard case let .probe(reachable) = try perform(operations, .probeTCP(TCPProbeArguments(host: new.server, port: 1433, timeoutSeconds: 2))),
            case let .probe(closed) = try perform(operations, .probeTCP(TCPProbeArguments(host: "127.0.0.1", port: 9, timeoutSeconds: 2)))
        else { return XCTFail() }
        XCTAssertTrue(reachable.reachable, "\(reachable)")
        XCTAssertFalse(closed.reachable)
        XCTAssertEqual(closed.port, 9)
        XCTAssertNotNil(closed.error)
    }

    /// An encrypted password element of a server.hsconf, decrypted with that server's private.key.
    private func decryptedPassword(_ element: String, in hsconf: String, _ farm: InProcessFarm, _ server: String) throws -> String? {
        let open = "<\(element) encrypted=\"true\">"
        let start = try XCTUnwrap(hsconf.range(of: open)).upperBound
        let value = String(hsconf[start...].prefix { $0 != "<" })
        let keyFile = try String(contentsOfFile: try farm.file(ServerBuilder.installDirectory + #"\private.key"#, on: server), encoding: .utf8)
        return HsconfCipher.decrypt(value, key: try XCTUnwrap(HsconfCipher.keyBytes(privateKeyFile: keyFile)))
    }
}
