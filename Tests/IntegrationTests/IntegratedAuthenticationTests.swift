import FarmController
import FarmProtocol
@testable import FarmSimulator
import Foundation
import XCTest

/// The Configuration Tool on a farm on integrated (Windows) authentication, through the real agent
/// over real sshd: the password after /UpgradeInstall and through /WithWindowsAuthentication for
/// /InstallServiceCenter and /ApplySettingsFactory, and never in a record.
final class IntegratedAuthenticationTests: XCTestCase {
    static let secret = Secret("Int3grated-Admin-Pa55-9081")
    static let tool = ServerBuilder.installDirectory + #"\ConfigurationTool.com"#

    /// Everything on the simulated servers a password could leak into.
    private func records(_ farm: TestFarm) throws -> String {
        var text = ""
        for server in farm.record.servers {
            text += try String(contentsOfFile: server.directory + "/ssh/sshd.log", encoding: .utf8)
            text += try String(contentsOfFile: try farm.file(#"C:\Windows\Temp\ConfigurationTool.log"#, on: server.name), encoding: .utf8)
            text += try String(contentsOfFile: server.directory + "/state.json", encoding: .utf8)
        }
        return text + (try farm.status().json())
    }

    func testUpgradeInstallWithServiceCenterGivesThePasswordTwiceAndRecordsItNowhere() async throws {
        let farm = try TestFarm(frontEnds: 1, windowsAuthentication: true)
        defer { farm.shutdown() }
        let session = try await farm.session("dc1")
        let arguments = ConfigurationToolArguments(
            mode: .upgradeInstall(integratedAuthenticationPassword: Self.secret), installServiceCenter: true,
            timeoutSeconds: 60)
        let (data, progress) = try await session.answer(.runConfigurationTool(arguments), timeout: 90)
        guard case let .configurationTool(run) = data else { return XCTFail("\(data)") }
        await session.close()
        XCTAssertEqual(run.exitCode, 0)
        XCTAssertEqual(progress.first, "ConfigurationTool.com /UpgradeInstall /InstallServiceCenter /WithWindowsAuthentication")
        XCTAssertTrue(progress.contains("Service Center installed."), "\(progress)")
        // The simulator's record of the run: the switches and how many arguments each had.
        XCTAssertEqual(
            try farm.status().servers.first { $0.name == "dc1" }?.lastConfigurationTool?.switches,
            ["/upgradeinstall(1)", "/installservicecenter", "/withwindowsauthentication(1)"])
        let everything = try records(farm) + progress.joined() + "\(run)" + String(decoding: try WireCodec.recordEncoder().encode(run), as: UTF8.self)
        XCTAssertFalse(everything.contains(Self.secret.reveal()), "the password leaked")
    }

    func testTheToolRefusesServiceCenterWithoutTheIntegratedPassword() throws {
        let farm = try TestFarm(frontEnds: 0, windowsAuthentication: true)
        defer { farm.shutdown() }
        // The argv osfarm sent before: the password after /UpgradeInstall only.
        let old = try farm.emulate(Self.tool, ["/UpgradeInstall", Self.secret.reveal(), "/InstallServiceCenter"], on: "dc1")
        XCTAssertNotEqual(old.status, 0)
        XCTAssertTrue(old.stdout.contains("/installservicecenter needs the administrator password (/WithWindowsAuthentication <password>)"), old.stdout)
        let bare = try farm.emulate(Self.tool, ["/UpgradeInstall"], on: "dc1")
        XCTAssertNotEqual(bare.status, 0)
        XCTAssertTrue(bare.stdout.contains("/UpgradeInstall needs the administrator password"), bare.stdout)
        let apply = try farm.emulate(Self.tool, ["/ApplySettingsFactory"], on: "dc1")
        XCTAssertNotEqual(apply.status, 0)
        XCTAssertTrue(apply.stdout.contains("/applysettingsfactory needs the administrator password"), apply.stdout)
        let missingArgument = try farm.emulate(Self.tool, ["/ApplySettingsFactory", "/WithWindowsAuthentication"], on: "dc1")
        XCTAssertNotEqual(missingArgument.status, 0)
        XCTAssertTrue(missingArgument.stdout.contains("Wrong number of arguments for /withwindowsauthentication"), missingArgument.stdout)
        let together = try farm.emulate(Self.tool, ["/ApplySettingsFactory", "/InstallServiceCenter", "/WithWindowsAuthentication", "x"], on: "dc1")
        XCTAssertNotEqual(together.status, 0)
        XCTAssertTrue(together.stdout.contains("/applysettingsfactory cannot be used with other parameters"), together.stdout)
        let right = try farm.emulate(
            Self.tool, ["/UpgradeInstall", Self.secret.reveal(), "/InstallServiceCenter", "/WithWindowsAuthentication", Self.secret.reveal()],
            on: "dc1")
        XCTAssertEqual(right.status, 0, right.stdout)
    }

    func testTheAgentRefusalComesBackAsAnError() async throws {
        let farm = try TestFarm(frontEnds: 0, windowsAuthentication: true)
        defer { farm.shutdown() }
        let session = try await farm.session("dc1")
        let error = try await session.refusal(.runConfigurationTool(ConfigurationToolArguments(mode: .applySettingsFactory, timeoutSeconds: 30)))
        await session.close()
        XCTAssertEqual(error.code, .operationFailed)
        XCTAssertTrue(error.message.contains("exited 1") && error.message.contains("needs the administrator password"), error.message)
    }

    func testApplySettingsFactoryRestartsTheServicesQuietlyAndTheyInitialiseAgain() async throws {
        let farm = try TestFarm(frontEnds: 1, profile: .fast, windowsAuthentication: true)
        defer { farm.shutdown() }
        for name in ["dc1", "fe1"] {
            let store = try farm.store(name)
            let before = try store.read().services.filter { $0.name.hasPrefix("OutSystems") && $0.state == .running }
            XCTAssertFalse(before.isEmpty)
            let session = try await farm.session(name)
            let mode = ConfigurationToolMode.applySettingsFactory(integratedAuthenticationPassword: Self.secret)
            let (data, progress) = try await session.answer(.runConfigurationTool(ConfigurationToolArguments(mode: mode, timeoutSeconds: 60)), timeout: 90)
            guard case let .configurationTool(run) = data else { return XCTFail("\(data)") }
            XCTAssertEqual(run.exitCode, 0)
            // The tool "only generates output in case of errors": the agent's own line is all there is.
            XCTAssertEqual(progress, ["ConfigurationTool.com /ApplySettingsFactory /WithWindowsAuthentication"])
            XCTAssertEqual(
                try farm.status().servers.first { $0.name == name }?.lastConfigurationTool?.switches,
                ["/applysettingsfactory", "/withwindowsauthentication(1)"])
            // Every service that ran was restarted: a new process, running again.
            let after = try store.read()
            for service in before {
                let now = try XCTUnwrap(after.service(service.name))
                XCTAssertEqual(now.state, .running, service.name)
                XCTAssertNotEqual(now.processID, service.processID, "\(service.name) was not restarted")
            }
            let restarts = try String(contentsOfFile: farm.simulated(name).directory + "/" + SimulatedDelay.fileName, encoding: .utf8)
            XCTAssertTrue(restarts.contains("stop OutSystems Deployment Service (ApplySettingsFactory)"), restarts)
            // The services initialise again; readiness sees their ports come back.
            guard case let .readiness(readiness) = try await session.answer(.waitForReadiness(ReadinessArguments(timeoutSeconds: 30))).data else {
                return XCTFail("no readiness")
            }
            XCTAssertTrue(readiness.ports.allSatisfy(\.answered))
            await session.close()
            XCTAssertFalse(try records(farm).contains(Self.secret.reveal()), "the password leaked")
        }
    }
}
