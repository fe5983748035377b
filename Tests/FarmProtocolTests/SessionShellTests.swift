import FarmProtocol
import Foundation
import XCTest

/// The shell sshd starts the agent with, as `check` reports it, and the install script refusing
/// the same values (issue 19, point 3).
final class SessionShellTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func testTheEffectiveShellAndWhatChangesTheForcedCommand() {
        let none = SessionShell()
        XCTAssertEqual(none.summary, #"C:\Windows\System32\cmd.exe /c "<command>" (no DefaultShell)"#)
        XCTAssertEqual(none.concerns, [])
        // Without DefaultShell sshd reads none of the other values (pwd.c).
        XCTAssertEqual(SessionShell(commandOption: "/k").concerns, [])
        let powerShell = #"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe"#
        XCTAssertEqual(SessionShell(defaultShell: powerShell, commandOption: "-Command").concerns, [])
        XCTAssertEqual(SessionShell(defaultShell: powerShell, arguments: "-NoLogo").concerns, [], "DefaultShellArguments: interactive sessions only")
        XCTAssertEqual(
            SessionShell(defaultShell: powerShell, commandOption: "-NoProfile -c").concerns,
            ["DefaultShellCommandOption \"-NoProfile -c\" replaces -c before the forced command (sshd passes it to PowerShell as one quoted argument)"])
        XCTAssertEqual(SessionShell(defaultShell: SessionShell.commandPrompt, commandOption: "/d /c").concerns, [])
        let bash = SessionShell(defaultShell: #"C:\Program Files\Git\bin\bash.exe"#, escapeArguments: 0)
        XCTAssertEqual(bash.concerns.count, 1, "bash is not an escape-off shell: only the shell itself is a concern")
        let other = SessionShell(defaultShell: #"C:\tools\tcsh.exe"#, escapeArguments: 0)
        XCTAssertEqual(other.concerns.count, 2)
        XCTAssertTrue(other.concerns[1].hasPrefix("DefaultShellEscapeArguments 0"), other.concerns[1])
    }

    /// Install-OsfarmAgent.ps1 accepts exactly the options `check` does not warn about.
    func testTheInstallScriptRefusesTheSameOptions() throws {
        let script = try String(contentsOf: Self.root.appendingPathComponent("deploy/windows/Install-OsfarmAgent.ps1"), encoding: .utf8)
        let pattern = try NSRegularExpression(pattern: #"\$expectedOptions = if \(\$shellIsCmd\) \{ @\(([^)]*)\) \} else \{ @\(([^)]*)\) \}"#)
        let match = try XCTUnwrap(pattern.firstMatch(in: script, range: NSRange(script.startIndex..., in: script)), "the script's option lists moved")
        func list(_ group: Int) -> [String] {
            String(script[Range(match.range(at: group), in: script)!]).components(separatedBy: ",").map {
                $0.trimmingCharacters(in: CharacterSet(charactersIn: " '"))
            }
        }
        XCTAssertEqual(list(1), SessionShell.startingOptions.commandPrompt)
        XCTAssertEqual(list(2), SessionShell.startingOptions.powerShell)
        XCTAssertTrue(script.contains("throw \"HKLM:\\SOFTWARE\\OpenSSH DefaultShellCommandOption is '$shellOption'"), "the script names the value it refuses")
        XCTAssertTrue(script.contains("throw \"HKLM:\\SOFTWARE\\OpenSSH DefaultShell is '$defaultShell', neither cmd.exe nor PowerShell"))
    }
}
