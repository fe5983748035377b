import FarmProtocol
@testable import FarmSimulator
import Foundation
import XCTest

/// The simulator's emulated Windows programs print exactly the fixtures the agent's parsers are
/// tested on. Set OSFARM_RECORD_FIXTURES=1 to rewrite the fixtures from the emulations (then review the diff).
final class EmulatorFixtureTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/windows")

    private var folder: String!

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "osfarm-emulators-\(UUID().uuidString.prefix(8))"
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    private func server(_ role: ServerRole, prepare: (inout ServerState) -> Void = { _ in }) throws -> String {
        let directory = folder + "/" + role.rawValue
        try ServerBuilder(
            name: role == .deploymentController ? "dc1" : "fe1", role: role, address: "127.0.0.1", profile: .instant,
            controllerAddress: "127.0.0.1", databaseServer: "sqlold.corp.example", hasLogService: true, clearTextPasswords: false,
            emulatorBinary: TestFarm.binary("osfarm-sim"), privateKey: HsconfCipher.newPrivateKey()
        ).build(in: directory)
        try StateStore(serverDirectory: directory).update { state in
            for index in state.services.indices where state.services[index].processID != nil { state.services[index].processID = 4312 + index * 4 }
            prepare(&state)
        }
        return directory
    }

    private func emulate(_ server: String, _ program: String, _ arguments: [String]) throws -> String {
        let path = program == "ConfigurationTool.com"
            ? ServerBuilder.localPath(ServerBuilder.installDirectory + #"\ConfigurationTool.com"#, serverDirectory: server)
            : ServerBuilder.localPath(#"C:\Windows\System32\"# + program, serverDirectory: server)
        return try runProgram(path, arguments).stdout
    }

    private func check(_ name: String, _ output: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let url = Self.fixtures.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["OSFARM_RECORD_FIXTURES"] == "1" {
            try output.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        XCTAssertEqual(output, expected, "the emulation no longer prints \(name)", file: file, line: line)
    }

    func testServiceControlPrintsTheFixtures() throws {
        let dc = try server(.deploymentController) { state in
            let deployment = state.serviceIndex("OutSystems Deployment Service")!
            state.services[deployment].state = .stopPending
            state.services[deployment].pendingUntil = nil  // stuck, so it stays pending
            let scheduler = state.serviceIndex("OutSystems Scheduler Service")!
            state.services[scheduler].state = .stopped
            state.services[scheduler].processID = nil
            state.faults.failingStart = ["OutSystems Scheduler Service"]
        }
        let fe = try server(.frontEnd)
        try check("sc-queryex-running.txt", emulate(dc, "sc.exe", ["queryex", "OutSystems Deployment Controller Service"]))
        try check("sc-query-stopped.txt", emulate(dc, "sc.exe", ["query", "OutSystems Scheduler Service"]))
        try check("sc-queryex-stop-pending.txt", emulate(dc, "sc.exe", ["queryex", "OutSystems Deployment Service"]))
        try check("sc-qc-w3svc.txt", emulate(dc, "sc.exe", ["qc", "W3SVC"]))
        try check("sc-qc-disabled.txt", emulate(fe, "sc.exe", ["qc", "OutSystems Deployment Controller Service"]))
        try check("sc-query-1060.txt", emulate(dc, "sc.exe", ["query", "OutSystems Nonexistent Service"]))
        try check("sc-stop-1062.txt", emulate(dc, "sc.exe", ["stop", "OutSystems Scheduler Service"]))
        try check("sc-start-1056.txt", emulate(dc, "sc.exe", ["start", "W3SVC"]))
        try check("sc-start-1058.txt", emulate(fe, "sc.exe", ["start", "OutSystems Deployment Controller Service"]))
        try check("sc-start-1053.txt", emulate(dc, "sc.exe", ["start", "OutSystems Scheduler Service"]))
    }

    func testIISResetAndRegistryPrintTheFixtures() throws {
        let dc = try server(.deploymentController)
        try check("iisreset-status.txt", emulate(dc, "iisreset.exe", ["/status"]))
        try check("iisreset-stop.txt", emulate(dc, "iisreset.exe", ["/stop"]))
        try check("iisreset-start.txt", emulate(dc, "iisreset.exe", ["/start"]))
        try check("reg-query-installer.txt", emulate(dc, "reg.exe", ["query", #"HKLM\SOFTWARE\OutSystems\Installer\Server"#]))
        try check("reg-query-missing.txt", emulate(dc, "reg.exe", ["query", #"HKLM\SOFTWARE\OutSystems\Nothing"#]))
    }
}
