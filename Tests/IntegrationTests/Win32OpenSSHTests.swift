import FarmController
import FarmProtocol
@testable import FarmSimulator
import Foundation
import XCTest

/// Simulated servers run a session's command as Win32-OpenSSH does (cmd.exe /c, or PowerShell -c,
/// then CommandLineToArgvW), so the agent command forms the project shows are tried for real: the
/// unquoted ones fail exactly as on Windows, and every form in the install script, the READMEs and
/// the inventories starts the agent.
final class Win32OpenSSHTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let unquoted = #"C:\Program Files\osfarm\osfarm-agent.exe serve"#

    // MARK: the forms, read from the files that show them

    /// Every `command="…"` authorized_keys option in a file that starts the agent, unescaped as sshd
    /// reads it (a bare `command="…"` placeholder in prose is not a form).
    static func forcedCommands(in relativePath: String) throws -> [String] {
        let text = try String(contentsOf: root.appendingPathComponent(relativePath), encoding: .utf8)
        let pattern = try NSRegularExpression(pattern: #"command="(?:\\"|[^"])*""#)
        return try pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).map { match in
            let option = String(text[Range(match.range, in: text)!])
            return try XCTUnwrap(try AuthorizedKey.parse(option + " ssh-ed25519 AAAA")?.forcedCommand, option)
        }.filter { $0.contains("osfarm-agent") }
    }

    /// Every `agent: '…'` YAML value in a file.
    static func agentValues(in path: String) throws -> [String] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let pattern = try NSRegularExpression(pattern: #"agent: '((?:[^']|'')*)'"#)
        return pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).map {
            String(text[Range($0.range(at: 1), in: text)!]).replacingOccurrences(of: "''", with: "'")
        }
    }

    /// The authorized_keys lines Install-OsfarmAgent.ps1 writes, for cmd.exe and for PowerShell,
    /// built from its own templates the way PowerShell's -f and -replace build them.
    static func installScriptLines(key: String) throws -> (cmd: String, powerShell: String) {
        let script = try String(contentsOf: root.appendingPathComponent("deploy/windows/Install-OsfarmAgent.ps1"), encoding: .utf8)
        let commands = try NSRegularExpression(pattern: #"\$forcedCommand = if \(.*\) \{ '([^']*)' -f \$agentPath \} else \{ '([^']*)' -f \$agentPath \}"#)
        let entry = try NSRegularExpression(pattern: #"\$entry = '([^']*)' -f \(\$forcedCommand -replace '"', '\\"'\), \$keyLine"#)
        let range = NSRange(script.startIndex..., in: script)
        let forms = try XCTUnwrap(commands.firstMatch(in: script, range: range), "the script's forced-command templates moved")
        let line = try XCTUnwrap(entry.firstMatch(in: script, range: range), "the script's authorized_keys template moved")
        let template = String(script[Range(line.range(at: 1), in: script)!])
        // $InstallDirectory defaults to "$env:ProgramFiles\osfarm".
        func build(_ group: Int) -> String {
            let command = String(script[Range(forms.range(at: group), in: script)!]).replacingOccurrences(of: "{0}", with: WindowsAgentInstall.path)
            return template.replacingOccurrences(of: "{0}", with: command.replacingOccurrences(of: "\"", with: "\\\""))
                .replacingOccurrences(of: "{1}", with: key)
        }
        return (build(2), build(1))
    }

    // MARK: helpers

    private func windowsKeys(_ farm: TestFarm, _ name: String) throws -> String { try farm.file(OpenSSHSession.authorizedKeysPath, on: name) }

    private func clientKey(_ farm: TestFarm) throws -> String {
        try String(contentsOfFile: farm.record.clientKey + ".pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Rewrites the server's administrators_authorized_keys with one line for the farm's key.
    private func setKeyLine(_ farm: TestFarm, _ name: String, _ line: String) throws {
        try (line + "\r\n").write(toFile: try windowsKeys(farm, name), atomically: true, encoding: .utf8)
    }

    private func forced(_ farm: TestFarm, _ name: String, _ command: String?) throws {
        let options = command.map { AuthorizedKey.optionsText([("command", $0), ("restrict", nil)]) + " " } ?? ""
        try setKeyLine(farm, name, options + (try clientKey(farm)))
    }

    /// OpenSSH's own client, for the exact stderr and exit status a command gets.
    private func ssh(_ farm: TestFarm, _ name: String, _ command: String? = nil) throws -> CommandResult {
        let server = try farm.simulated(name)
        var arguments = [
            "-i", farm.record.clientKey, "-p", String(server.port), "-o", "UserKnownHostsFile=\(farm.record.knownHosts)",
            "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-T", "\(farm.record.user)@\(server.address)",
        ]
        if let command { arguments.append(command) }
        return try runProgram("/usr/bin/ssh", arguments)
    }

    /// `osfarm check` on one server with `agent` as the inventory's agent command.
    private func check(_ farm: TestFarm, _ name: String, agent: String? = nil) throws -> CommandResult {
        var inventory = try String(contentsOfFile: farm.record.inventory, encoding: .utf8)
        if let agent {
            inventory = inventory.components(separatedBy: "\n").filter { !$0.hasPrefix("    agent:") }.map {
                $0.hasPrefix("  agent:") ? "  agent: '\(agent.replacingOccurrences(of: "'", with: "''"))'" : $0
            }.joined(separator: "\n")
        }
        let path = farm.directory + "/inventory-\(UUID().uuidString.prefix(6)).yaml"
        try inventory.write(toFile: path, atomically: true, encoding: .utf8)
        return try osfarm(["check", "-i", path, "--limit", name])
    }

    private static let notRecognized = "'C:\\Program' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n"

    // MARK: tests

    func testUnquotedFormsFailAsOnWindows() throws {
        let farm = try TestFarm(frontEnds: 1) { specs in specs[1].defaultShell = .powerShell }
        defer { farm.shutdown() }
        // Forced, as the old install script wrote it: cmd.exe runs "C:\Program".
        try forced(farm, "dc1", Self.unquoted)
        let forcedRun = try ssh(farm, "dc1")
        XCTAssertEqual(forcedRun.status, 1)
        XCTAssertEqual(forcedRun.stderr, Self.notRecognized)
        XCTAssertEqual(forcedRun.stdout, "")
        let check = try self.check(farm, "dc1")
        XCTAssertEqual(check.status, 1, check.stdout)
        XCTAssertTrue(check.stdout.contains("agent ended before saying hello"), check.stdout)

        // Requested (no forced command), as the old inventory examples sent it.
        try forced(farm, "dc1", nil)
        let requested = try ssh(farm, "dc1", Self.unquoted)
        XCTAssertEqual(requested.status, 1)
        XCTAssertEqual(requested.stderr, Self.notRecognized)
        XCTAssertEqual(try self.check(farm, "dc1", agent: Self.unquoted).status, 1)

        // PowerShell: the unquoted path is a command named C:\Program; the cmd.exe form is a string
        // followed by a stray word.
        try forced(farm, "fe1", nil)
        let powerShell = try ssh(farm, "fe1", Self.unquoted)
        XCTAssertEqual(powerShell.status, 1)
        XCTAssertTrue(powerShell.stderr.hasPrefix("C:\\Program : The term 'C:\\Program' is not recognized as the name of a cmdlet"), powerShell.stderr)
        let cmdForm = try ssh(farm, "fe1", WindowsAgentInstall.command(for: .commandPrompt))
        XCTAssertEqual(cmdForm.status, 1)
        XCTAssertTrue(cmdForm.stderr.contains("Unexpected token 'serve' in expression or statement."), cmdForm.stderr)
    }

    func testCmdKeepsTheQuotesOfALoneQuotedProgramAndExpandsVariables() throws {
        let farm = try TestFarm(frontEnds: 0)
        defer { farm.shutdown() }
        try forced(farm, "dc1", nil)
        // `cmd /?` rule 1: exactly two quotes around an executable with a space: kept, the agent
        // starts (and, given no argument, prints its usage and exits 2).
        let lone = try ssh(farm, "dc1", "\"\(WindowsAgentInstall.path)\"")
        XCTAssertEqual(lone.status, 2, lone.stderr)
        XCTAssertTrue(lone.stderr.contains("usage: osfarm-agent serve"), lone.stderr)
        let expanded = try ssh(farm, "dc1", #""%ProgramFiles%\osfarm\osfarm-agent.exe" version"#)
        XCTAssertEqual(expanded.status, 0, expanded.stderr)
        XCTAssertTrue(expanded.stdout.hasPrefix("osfarm-agent "), expanded.stdout)
        let caret = try ssh(farm, "dc1", #"C:\Program^ Files\osfarm\osfarm-agent.exe version"#)
        XCTAssertEqual(caret.status, 1, "a caret escapes the space for cmd.exe's parser, not for the search: \(caret.stderr)")
    }

    func testEveryDocumentedFormStartsTheAgent() throws {
        let farm = try TestFarm(frontEnds: 1) { specs in specs[1].defaultShell = .powerShell }
        defer { farm.shutdown() }
        let key = try clientKey(farm)

        var forcedForms: [(source: String, command: String)] = []
        for file in ["README.md", "deploy/windows/README.md"] {
            let found = try Self.forcedCommands(in: file)
            XCTAssertFalse(found.isEmpty, "\(file) shows no forced command")
            forcedForms += found.map { (file, $0) }
        }
        var agentForms: [(source: String, command: String)] = []
        for file in ["README.md", "deploy/windows/README.md", "Tests/Fixtures/move-db/inventory.yaml"] {
            let found = try Self.agentValues(in: Self.root.appendingPathComponent(file).path)
            XCTAssertFalse(found.isEmpty, "\(file) shows no agent command")
            agentForms += found.map { (file, $0) }
        }
        // The simulator's own inventory: osfarm sends these.
        let own = try farm.inventory()
        agentForms += own.servers.map { ("osfarm-sim's inventory (\($0.name))", $0.agentCommand) }

        func server(for command: String) -> String { command.hasPrefix("&") ? "fe1" : "dc1" }
        XCTAssertTrue(forcedForms.contains { server(for: $0.command) == "fe1" }, "a PowerShell form is documented")

        for (source, command) in forcedForms {
            let name = server(for: command)
            try forced(farm, name, command)
            let result = try check(farm, name)
            XCTAssertEqual(result.status, 0, "\(source): command=\"\(command)\" on \(name): \(result.stdout)\(result.stderr)")
        }
        for (source, command) in agentForms {
            let name = server(for: command)
            try forced(farm, name, nil)
            let result = try check(farm, name, agent: command)
            XCTAssertEqual(result.status, 0, "\(source): agent '\(command)' on \(name): \(result.stdout)\(result.stderr)")
        }

        // What Install-OsfarmAgent.ps1 writes, for each DefaultShell.
        let lines = try Self.installScriptLines(key: key)
        XCTAssertTrue(lines.cmd.hasPrefix(#"command="\"C:\Program Files\osfarm\osfarm-agent.exe\" serve",restrict ssh-ed25519 "#), lines.cmd)
        try setKeyLine(farm, "dc1", lines.cmd)
        XCTAssertEqual(try check(farm, "dc1").status, 0, lines.cmd)
        try setKeyLine(farm, "fe1", lines.powerShell)
        XCTAssertEqual(try check(farm, "fe1").status, 0, lines.powerShell)
        // And each fails under the other shell: the script must pick by DefaultShell.
        try setKeyLine(farm, "fe1", lines.cmd)
        XCTAssertEqual(try check(farm, "fe1").status, 1)
    }
}
