import FarmProtocol
import Foundation

/// The servers of a simulated farm: one deployment controller and N front-ends.
public enum FarmLayout {
    public static func servers(frontEnds: Int, agentCommand: String, environment: [String: String] = [:]) -> [LocalServerSpec] {
        [LocalServerSpec(name: "dc1", role: .deploymentController, forcedCommand: agentCommand, environment: environment)]
            + (0..<frontEnds).map {
                LocalServerSpec(name: "fe\($0 + 1)", role: .frontEnd, forcedCommand: agentCommand, environment: environment)
            }
    }

    /// The agent next to the running executable (osfarm-sim and osfarm-agent are built together).
    public static func siblingAgentPath() -> String {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        return executable.deletingLastPathComponent().appendingPathComponent("osfarm-agent").path
    }
}
