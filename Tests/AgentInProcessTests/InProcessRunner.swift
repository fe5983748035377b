import FarmAgent
import FarmProtocol
import FarmSimulator
import Foundation

/// Runs a simulated server's Windows programs by calling the simulator's emulation in this process
/// (`EmulatedProgram.run`), as osfarm-sim does when started under the program's name, instead of
/// starting a process: the agent's operations run against the simulator without sshd or a process
/// start per sc.exe query.
///
/// The program path maps to the server's C: tree as `ProcessCommandRunner` maps it
/// (`HostEnvironment.localPath`), and what it prints is decoded from the server's OEM code page
/// (`environment.consoleCodePage`) the same way. powershell.exe gets its input as its stdin. An
/// emulation that outlives the deadline is reported timed out; it cannot be ended like a process,
/// so it finishes on its own thread (no test here relies on one doing so).
struct InProcessRunner: CommandRunner {
    let environment: HostEnvironment

    func run(_ program: String, _ arguments: [String], timeout: Double, onLine: ((String) -> Void)?) throws(AgentError) -> CommandOutput {
        try run(program, arguments, input: Data(), timeout: timeout, onLine: onLine)
    }

    func run(_ program: String, _ arguments: [String], input: Data, timeout: Double) throws(AgentError) -> CommandOutput {
        try run(program, arguments, input: input, timeout: timeout, onLine: nil)
    }

    private func run(_ program: String, _ arguments: [String], input: Data, timeout: Double, onLine: ((String) -> Void)?) throws(AgentError)
        -> CommandOutput
    {
        let path = environment.localPath(program)
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw AgentError(.notFound, "\(program) is not on this server")
        }
        guard let emulated = EmulatedProgram.named(path) else {
            throw AgentError(.operationFailed, "\(program) is not one of the simulator's emulated programs")
        }
        // The agent's own collector: lines cut at line feeds, CR dropped, decoded from the console code page.
        let output = OutputCollector(codePage: environment.consoleCodePage, onLine: onLine)
        let exit = ExitCode()
        let done = DispatchSemaphore(value: 0)
        Thread {
            exit.set(emulated.run(argv0: path, arguments: arguments, input: input, write: output.append))
            output.finish()
            done.signal()
        }.start()
        let expired = done.wait(timeout: .now() + timeout) == .timedOut
        return CommandOutput(exitCode: exit.value ?? -1, output: output.result().0, timedOut: expired)
    }
}

/// The exit code an emulation returned, set on its thread and read on the runner's.
private final class ExitCode: @unchecked Sendable {
    private let lock = NSLock()
    private var code: Int32?

    func set(_ value: Int32) { lock.withLock { code = value } }
    var value: Int32? { lock.withLock { code } }
}
