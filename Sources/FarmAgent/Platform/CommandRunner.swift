import FarmProtocol
import Foundation

/// What a program printed (stdout and stderr together, in order) and how it ended.
public struct CommandOutput: Sendable, Equatable {
    public var exitCode: Int32
    public var output: String
    public var timedOut: Bool

    public init(exitCode: Int32, output: String, timedOut: Bool = false) {
        self.exitCode = exitCode
        self.output = output
        self.timedOut = timedOut
    }
}

/// Runs a Windows program by path with an argv (never a shell string). The seam behind which the
/// agent's operations could also run from elsewhere.
public protocol CommandRunner: Sendable {
    func run(_ program: String, _ arguments: [String], timeout: Double, onLine: ((String) -> Void)?) throws(AgentError) -> CommandOutput
    /// The same with `input` written to the program's stdin, then closed (how a secret reaches a
    /// program without a command line).
    func run(_ program: String, _ arguments: [String], input: Data, timeout: Double) throws(AgentError) -> CommandOutput
}

extension CommandRunner {
    public func run(_ program: String, _ arguments: [String], input: Data, timeout: Double) throws(AgentError) -> CommandOutput {
        throw AgentError(.operationFailed, "this command runner cannot give \(program) an input")
    }

    public func run(_ program: String, _ arguments: [String], timeout: Double = 60) throws(AgentError) -> CommandOutput {
        try run(program, arguments, timeout: timeout, onLine: nil)
    }
}

/// Runs programs with Foundation's Process, one at a time, decoding what they print from the
/// server's console code page. A program that outlives its deadline is ended with every process
/// it started (its process group on Linux, a job object on Windows), so a helper that keeps the
/// output pipe open cannot hold the agent past the deadline either.
public struct ProcessCommandRunner: CommandRunner {
    let environment: HostEnvironment

    public init(environment: HostEnvironment) { self.environment = environment }

    public func run(_ program: String, _ arguments: [String], timeout: Double, onLine: ((String) -> Void)?) throws(AgentError) -> CommandOutput {
        try run(program, arguments, input: nil, timeout: timeout, onLine: onLine)
    }

    public func run(_ program: String, _ arguments: [String], input: Data, timeout: Double) throws(AgentError) -> CommandOutput {
        try run(program, arguments, input: .some(input), timeout: timeout, onLine: nil)
    }

    private func run(_ program: String, _ arguments: [String], input: Data?, timeout: Double, onLine: ((String) -> Void)?) throws(AgentError)
        -> CommandOutput
    {
        let path = environment.localPath(program)
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw AgentError(.notFound, "\(program) is not on this server")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: path).deletingLastPathComponent()
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let inputPipe = input.map { _ in Pipe() }
        process.standardInput = inputPipe ?? FileHandle.nullDevice
        // Process.waitUntilExit polls a run loop (on Linux every 50 ms, which added up to a fifth of
        // a second to every service change); the termination handler signals at once.
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        do {
            try process.run()
        } catch {
            throw AgentError(.operationFailed, "cannot start \(program): \(error.localizedDescription)")
        }
        let group = ProgramGroup(process)
        defer { group.close() }
        if let inputPipe, let input {
            // Written on a thread of its own: a program that does not read cannot block the agent.
            let writer = inputPipe.fileHandleForWriting
            Thread {
                try? writer.write(contentsOf: input)
                try? writer.close()
            }.start()
        }
        let collector = OutputCollector(codePage: environment.consoleCodePage, onLine: onLine)
        let readerDone = DispatchSemaphore(value: 0)
        let reader = pipe.fileHandleForReading
        Thread {
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                collector.append(chunk)
            }
            collector.finish()
            readerDone.signal()
        }.start()

        var expired = false
        if exited.wait(timeout: .now() + timeout) == .timedOut {
            expired = true
            group.terminate()
            _ = exited.wait(timeout: .now() + 5)
        }
        // The output ends when every process holding the pipe has closed it; one the program
        // started may still hold it after the program is gone.
        if readerDone.wait(timeout: .now() + 1) == .timedOut {
            group.terminate()
            _ = readerDone.wait(timeout: .now() + 2)
        }
        let (output, _) = collector.result()
        return CommandOutput(exitCode: process.isRunning ? -1 : process.terminationStatus, output: output, timedOut: expired)
    }
}

/// What a program printed so far, split into lines as it arrives (on the reader's thread) and
/// decoded from the console code page; read once the program is done.
public final class OutputCollector: @unchecked Sendable {
    private let lock = NSLock()
    private let codePage: Int
    private let onLine: ((String) -> Void)?
    private var bytes = Data()
    private var pending = Data()
    private var complete = false

    public init(codePage: Int, onLine: ((String) -> Void)?) {
        self.codePage = codePage
        self.onLine = onLine
    }

    public func append(_ chunk: Data) {
        lock.withLock {
            bytes.append(chunk)
            guard let onLine else { return }
            pending.append(chunk)
            // A line feed byte is never part of a multi-byte character in the code pages Windows
            // consoles use, so lines can be cut before decoding.
            while let newline = pending.firstIndex(of: 10) {
                var line = pending[pending.startIndex..<newline]
                if line.last == 13 { line = line.dropLast() }
                onLine(ConsoleText.decode(Data(line), codePage: codePage))
                pending = Data(pending[pending.index(after: newline)...])
            }
        }
    }

    public func finish() {
        lock.withLock {
            if let onLine, !pending.isEmpty { onLine(ConsoleText.decode(pending, codePage: codePage)) }
            pending = Data()
            complete = true
        }
    }

    public func result() -> (String, Bool) {
        lock.withLock { (ConsoleText.decode(bytes, codePage: codePage), complete) }
    }
}

/// A flag set from the watchdog's thread and read on the runner's.
final class ExpiryFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
