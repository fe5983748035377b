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
        let output = Output(codePage: environment.consoleCodePage, onLine: onLine)
        let done = DispatchSemaphore(value: 0)
        Thread {
            output.exit(emulated.run(argv0: path, arguments: arguments, input: input, write: output.append))
            done.signal()
        }.start()
        let expired = done.wait(timeout: .now() + timeout) == .timedOut
        return output.result(timedOut: expired)
    }
}

/// What an emulation wrote, cut into lines as it arrives (the way the agent's own collector cuts a
/// pipe's bytes: at line feeds, CR dropped) and decoded from the console code page.
private final class Output: @unchecked Sendable {
    private let lock = NSLock()
    private let codePage: Int
    private let onLine: ((String) -> Void)?
    private var bytes = Data()
    private var pending = Data()
    private var exitCode: Int32?

    init(codePage: Int, onLine: ((String) -> Void)?) {
        self.codePage = codePage
        self.onLine = onLine
    }

    func append(_ chunk: Data) {
        lock.withLock {
            bytes.append(chunk)
            guard let onLine else { return }
            pending.append(chunk)
            while let newline = pending.firstIndex(of: 10) {
                var line = pending[pending.startIndex..<newline]
                if line.last == 13 { line = line.dropLast() }
                onLine(ConsoleText.decode(Data(line), codePage: codePage))
                pending = Data(pending[pending.index(after: newline)...])
            }
        }
    }

    func exit(_ code: Int32) {
        lock.withLock {
            if let onLine, !pending.isEmpty { onLine(ConsoleText.decode(pending, codePage: codePage)) }
            pending = Data()
            exitCode = code
        }
    }

    func result(timedOut: Bool) -> CommandOutput {
        lock.withLock { CommandOutput(exitCode: exitCode ?? -1, output: ConsoleText.decode(bytes, codePage: codePage), timedOut: timedOut) }
    }
}
