/// The shell Win32-OpenSSH runs a session's command with: cmd.exe unless the registry value
/// `HKLM\SOFTWARE\OpenSSH` `DefaultShell` names another (PowerShell/openssh-portable
/// `contrib/win32/win32compat/pwd.c`, `set_defaultshell`).
public enum DefaultShell: String, Codable, CaseIterable, Sendable {
    case commandPrompt = "cmd"
    case powerShell = "powershell"

    public static let registryKey = #"HKEY_LOCAL_MACHINE\SOFTWARE\OpenSSH"#
    public static let registryValue = "DefaultShell"

    /// Where the shell lives on a server.
    public var path: String {
        switch self {
        case .commandPrompt: return #"C:\Windows\System32\cmd.exe"#
        case .powerShell: return #"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe"#
        }
    }
}

/// Where osfarm's agent is installed on a Windows server, and the command that starts it under
/// each shell (what Install-OsfarmAgent.ps1 forces and the inventory's `agent:` sends).
public enum WindowsAgentInstall {
    public static let path = #"C:\Program Files\osfarm\osfarm-agent.exe"#

    /// cmd.exe keeps an inner quoted path whole; PowerShell needs its call operator to run a
    /// quoted path rather than print it.
    public static func command(for shell: DefaultShell) -> String {
        switch shell {
        case .commandPrompt: return "\"\(path)\" serve"
        case .powerShell: return "& \"\(path)\" serve"
        }
    }
}
