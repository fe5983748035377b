import Foundation

/// Changes to what a simulated server's sshd starts a session with: the `HKLM\SOFTWARE\OpenSSH`
/// shell values (`ShellSettings`), a machine-wide PowerShell profile and cmd.exe's AutoRun
/// (`ShellStartup`). An empty string removes a value or the profile.
public struct ShellSetup: Sendable, Equatable {
    /// `DefaultShell`: a path, or empty to remove it.
    public var defaultShell: String?
    public var commandOption: String?
    public var arguments: String?
    /// `DefaultShellEscapeArguments`, a DWORD.
    public var escapeArguments: Int?
    /// The text of `$PSHOME\profile.ps1` (all users, all hosts).
    public var powerShellProfile: String?
    /// `HKLM\Software\Microsoft\Command Processor` `AutoRun`.
    public var autoRun: String?

    public init() {}

    public var isEmpty: Bool { self == ShellSetup() }

    func apply(serverDirectory: String, store: StateStore) throws {
        try store.update { state in
            func set(_ key: String, _ name: String, _ type: String, _ data: String?) {
                guard let data else { return }
                var values = state.registry[key] ?? []
                values.removeAll { WindowsName.same($0.name, name) }
                if !data.isEmpty { values.append(.init(name: name, type: type, data: data)) }
                state.registry[key] = values
            }
            set(ShellSettings.key, DefaultShell.registryValue, "REG_SZ", defaultShell)
            set(ShellSettings.key, "DefaultShellCommandOption", "REG_SZ", commandOption)
            set(ShellSettings.key, "DefaultShellArguments", "REG_SZ", arguments)
            set(ShellSettings.key, "DefaultShellEscapeArguments", "REG_DWORD", escapeArguments.map { "0x" + String($0, radix: 16) })
            set(ShellStartup.commandProcessorKeys[0], "AutoRun", "REG_SZ", autoRun)
        }
        if let powerShellProfile {
            let path = ServerBuilder.localPath(ShellStartup.powerShellHome + #"\profile.ps1"#, serverDirectory: serverDirectory)
            if powerShellProfile.isEmpty {
                try? FileManager.default.removeItem(atPath: path)
            } else {
                try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try powerShellProfile.write(toFile: path, atomically: true, encoding: .utf8)
            }
        }
    }
}
