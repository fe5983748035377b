import FarmProtocol

/// Where OutSystems is installed, read from the registry as the installer wrote it.
public struct Installation: Sendable, Equatable {
    public var directory: String
    public var version: String

    public var hsconf: String { WindowsLocations.join(directory, "server.hsconf") }
    public var privateKey: String { WindowsLocations.join(directory, "private.key") }
    public var configurationTool: String { WindowsLocations.join(directory, "ConfigurationTool.com") }

    /// `reg.exe query HKLM\SOFTWARE\OutSystems\Installer\Server`: (Default) is the folder, Server the version.
    public static func locate(runner: any CommandRunner) throws(AgentError) -> Installation {
        let result = try runner.run(WindowsLocations.registryTool, ["query", WindowsLocations.installerKey])
        guard let values = try RegistryOutput.parse(result.output) else {
            throw AgentError(.notFound, "no OutSystems Platform Server here (registry key \(WindowsLocations.installerKey) is missing)")
        }
        guard result.exitCode == 0 else { throw AgentError.unreadableOutput("reg.exe query", result.output) }
        guard let directory = values["(Default)"]?.data, !directory.isEmpty else {
            throw AgentError(.notFound, "\(WindowsLocations.installerKey) has no install folder in its (Default) value")
        }
        return Installation(directory: directory, version: values["Server"]?.data ?? "unknown")
    }
}
