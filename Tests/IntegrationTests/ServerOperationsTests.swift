import FarmController
import FarmProtocol
@testable import FarmSimulator
import FarmSSH
import Foundation
import XCTest

/// The agent's operations over real sshd on simulated OutSystems servers, checked against the
/// simulator's ground truth (`FarmStatus`), never against the agent's own word alone.
final class ServerOperationsTests: XCTestCase {
    private func perform(
        _ session: AgentSession, _ operation: AgentOperation, timeout: Double = 30,
        events: ((ProgressEvent) -> Void)? = nil
    ) async throws -> ResultData {
        try await session.perform(operation, timeout: timeout, progress: events ?? { _ in })
    }

    private func agentError(_ session: AgentSession, _ operation: AgentOperation, timeout: Double = 30) async throws -> AgentError {
        do {
            let result = try await session.perform(operation, timeout: timeout)
            XCTFail("\(operation.name) should have failed, got \(result)")
            throw SSHError.cancelled
        } catch let AgentSessionError.agentFailed(_, error) {
            return error
        }
    }

    func testInspectReportsRoleServicesVersionAndDatabases() async throws {
        let farm = try TestFarm(frontEnds: 1)
        defer { farm.shutdown() }
        let truth = try farm.status()
        for (name, role) in [("dc1", ServerRole.deploymentController), ("fe1", .frontEnd)] {
            let session = try await farm.session(name)
            guard case let .inspection(inspection) = try await perform(session, .inspect) else { return XCTFail("no inspection") }
            await session.close()
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

    func testStopThenStartServicesAndIIS() async throws {
        let farm = try TestFarm(frontEnds: 1, profile: .fast)
        defer { farm.shutdown() }
        let arguments = ServiceControlArguments(serviceTimeoutSeconds: 10)
        for name in ["dc1", "fe1"] {
            let session = try await farm.session(name)
            var events: [String] = []
            _ = try await perform(session, .stopIIS(arguments)) { events.append($0.message) }
            guard case let .services(_, stopped) = try await perform(session, .stopServices(arguments), events: { events.append($0.message) }) else {
                return XCTFail("no report")
            }
            XCTAssertFalse(stopped.actions.isEmpty)
            XCTAssertTrue(events.contains("stopping OutSystems Deployment Service"), "\(events)")
            var truth = try XCTUnwrap(try farm.status().servers.first { $0.name == name })
            XCTAssertFalse(truth.iisRunning)
            XCTAssertTrue(truth.services.filter { $0.name.hasPrefix("OutSystems") }.allSatisfy { $0.state == .stopped }, "\(truth.services)")

            guard case let .services(_, again) = try await perform(session, .stopServices(arguments)),
                case let .services(_, iisAgain) = try await perform(session, .stopIIS(arguments))
            else { return XCTFail("no report") }
            XCTAssertEqual(again.actions, [], "a repeated stop does nothing")
            XCTAssertEqual(iisAgain.actions, [])

            guard case let .services(_, started) = try await perform(session, .startServices(arguments)) else { return XCTFail("no report") }
            XCTAssertTrue(started.skipped.contains { $0.contains("disabled") } == (name == "fe1"), "\(started.skipped)")
            _ = try await perform(session, .startIIS(arguments))
            guard case let .readiness(readiness) = try await perform(session, .waitForReadiness(ReadinessArguments(timeoutSeconds: 20))) else {
                return XCTFail("no readiness")
            }
            XCTAssertEqual(Set(readiness.ports.map(\.port)), name == "dc1" ? [12000, 12001, 12002] : [12001, 12002])
            truth = try XCTUnwrap(try farm.status().servers.first { $0.name == name })
            XCTAssertTrue(truth.allRunning, "\(truth.services)")
            XCTAssertTrue(truth.services.filter { FarmNetwork.servicePorts[$0.name] != nil && $0.startType != .disabled }.allSatisfy(\.initialised))
            await session.close()
        }
    }

    func testAStuckServiceFailsAtItsDeadlineNamingServiceAndState() async throws {
        let farm = try TestFarm(frontEnds: 1)
        defer { farm.shutdown() }
        var fault = FaultRequest()
        fault.stuckStopping = ["OutSystems Scheduler Service"]
        try farm.inject(fault, on: "fe1")
        let session = try await farm.session("fe1")
        let started = Date()
        let error = try await agentError(session, .stopServices(ServiceControlArguments(serviceTimeoutSeconds: 1)))
        XCTAssertEqual(error.code, .timedOut)
        // Without --kill-stuck-services the error names the process (from the simulator's truth) and the option.
        let pid = try XCTUnwrap(try farm.store("fe1").read().service("OutSystems Scheduler Service")?.processID)
        XCTAssertEqual(
            error.message,
            "OutSystems Scheduler Service is still STOP_PENDING after 1 s (waiting for STOPPED); "
                + "its process is PID \(pid) (Scheduler.exe). To end it, carry the run on with --kill-stuck-services")
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
        await session.close()
    }

    func testAStopWhileAServiceIsStartingWaitsOutError1061() async throws {
        let farm = try TestFarm(frontEnds: 1)
        defer { farm.shutdown() }
        let scheduler = "OutSystems Scheduler Service"
        // The Scheduler is still starting (START_PENDING for two more seconds): sc.exe stop answers
        // 1061 until it runs, as ControlService does.
        try farm.store("fe1").update { state in
            let index = state.serviceIndex(scheduler)!
            state.services[index].state = .startPending
            state.services[index].pendingUntil = Date().timeIntervalSince1970 + 2
        }
        let session = try await farm.session("fe1")
        var events: [String] = []
        guard
            case let .services(_, report) = try await perform(
                session, .stopServices(ServiceControlArguments(serviceTimeoutSeconds: 20)),
                events: { events.append($0.message) })
        else { return XCTFail() }
        XCTAssertEqual(report.services.first { $0.name == scheduler }?.state, .stopped)
        XCTAssertTrue(events.contains { $0.contains("error 1061") }, "\(events)")
        XCTAssertEqual(try farm.status().servers.first { $0.name == "fe1" }?.services.first { $0.name == scheduler }?.state, .stopped)
        await session.close()
    }

    func testAFailingStartReportsError1053() async throws {
        let farm = try TestFarm(frontEnds: 1)
        defer { farm.shutdown() }
        var fault = FaultRequest()
        fault.failingStart = ["OutSystems Deployment Service"]
        try farm.inject(fault, on: "fe1")
        let session = try await farm.session("fe1")
        _ = try await perform(session, .stopServices(ServiceControlArguments(serviceTimeoutSeconds: 5)))
        let error = try await agentError(session, .startServices(ServiceControlArguments(serviceTimeoutSeconds: 5)))
        XCTAssertEqual(
            error.message,
            "sc.exe start \"OutSystems Deployment Service\" failed with error 1053: The service did not respond to the start or control request in a timely fashion."
        )
        await session.close()
    }

    func testRepointChangesExactlyTheThreeServerValuesAndRestoreGivesBackEveryByte() async throws {
        let farm = try TestFarm(frontEnds: 1)
        defer { farm.shutdown() }
        let old = try XCTUnwrap(farm.record.oldDatabase).server, new = try XCTUnwrap(farm.record.newDatabase).server
        let hsconf = try farm.file(#"C:\Program Files\OutSystems\Platform Server\server.hsconf"#, on: "fe1")
        let original = try Data(contentsOf: URL(fileURLWithPath: hsconf))
        let originalText = String(decoding: original, as: UTF8.self)
        XCTAssertTrue(originalText.contains("<!--") && originalText.contains("&amp;") && originalText.contains("encrypted=\"true\">$2$"))
        XCTAssertEqual(try decryptedPassword("RuntimePassword", in: originalText, farm, "fe1"), "Run<time>Pass", "the farm's private.key reads it")

        let session = try await farm.session("fe1")
        guard case let .backup(_, backup) = try await perform(session, .backupConfiguration(BackupArguments(runID: "run-1"))) else { return XCTFail() }
        XCTAssertEqual(backup.files.map(\.sha256).first, SHA256.hex(Array(original)))

        let target = DatabaseTarget(server: try DatabaseServerAddress(parsing: new))
        let wrongExpectation = try await agentError(
            session,
            .repointDatabase(RepointArguments(targets: DatabaseTargets(all: target), expectedCurrentServer: try DatabaseServerAddress(host: "elsewhere"))))
        XCTAssertTrue(wrongExpectation.message.contains("not elsewhere as expected"), wrongExpectation.message)

        guard
            case let .repoint(result) = try await perform(
                session,
                .repointDatabase(RepointArguments(targets: DatabaseTargets(all: target), expectedCurrentServer: try DatabaseServerAddress(parsing: old))))
        else { return XCTFail() }
        XCTAssertEqual(result.changes.map(\.section), [.platform, .session, .logging])
        let changed = try String(contentsOfFile: hsconf, encoding: .utf8)
        XCTAssertEqual(
            changed, originalText.replacingOccurrences(of: "<Server>\(old)</Server>", with: "<Server>\(new)</Server>"),
            "only the three Server values change")
        XCTAssertEqual(Set(try farm.status().servers.first { $0.name == "fe1" }!.databaseServers.values), [new])

        guard case let .repoint(again) = try await perform(session, .repointDatabase(RepointArguments(targets: DatabaseTargets(all: target)))) else {
            return XCTFail()
        }
        XCTAssertEqual(again.changes, [], "repointing twice changes nothing")

        // A second backup for the same run keeps the original copy, not the repointed file.
        guard case let .backup(_, kept) = try await perform(session, .backupConfiguration(BackupArguments(runID: "run-1"))) else { return XCTFail() }
        XCTAssertEqual(kept, backup)
        _ = try await perform(session, .restoreConfiguration(BackupArguments(runID: "run-1")))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: hsconf)), original, "restore gives back every byte")
        let missing = try await agentError(session, .restoreConfiguration(BackupArguments(runID: "never-made")))
        XCTAssertEqual(missing.code, .notFound)
        await session.close()
    }

    func testConfigurationToolAgainstReachableAndUnreachableDatabases() async throws {
        let farm = try TestFarm(frontEnds: 1, clearTextPasswords: true)
        defer { farm.shutdown() }
        let new = try XCTUnwrap(farm.record.newDatabase).server
        let hsconf = try farm.file(#"C:\Program Files\OutSystems\Platform Server\server.hsconf"#, on: "dc1")
        XCTAssertTrue(try String(contentsOfFile: hsconf, encoding: .utf8).contains("<AdminPassword>Adm1n&amp;Platform</AdminPassword>"))
        let session = try await farm.session("dc1")
        let target = DatabaseTarget(server: try DatabaseServerAddress(parsing: new))
        _ = try await perform(session, .repointDatabase(RepointArguments(targets: DatabaseTargets(all: target))))
        var lines: [String] = []
        let upgrade = ConfigurationToolArguments(mode: .upgradeInstall(integratedAuthenticationPassword: nil), installServiceCenter: true, timeoutSeconds: 60)
        guard case let .configurationTool(run) = try await perform(session, .runConfigurationTool(upgrade), events: { lines.append($0.message) }) else {
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
        _ = try await perform(session, .repointDatabase(RepointArguments(targets: DatabaseTargets(all: nowhere))))
        let unreachable = try await agentError(session, .runConfigurationTool(upgrade))
        XCTAssertEqual(unreachable.code, .operationFailed)
        XCTAssertTrue(unreachable.message.contains("exited 1: ERROR: Error connecting to database server '127.0.0.1,9'"), unreachable.message)
        XCTAssertTrue(unreachable.detail?.contains { $0.contains("Error connecting to database server") } ?? false, "\(String(describing: unreachable.detail))")
        await session.close()
    }

    func testConfigurationToolInjectedFailureIsReportedWithTheLogTail() async throws {
        let farm = try TestFarm(frontEnds: 0)
        defer { farm.shutdown() }
        var fault = FaultRequest()
        fault.configurationToolFailure = "The license file is not valid for this installation."
        try farm.inject(fault, on: "dc1")
        let session = try await farm.session("dc1")
        let error = try await agentError(session, .runConfigurationTool(ConfigurationToolArguments(mode: .applySettingsFactory, timeoutSeconds: 30)))
        XCTAssertTrue(error.message.hasSuffix("ERROR: The license file is not valid for this installation."), error.message)
        XCTAssertEqual(
            error.detail?.last?.hasSuffix("[ERROR] ERROR The license file is not valid for this installation."), true, "\(String(describing: error.detail))")
        await session.close()
    }

    func testServiceCenterInstallationNeedsIIS() async throws {
        let farm = try TestFarm(frontEnds: 0)
        defer { farm.shutdown() }
        let session = try await farm.session("dc1")
        _ = try await perform(session, .stopIIS(ServiceControlArguments(serviceTimeoutSeconds: 5)))
        let error = try await agentError(
            session, .runConfigurationTool(ConfigurationToolArguments(mode: .upgradeInstall(integratedAuthenticationPassword: nil), installServiceCenter: true))
        )
        XCTAssertTrue(error.message.contains("IIS is not running"), error.message)
        await session.close()
    }

    func testALockedMachineConfigIsWaitedOutWithinItsBound() async throws {
        let farm = try TestFarm(frontEnds: 0)
        defer { farm.shutdown() }
        let session = try await farm.session("dc1")
        var shortLock = FaultRequest()
        shortLock.lockMachineConfigSeconds = 1.5
        try farm.inject(shortLock, on: "dc1")
        var lines: [String] = []
        let arguments = ConfigurationToolArguments(mode: .applySettingsFactory, timeoutSeconds: 30, machineConfigWaitSeconds: 10)
        guard case let .configurationTool(run) = try await perform(session, .runConfigurationTool(arguments), events: { lines.append($0.message) }) else {
            return XCTFail()
        }
        XCTAssertEqual(run.exitCode, 0)
        XCTAssertTrue(lines.contains { $0.contains("machine.config is locked") } && lines.contains("machine.config is free"), "\(lines)")

        var longLock = FaultRequest()
        longLock.lockMachineConfigSeconds = 20
        try farm.inject(longLock, on: "dc1")
        let started = Date()
        let bounded = ConfigurationToolArguments(mode: .applySettingsFactory, timeoutSeconds: 30, machineConfigWaitSeconds: 1)
        let error = try await agentError(session, .runConfigurationTool(bounded))
        XCTAssertEqual(error.code, .timedOut)
        XCTAssertTrue(error.message.contains("machine.config") && error.message.contains("stayed locked by another process for 1 s"), error.message)
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
        await session.close()
    }

    func testTCPProbeFromTheServer() async throws {
        let farm = try TestFarm(frontEnds: 0)
        defer { farm.shutdown() }
        let session = try await farm.session("dc1")
        let new = try XCTUnwrap(farm.record.newDatabase)
        guard case let .probe(reachable) = try await perform(session, .probeTCP(TCPProbeArguments(host: new.server, port: 1433, timeoutSeconds: 2))),
            case let .probe(closed) = try await perform(session, .probeTCP(TCPProbeArguments(host: "127.0.0.1", port: 9, timeoutSeconds: 2)))
        else { return XCTFail() }
        XCTAssertTrue(reachable.reachable, "\(reachable)")
        XCTAssertFalse(closed.reachable)
        XCTAssertEqual(closed.port, 9)
        XCTAssertNotNil(closed.error)
        await session.close()
    }

    func testFarmUpIsQuickAndFarmDownLeavesNoProcess() throws {
        let started = Date()
        let farm = try TestFarm(frontEnds: 3, profile: .fast)
        XCTAssertLessThan(Date().timeIntervalSince(started), 15, "1 DC + 3 FE up in seconds")
        var pids = farm.record.servers.map(\.sshdPID) + [try XCTUnwrap(farm.record.networkPID)]
        pids += pids.flatMap(ProcessTree.descendants)
        XCTAssertTrue(pids.allSatisfy(ProcessTree.isAlive))
        farm.shutdown()
        XCTAssertTrue(pids.allSatisfy { !ProcessTree.isAlive($0) }, "processes left: \(pids.filter(ProcessTree.isAlive))")
        XCTAssertFalse(FileManager.default.fileExists(atPath: farm.directory))
    }

    /// An encrypted password element of a server.hsconf, decrypted with that server's private.key.
    private func decryptedPassword(_ element: String, in hsconf: String, _ farm: TestFarm, _ server: String) throws -> String? {
        let open = "<\(element) encrypted=\"true\">"
        let start = try XCTUnwrap(hsconf.range(of: open)).upperBound
        let value = String(hsconf[start...].prefix { $0 != "<" })
        let keyFile = try String(contentsOfFile: try farm.file(ServerBuilder.installDirectory + #"\private.key"#, on: server), encoding: .utf8)
        return HsconfCipher.decrypt(value, key: try XCTUnwrap(HsconfCipher.keyBytes(privateKeyFile: keyFile)))
    }
}
