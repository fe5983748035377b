/// The shell Win32-OpenSSH runs a session's command with, as `HKLM\SOFTWARE\OpenSSH` sets it
/// (PowerShell/openssh-portable `contrib/win32/win32compat/pwd.c` and `w32-doexec.c`):
/// `DefaultShell` (cmd.exe when missing or empty, and then none of the others is read),
/// `DefaultShellCommandOption` (replaces `/c` for cmd.exe, `-c` for the rest),
/// `DefaultShellArguments` (only for a session without a command: never a forced command), and
/// `DefaultShellEscapeArguments` (0 passes the command unescaped; it matters only for a shell that
/// is not cmd.exe, PowerShell, bash, cygwin or ssh-shellhost).
public struct SessionShell: Codable, Sendable, Equatable {
    /// The values as read; nil where the registry has none.
    public var defaultShell: String?
    public var commandOption: String?
    public var arguments: String?
    public var escapeArguments: Int?

    public init(defaultShell: String? = nil, commandOption: String? = nil, arguments: String? = nil, escapeArguments: Int? = nil) {
        self.defaultShell = defaultShell
        self.commandOption = commandOption
        self.arguments = arguments
        self.escapeArguments = escapeArguments
    }

    public static let commandPrompt = #"C:\Windows\System32\cmd.exe"#
    /// The DefaultShellCommandOption values the forced command still starts under (lower case),
    /// the same lists as Install-OsfarmAgent.ps1's: cmd.exe's own `/c`, and `/d /c`, which also
    /// skips AutoRun; PowerShell's `-c` and `-Command`. sshd passes a PowerShell option as one
    /// argument, quoted when it has a space (misc.c), so `-NoProfile -c` is not one of them.
    public static let startingOptions = (commandPrompt: ["/c", "/d /c"], powerShell: ["-c", "-command"])

    /// The values sshd uses: without DefaultShell it reads none of the others.
    private var configured: Bool { !(defaultShell ?? "").isEmpty }
    public var path: String { configured ? defaultShell ?? Self.commandPrompt : Self.commandPrompt }
    public var isCommandPrompt: Bool { path.lowercased().contains(#"system32\cmd"#) }
    public var isPowerShell: Bool { !isCommandPrompt && path.lowercased().contains("powershell") }
    /// The switch before the command.
    public var effectiveCommandOption: String { (configured ? commandOption.flatMap { $0.isEmpty ? nil : $0 } : nil) ?? (isCommandPrompt ? "/c" : "-c") }

    /// How sshd starts a forced command, e.g. `cmd.exe /c "<command>"`.
    public var summary: String {
        let quoted = isCommandPrompt ? "\"<command>\"" : "<command>"
        return "\(path) \(effectiveCommandOption) \(quoted)" + (configured ? "" : " (no DefaultShell)")
    }

    /// What in these values changes or breaks the forced command osfarm's install script writes,
    /// one sentence each (empty when nothing does).
    public var concerns: [String] {
        var found: [String] = []
        if !isCommandPrompt && !isPowerShell {
            found.append(
                "DefaultShell \(path) is neither cmd.exe nor PowerShell: the forced command is written for those two (w32-doexec.c quotes other shells' commands differently)"
            )
        }
        let option = effectiveCommandOption
        let expected = isCommandPrompt ? Self.startingOptions.commandPrompt : Self.startingOptions.powerShell
        if configured, commandOption.map({ !$0.isEmpty }) == true, !expected.contains(option.lowercased()) {
            found.append(
                "DefaultShellCommandOption \"\(option)\" replaces \(isCommandPrompt ? "/c" : "-c") before the forced command"
                    + (isPowerShell && option.contains(" ") ? " (sshd passes it to PowerShell as one quoted argument)" : ""))
        }
        // w32-doexec.c honours the value only for a shell it does not recognise by its path.
        let recognised = ["ssh-shellhost", #"\bash"#, "cygwin"].contains { path.lowercased().contains($0) }
        if configured, !isCommandPrompt, !isPowerShell, !recognised, escapeArguments == 0 {
            found.append("DefaultShellEscapeArguments 0 passes the forced command to \(path) unescaped")
        }
        return found
    }
}
