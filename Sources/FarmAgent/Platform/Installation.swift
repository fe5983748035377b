import FarmProtocol

/// Where OutSystems is installed, read from the registry as the installer wrote it.
public struct Installation: Sendable, Equatable {
    public var directory: String
    public var version: String

    public var hsconf: String { WindowsLocations.join(directory, "server.hsconf") }
    public var privateKey: String { WindowsLocations.join(directory, "private.key") }
    public var configurationTool: String { WindowsLocations.join(directory, "ConfigurationTool.com") }

    /// `reg.exe query HKLM\SOFTWARE\OutSystems\Installer\Server /ve` for the folder (the key's default
    /// value, whatever the language names it) and `/v Server` for the version, read at once.
    public static func locate(runner: any CommandRunner) throws(AgentError) -> Installation {
        let queries = [["query", WindowsLocations.installerKey, "/ve"], ["query", WindowsLocations.installerKey, "/v", "Server"]]
        let results = try ParallelReads.map(queries) { arguments throws(AgentError) in try runner.run(WindowsLocations.registryTool, arguments) }
        // reg.exe exits 1 for a missing key and for every other failure alike; what it said is kept.
        guard results[0].exitCode == 0 else {
            let said = results[0].output.split(whereSeparator: \.isNewline).first.map(String.init) ?? "exit \(results[0].exitCode)"
            throw AgentError(.notFound, "no OutSystems Platform Server here: reg.exe query \(WindowsLocations.installerKey) failed (\(said))")
        }
        // A default value that was never set prints a placeholder, not a folder.
        guard let directory = try RegistryOutput.parse(results[0].output).first?.data, isAbsoluteWindowsPath(directory) else {
            throw AgentError(.notFound, "\(WindowsLocations.installerKey) has no install folder in its default value")
        }
        let version = results[1].exitCode == 0 ? (try? RegistryOutput.parse(results[1].output).first?.data) ?? nil : nil
        return Installation(directory: directory, version: version ?? "unknown")
    }

    static func isAbsoluteWindowsPath(_ path: String) -> Bool {
        let characters = Array(path)
        if path.hasPrefix("\\\\") { return true }
        return characters.count >= 3 && characters[0].isLetter && characters[1] == ":" && characters[2] == "\\"
    }
}
