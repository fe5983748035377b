import FarmProtocol
import Foundation

/// The agent's command line: `osfarm-agent serve` or `osfarm-agent version`.
/// Parsed by hand (Foundation only) because the agent must build on Windows with no other package.
public enum AgentCommandLine {
    public static let usage = """
        usage: osfarm-agent serve      serve requests on stdin/stdout (started by the osfarm controller over SSH)
               osfarm-agent version    print the agent and protocol versions
        """

    /// Runs the agent and returns its process exit code.
    public static func run(arguments: [String]) -> Int32 {
        switch arguments.first {
        case "serve" where arguments.count == 1:
            return serve()
        case "version" where arguments.count == 1, "--version" where arguments.count == 1:
            print("osfarm-agent \(OsfarmVersion.current) (protocol \(ProtocolVersion.current))")
            return 0
        default:
            FileHandle.standardError.write(Data((usage + "\n").utf8))
            return 2
        }
    }

    private static func serve() -> Int32 {
        let log = AgentLog()
        let output = FileHandle.standardOutput
        let loop = RequestLoop(
            operations: ServerOperations(),
            readChunk: {
                let data = FileHandle.standardInput.availableData
                return data.isEmpty ? nil : Array(data)
            },
            writeLine: { try output.write(contentsOf: Data($0)) },
            log: log)
        do {
            try loop.run()
            return 0
        } catch {
            log.warning("cannot write to the controller: \(error)")
            return 1
        }
    }
}
