import FarmProtocol
import Foundation

/// What a shell prints on its own before it runs a session's command.
///
/// Win32-OpenSSH starts `powershell.exe -c <command>` without `-NoProfile` and `cmd.exe /c
/// "<command>"` without `/D` (`w32-doexec.c`), so:
/// - PowerShell runs its profiles first, in this order (Microsoft Learn, "about_Profiles", Windows
///   PowerShell 5.1): `$PSHOME\profile.ps1`, `$PSHOME\Microsoft.PowerShell_profile.ps1`,
///   `$HOME\Documents\WindowsPowerShell\profile.ps1`,
///   `$HOME\Documents\WindowsPowerShell\Microsoft.PowerShell_profile.ps1`; `-NoProfile` skips them
///   ("about_PowerShell_exe");
/// - cmd.exe runs the `AutoRun` command of `HKLM\Software\Microsoft\Command Processor`, then that
///   of `HKCU\…`, unless `/D` is given (Microsoft Learn, "cmd").
/// What they print goes to the session's stdout, ahead of the agent. Of a profile the simulator
/// runs only what prints: `Write-Host`, `Write-Output` or `echo` with a quoted or bare text, or a
/// quoted string alone; of AutoRun, `echo TEXT` commands joined by `&`. Anything else is skipped.
enum ShellStartup {
    static let powerShellHome = #"C:\Windows\System32\WindowsPowerShell\v1.0"#
    static let commandProcessorKeys = [
        #"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Command Processor"#, #"HKEY_CURRENT_USER\SOFTWARE\Microsoft\Command Processor"#,
    ]

    /// The profiles' paths, in the order PowerShell runs them.
    static func profiles(system: WindowsSystem) -> [String] {
        let home = system.variable("USERPROFILE") ?? system.currentDirectory
        return [
            powerShellHome + #"\profile.ps1"#, powerShellHome + #"\Microsoft.PowerShell_profile.ps1"#,
            home + #"\Documents\WindowsPowerShell\profile.ps1"#, home + #"\Documents\WindowsPowerShell\Microsoft.PowerShell_profile.ps1"#,
        ]
    }

    /// What the shell started with `commandLine` prints before the command.
    static func output(settings: ShellSettings, commandLine: String, system: WindowsSystem, state: ServerState) -> String {
        let arguments = WindowsCommandLine.split(commandLine).dropFirst()
        switch settings.kind {
        case .powerShell:
            // Switches before -Command; -NoProfile among them skips the profiles.
            let switches = arguments.prefix { !["-c", "-command", "/c", "/command"].contains($0.lowercased()) }
            if switches.contains(where: { ["-noprofile", "-nop", "/noprofile"].contains($0.lowercased()) }) { return "" }
            return profiles(system: system).compactMap { path in
                system.localFile(path).flatMap { try? String(contentsOfFile: $0, encoding: .utf8) }.map(printed(byProfile:))
            }.joined()
        case .commandPrompt:
            let switches = arguments.prefix { !["/c", "/k"].contains($0.lowercased()) }
            if switches.contains(where: { $0.lowercased() == "/d" }) { return "" }
            return commandProcessorKeys.compactMap { key in
                state.registry.first { WindowsName.same($0.key, key) }?.value
                    .first { WindowsName.same($0.name, "AutoRun") }?.data
            }.map(printed(byAutoRun:)).joined()
        case .shellHost, .bash, .cygwin, .other:
            return ""
        }
    }

    /// The lines a profile prints.
    static func printed(byProfile script: String) -> String {
        var output = ""
        for raw in script.components(separatedBy: .newlines) {
            var line = raw.trimmingCharacters(in: .whitespaces)
            for command in ["write-host", "write-output", "echo"] where line.lowercased().hasPrefix(command + " ") {
                line = String(line.dropFirst(command.count + 1)).trimmingCharacters(in: .whitespaces)
                output += unquoted(line) + "\r\n"
                line = ""
            }
            if let first = line.first, first == "'" || first == "\"" { output += unquoted(line) + "\r\n" }
        }
        return output
    }

    /// The lines an AutoRun command prints.
    static func printed(byAutoRun command: String) -> String {
        command.components(separatedBy: "&").compactMap { part -> String? in
            var text = part.trimmingCharacters(in: .whitespaces)
            if text.hasPrefix("@") { text.removeFirst() }
            guard text.lowercased().hasPrefix("echo ") else { return nil }
            let said = String(text.dropFirst(5))
            return ["off", "on"].contains(said.lowercased().trimmingCharacters(in: .whitespaces)) ? nil : said + "\r\n"
        }.joined()
    }

    private static func unquoted(_ text: String) -> String {
        guard let first = text.first, first == "'" || first == "\"", text.count >= 2, text.last == first else { return text }
        return String(text.dropFirst().dropLast())
    }
}
