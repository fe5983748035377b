import Foundation

/// The `HKLM\SOFTWARE\OpenSSH` values Win32-OpenSSH reads for the shell it runs a session's
/// command with, and the command line it builds from them (PowerShell/openssh-portable
/// `contrib/win32/win32compat/pwd.c`, `set_defaultshell`, and `w32-doexec.c`, `do_exec_windows`):
/// - `DefaultShell` (REG_SZ): the shell; when it is missing or empty, `%SystemRoot%\System32\cmd.exe`
///   and none of the others are read;
/// - `DefaultShellCommandOption` (REG_SZ): replaces the switch before the command (`/c` for
///   cmd.exe, `-c` for every other shell);
/// - `DefaultShellArguments` (REG_SZ): used only for a session without a command (an interactive
///   shell), so never for a forced command;
/// - `DefaultShellEscapeArguments` (REG_DWORD, default 1): for a shell that is none of cmd.exe,
///   PowerShell, bash, cygwin or ssh-shellhost, 0 passes the command unescaped in quotes, as for
///   cmd.exe.
/// The shell's kind is found by substrings of its path, in this order: `system32\cmd`,
/// `powershell` (so PowerShell 7's `C:\Program Files\PowerShell\7\pwsh.exe` counts),
/// `ssh-shellhost`, `\bash`, `cygwin`. PowerShell, bash and cygwin get their switch and the command
/// as separate arguments, each escaped by `build_commandline_string` (misc.c); cmd.exe and
/// ssh-shellhost get `"<shell>" <switch> "<command>"` as one string.
struct ShellSettings: Equatable {
    enum Kind: Equatable { case commandPrompt, powerShell, shellHost, bash, cygwin, other }

    static let key = DefaultShell.registryKey
    var path: String = DefaultShell.commandPrompt.path
    var commandOption: String?
    var arguments: String?
    var escapeArguments = true

    /// The values as sshd reads them from the server's registry.
    static func read(_ state: ServerState) -> ShellSettings {
        let values = state.registry.first { WindowsName.same($0.key, key) }?.value ?? []
        func value(_ name: String) -> String? {
            values.first { WindowsName.same($0.name, name) }?.data
        }
        var settings = ShellSettings()
        guard let shell = value(DefaultShell.registryValue), !shell.isEmpty else { return settings }
        settings.path = shell
        settings.commandOption = value("DefaultShellCommandOption").flatMap { $0.isEmpty ? nil : $0 }
        settings.arguments = value("DefaultShellArguments").flatMap { $0.isEmpty ? nil : $0 }
        if let escape = value("DefaultShellEscapeArguments") {
            let number = escape.lowercased().hasPrefix("0x") ? Int(escape.dropFirst(2), radix: 16) : Int(escape)
            settings.escapeArguments = (number ?? 1) != 0
        }
        return settings
    }

    var kind: Kind {
        let shell = path.lowercased()
        if shell.contains(#"system32\cmd"#) { return .commandPrompt }
        if shell.contains("powershell") { return .powerShell }
        if shell.contains("ssh-shellhost") { return .shellHost }
        if shell.contains(#"\bash"#) { return .bash }
        if shell.contains("cygwin") { return .cygwin }
        return .other
    }

    /// The switch before the command.
    var effectiveCommandOption: String { commandOption ?? (kind == .commandPrompt ? "/c" : "-c") }

    /// The shell's command line for a session's command.
    func commandLine(for command: String) -> String {
        let shell = "\"\(path.lowercased())\""
        switch kind {
        case .powerShell, .bash, .cygwin:
            return "\(shell) \(OpenSSHSession.escapedArgument(effectiveCommandOption)) \(OpenSSHSession.escapedArgument(command))"
        case .other where escapeArguments:
            return "\(shell) \(OpenSSHSession.escapedArgument(effectiveCommandOption)) \(OpenSSHSession.escapedArgument(command))"
        case .commandPrompt, .shellHost, .other:
            return "\(shell) \(effectiveCommandOption) \"\(command)\""
        }
    }
}
