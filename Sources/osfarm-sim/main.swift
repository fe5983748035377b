import ArgumentParser

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

await runSimulator()
