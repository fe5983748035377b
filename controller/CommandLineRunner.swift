import ArgumentParser
import FarmController
import Foundation

/// Runs a command and maps every outcome to one of osfarm's exit codes: argument errors are
/// usage errors (2), not ArgumentParser's 64.
enum CommandLineRunner {
    static func main(_ root: any AsyncParsableCommand.Type) async -> Never {
        let arguments = CommandLine.arguments.dropFirst()
        if let missing = SubcommandSuggestion.missingSubcommand(for: Array(arguments), root: root) {
            FileHandle.standardError.write(Data("osfarm: \(missing)\n".utf8))
            ExitStatus.usage.endProcess()
        }
        do {
            var command = try root.parseAsRoot()
            // --debug/--verbose (DiagnosticOptions) set what reaches stderr; a run's debug.log gets
            // everything, and only the commands that write one build debug lines at all.
            Diagnostics.bootstrap(
                stderrLevel: arguments.contains("--debug") ? .debug : arguments.contains("--verbose") ? .info : .warning,
                keepsDebugLog: command is any WritesRunDebugLog)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            ExitStatus.success.endProcess()
        } catch let status as OsfarmExit {
            status.status.endProcess()
        } catch {
            let code = root.exitCode(for: error)
            if code == .success {
                print(root.fullMessage(for: error))
                ExitStatus.success.endProcess()
            }
            var message = root.fullMessage(for: error)
            // The hint first, where the eye lands, then the usage.
            let arguments = Array(CommandLine.arguments.dropFirst())
            if let suggestion = SubcommandSuggestion.peerFlag(in: arguments) ?? SubcommandSuggestion.suggestion(for: arguments, root: root) {
                message = suggestion + "\n" + message
            }
            FileHandle.standardError.write(Data((message + "\n").utf8))
            ExitStatus.usage.endProcess()
        }
    }
}

/// A command that works in a run's folder, whose debug.log keeps every debug line of the process.
protocol WritesRunDebugLog {}

/// Thrown by a command to end with a given exit status after it has printed its output.
struct OsfarmExit: Error {
    let status: ExitStatus
}

/// Prints a configuration problem and ends with the usage exit code.
func failUsage(_ message: Any) -> OsfarmExit {
    FileHandle.standardError.write(Data("osfarm: \(message)\n".utf8))
    return OsfarmExit(status: .usage)
}
