import FarmProtocol
@testable import FarmSimulator
import Foundation
import XCTest

/// The simulator's emulated Windows programs print exactly the fixtures the agent's parsers are
/// tested on, in every display language, byte for byte in its OEM code page. Set
/// OSFARM_RECORD_FIXTURES=1 to rewrite the fixtures from the emulations (then review the diff).
final class EmulatorFixtureTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/windows")

    private var folder: String!

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "osfarm-emulators-\(UUID().uuidString.prefix(8))"
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    private func server(_ role: ServerRole, language: DisplayLanguage, prepare: (inout ServerState) -> Void = { _ in }) throws -> String {
        let directory = folder + "/" + language.rawValue + "/" + role.rawValue
        try ServerBuilder(
            name: role == .deploymentController ? "dc1" : "fe1", role: role, address: "127.0.0.1", profile: .instant,
            controllerAddress: "127.0.0.1", databaseServer: "sqlold.corp.example", hasLogService: true, clearTextPasswords: false,
            emulatorBinary: TestFarm.binary("osfarm-sim"), privateKey: HsconfCipher.newPrivateKey(), language: language
        ).build(in: directory)
        try StateStore(serverDirectory: directory).update { state in
            for index in state.services.indices where state.services[index].processID != nil { state.services[index].processID = 4312 + index * 4 }
            prepare(&state)
        }
        return directory
    }

    /// What the program wrote to its stdout: raw bytes, in the server's OEM code page.
    private func emulate(_ server: String, _ program: String, _ arguments: [String]) throws -> Data {
        let path =
            program == "ConfigurationTool.com"
            ? ServerBuilder.localPath(ServerBuilder.installDirectory + #"\ConfigurationTool.com"#, serverDirectory: server)
            : ServerBuilder.localPath(#"C:\Windows\System32\"# + program, serverDirectory: server)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return data
    }

    private func check(_ language: DisplayLanguage, _ name: String, _ output: Data, file: StaticString = #filePath, line: UInt = #line) throws {
        let folder = Self.fixtures.appendingPathComponent(language.rawValue)
        let url = folder.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["OSFARM_RECORD_FIXTURES"] == "1" {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try output.write(to: url)
            try "\(language.oemCodePage)\n".write(to: folder.appendingPathComponent("codepage"), atomically: true, encoding: .utf8)
            return
        }
        let expected = try Data(contentsOf: url)
        XCTAssertEqual(output, expected, "the \(language.rawValue) emulation no longer prints \(name)", file: file, line: line)
        XCTAssertEqual(try String(contentsOf: folder.appendingPathComponent("codepage"), encoding: .utf8), "\(language.oemCodePage)\n")
    }

    func testServiceControlPrintsTheFixtures() throws {
        for language in DisplayLanguage.allCases { try serviceControlFixtures(language) }
    }

    func testIISResetAndRegistryPrintTheFixtures() throws {
        for language in DisplayLanguage.allCases { try iisResetAndRegistryFixtures(language) }
    }

    /// Each language prints in its own code page: the bytes are not UTF-8 where the text is not ASCII.
    func testOutputIsInTheOEMCodePageNotUTF8() throws {
        let german = try Data(contentsOf: Self.fixtures.appendingPathComponent("de-DE/sc-qc-w3svc.txt"))
        XCTAssertTrue(german.contains(0x8E), "Ä of BINÄRPFAD_NAME is 0x8E in code page 850")
        XCTAssertNil(String(data: german, encoding: .utf8), "a German sc.exe does not print UTF-8")
        let chinese = try Data(contentsOf: Self.fixtures.appendingPathComponent("zh-CN/sc-query-1060.txt"))
        XCTAssertTrue(
            chinese.starts(with: Data("[SC] EnumQueryServicesStatus:OpenService ".utf8) + Data([0xCA, 0xA7, 0xB0, 0xDC])),
            "失败 is CA A7 B0 DC in code page 936")
        let japanese = try Data(contentsOf: Self.fixtures.appendingPathComponent("ja-JP/sc-query-1060.txt"))
        XCTAssertTrue(
            japanese.starts(with: Data("[SC] EnumQueryServicesStatus:OpenService ".utf8) + Data([0x8E, 0xB8, 0x94, 0x73])),
            "失敗 is 8E B8 94 73 in code page 932 (Shift-JIS), its last byte an ASCII 's'")
        XCTAssertNil(String(data: japanese, encoding: .utf8), "a Japanese sc.exe does not print UTF-8")
    }

    private func serviceControlFixtures(_ language: DisplayLanguage) throws {
        let dc = try server(.deploymentController, language: language) { state in
            let deployment = state.serviceIndex("OutSystems Deployment Service")!
            state.services[deployment].state = .stopPending
            state.services[deployment].pendingUntil = nil  // stuck, so it stays pending
            let scheduler = state.serviceIndex("OutSystems Scheduler Service")!
            state.services[scheduler].state = .stopped
            state.services[scheduler].processID = nil
            state.faults.failingStart = ["OutSystems Scheduler Service"]
        }
        let fe = try server(.frontEnd, language: language)
        func check(_ name: String, _ output: Data, line: UInt = #line) throws { try self.check(language, name, output, line: line) }
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

    private func iisResetAndRegistryFixtures(_ language: DisplayLanguage) throws {
        let dc = try server(.deploymentController, language: language)
        func check(_ name: String, _ output: Data, line: UInt = #line) throws { try self.check(language, name, output, line: line) }
        try check("iisreset-status.txt", emulate(dc, "iisreset.exe", ["/status"]))
        try check("iisreset-stop.txt", emulate(dc, "iisreset.exe", ["/stop"]))
        try check("iisreset-start.txt", emulate(dc, "iisreset.exe", ["/start"]))
        try check("reg-query-installer.txt", emulate(dc, "reg.exe", ["query", #"HKLM\SOFTWARE\OutSystems\Installer\Server"#]))
        try check("reg-query-installer-default.txt", emulate(dc, "reg.exe", ["query", #"HKLM\SOFTWARE\OutSystems\Installer\Server"#, "/ve"]))
        try check("reg-query-installer-version.txt", emulate(dc, "reg.exe", ["query", #"HKLM\SOFTWARE\OutSystems\Installer\Server"#, "/v", "Server"]))
        try check("reg-query-missing.txt", emulate(dc, "reg.exe", ["query", #"HKLM\SOFTWARE\OutSystems\Nothing"#]))
    }
}
