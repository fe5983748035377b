import FarmProtocol

/// Reads the shell sshd starts sessions with: `reg.exe query HKLM\SOFTWARE\OpenSSH` (the values
/// Win32-OpenSSH's `pwd.c` reads). A key that is not there is Win32-OpenSSH's default, cmd.exe;
/// nil when reg.exe cannot be run or read.
enum SessionShellReading {
    static let key = #"HKLM\SOFTWARE\OpenSSH"#

    static func read(runner: any CommandRunner) -> SessionShell? {
        guard let result = try? runner.run(WindowsLocations.registryTool, ["query", key]) else { return nil }
        guard result.exitCode == 0 else { return SessionShell() }
        guard let values = try? RegistryOutput.parse(result.output) else { return nil }
        func value(_ name: String) -> String? {
            values.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.data.trimmingCharacters(in: .whitespaces)
        }
        let escape = value("DefaultShellEscapeArguments").flatMap { text in
            text.lowercased().hasPrefix("0x") ? Int(text.dropFirst(2), radix: 16) : Int(text)
        }
        return SessionShell(
            defaultShell: value("DefaultShell"), commandOption: value("DefaultShellCommandOption"), arguments: value("DefaultShellArguments"),
            escapeArguments: escape)
    }
}
