import FarmProtocol
import Foundation

/// The servers of a simulated farm: one deployment controller and N front-ends.
public enum FarmLayout {
    public static func servers(frontEnds: Int, agentBinary: String, environment: [String: String] = [:]) -> [LocalServerSpec] {
        [LocalServerSpec(name: "dc1", role: .deploymentController, agentBinary: agentBinary, environment: environment)]
            + (0..<frontEnds).map {
                LocalServerSpec(name: "fe\($0 + 1)", role: .frontEnd, agentBinary: agentBinary, environment: environment)
            }
    }

    /// Applies `--language`/`--default-shell` style settings: "VALUE" for every server, or
    /// "NAME=VALUE" for one (a later setting wins).
    public static func assignments<Value>(
        _ settings: [String], servers: [LocalServerSpec], option: String,
        parse: (String) -> Value?
    ) throws -> [String: Value] {
        var result: [String: Value] = [:]
        for setting in settings {
            let parts = setting.split(separator: "=", maxSplits: 1).map(String.init)
            let (names, text): ([String], String) = parts.count == 2 ? ([parts[0]], parts[1]) : (servers.map(\.name), setting)
            guard let value = parse(text) else { throw SimulatorError.badSetting(option: option, value: setting) }
            for name in names {
                guard servers.contains(where: { $0.name == name }) else { throw SimulatorError.badSetting(option: option, value: setting) }
                result[name] = value
            }
        }
        return result
    }

    /// The agent next to the running executable (osfarm-sim and osfarm-agent are built together).
    public static func siblingAgentPath() -> String {
        URL(fileURLWithPath: ownExecutablePath()).deletingLastPathComponent().appendingPathComponent("osfarm-agent").path
    }

    /// This program's own file, however it was started: from PATH, argv[0] is only its name.
    public static func ownExecutablePath() -> String {
        #if os(Linux)
            if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        #endif
        return URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().standardized.path
    }
}
