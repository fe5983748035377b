import FarmController
import FarmProtocol
@testable import FarmSimulator
import Foundation
import XCTest

/// What Win32-OpenSSH's shell does before and around the agent (issue 19, points 2 and 3): a
/// PowerShell profile or cmd.exe's AutoRun prints before the hello, which the controller skips
/// within 64 KiB and reports past it; the other `HKLM\SOFTWARE\OpenSSH` values change the command
/// line, and `osfarm check` reports the shell and what in it changes the forced command. One farm
/// for all of it: dc1 on cmd.exe, fe1 on PowerShell.
final class ShellStartupTests: XCTestCase {
    private func ssh(_ farm: TestFarm, _ name: String, input: String = "") throws -> CommandResult {
        let server = try farm.simulated(name)
        let input = farm.directory + "/stdin-\(UUID().uuidString.prefix(6))"
        try "".write(toFile: input, atomically: true, encoding: .utf8)
        return try runProgram(
            "/bin/sh",
            [
                "-c",
                "exec /usr/bin/ssh -i \"$0\" -p \"$1\" -o UserKnownHostsFile=\"$2\" -o BatchMode=yes -o ConnectTimeout=10 -T \"$3\" < \"$4\"",
                farm.record.clientKey, String(server.port), farm.record.knownHosts, "\(farm.record.user)@\(server.address)", input,
            ])
    }

    private func check(_ farm: TestFarm, _ name: String) throws -> CommandResult {
        try osfarm(["check", "-i", farm.record.inventory, "--limit", name])
    }

    private func shell(_ change: (inout ShellSetup) -> Void) -> FaultRequest {
        var request = FaultRequest()
        change(&request.shell)
        return request
    }

    func testStartupOutputIsSkippedWithinItsBoundAndTheShellSettingsAreReported() throws {
        let farm = try TestFarm(frontEnds: 1) { specs in specs[1].defaultShell = .powerShell }
        defer { farm.shutdown() }

        // PowerShell runs $PSHOME\profile.ps1 first: what it prints comes before the hello.
        try farm.inject(shell { $0.powerShellProfile = "# Contoso\r\nWrite-Host 'Welcome to FE1'\r\n'Managed by Contoso IT'\r\n" }, on: "fe1")
        let raw = try ssh(farm, "fe1")
        XCTAssertTrue(raw.stdout.hasPrefix("Welcome to FE1\r\nManaged by Contoso IT\r\n{"), raw.stdout)
        let greeted = try check(farm, "fe1")
        XCTAssertEqual(greeted.status, 0, greeted.stdout + greeted.stderr)
        XCTAssertTrue(greeted.stdout.contains("fe1: shell C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe -c <command>"), greeted.stdout)
        // --debug shows what was skipped.
        let debug = try osfarm(["check", "-i", farm.record.inventory, "--limit", "fe1", "--debug"])
        XCTAssertTrue(
            debug.stderr.contains("the shell printed 37 bytes before the agent's hello, skipped: Welcome to FE1 | Managed by Contoso IT"), debug.stderr)

        // cmd.exe runs AutoRun first, unless DefaultShellCommandOption adds /d.
        try farm.inject(shell { $0.autoRun = "@echo off & echo Contoso server DC1" }, on: "dc1")
        XCTAssertTrue(try ssh(farm, "dc1").stdout.hasPrefix("Contoso server DC1\r\n{"))
        XCTAssertEqual(try check(farm, "dc1").status, 0)
        try farm.inject(
            shell {
                $0.defaultShell = DefaultShell.commandPrompt.path
                $0.commandOption = "/d /c"
            }, on: "dc1")
        XCTAssertTrue(try ssh(farm, "dc1").stdout.hasPrefix("{"), "/d skips AutoRun")
        let quiet = try check(farm, "dc1")
        XCTAssertEqual(quiet.status, 0, quiet.stdout)
        XCTAssertTrue(quiet.stdout.contains(#"dc1: shell C:\Windows\System32\cmd.exe /d /c "<command>""#), quiet.stdout)
        XCTAssertFalse(quiet.stdout.contains("dc1: warning"), quiet.stdout)
        // /k keeps cmd.exe after the command: the agent still starts, and check says what changed.
        try farm.inject(shell { $0.commandOption = "/k" }, on: "dc1")
        let kept = try check(farm, "dc1")
        XCTAssertEqual(kept.status, 0, kept.stdout)
        XCTAssertTrue(kept.stdout.contains("dc1: warning: DefaultShellCommandOption \"/k\" replaces /c before the forced command"), kept.stdout)

        // A PowerShell option with a space reaches powershell.exe as one quoted argument.
        try farm.inject(shell { $0.commandOption = "-NoProfile -c" }, on: "fe1")
        XCTAssertEqual(try check(farm, "fe1").status, 1)
        try farm.inject(shell { $0.commandOption = "" }, on: "fe1")

        // More than 64 KiB before the hello: the session fails, saying what and from where.
        let flood = (0..<70).map { "Write-Host '\(String(repeating: "#", count: 1000)) \($0)'" }.joined(separator: "\r\n")
        try farm.inject(shell { $0.powerShellProfile = flood }, on: "fe1")
        let flooded = try check(farm, "fe1")
        XCTAssertEqual(flooded.status, 1, flooded.stdout)
        XCTAssertTrue(flooded.stdout.contains("fe1: the server's shell printed"), flooded.stdout)
        XCTAssertTrue(flooded.stdout.contains("more than the 64 KiB osfarm skips"), flooded.stdout)
        XCTAssertTrue(flooded.stdout.contains(#"$PSHOME\profile.ps1"#), flooded.stdout)
    }
}
