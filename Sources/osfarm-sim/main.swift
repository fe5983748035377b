import ArgumentParser
import FarmSimulator
import Foundation

/// Parses and runs the command; inside a function so the async `run()` is the one chosen.
func runSimulator() async {
    do {
        var command = try SimulatorCommand.parseAsRoot()
        if var asyncCommand = command as? AsyncParsableCommand {
            try await asyncCommand.run()
        } else {
            try command.run()
        }
    } catch {
        SimulatorCommand.exit(withError: error)
    }
}

// Started as sc.exe, iisreset.exe, reg.exe or ConfigurationTool.com inside a simulated server:
// be that program.
if let program = EmulatedProgram.named(CommandLine.arguments[0]) {
    let code = program.run(argv0: CommandLine.arguments[0], arguments: Array(CommandLine.arguments.dropFirst())) {
        FileHandle.standardOutput.write($0)
    }
    exit(code)
}
await runSimulator()
