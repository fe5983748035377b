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
}

extension CommandRunner {
    public func run(_ program: String, _ arguments: [String], timeout: Double = 60) throws(AgentError) -> CommandOutput {
        try run(program, arguments, timeout: timeout, onLine: nil)
    }
}

/// Runs programs with Foundation's Process, one at a time, killing one that outlives its deadline.
public struct ProcessCommandRunner: CommandRunner {
    let environment: HostEnvironment

    public init(environment: HostEnvironment) { self.environment = environment }

    public func run(_ program: String, _ arguments: [String], timeout: Double, onLine: ((String) -> Void)?) throws(AgentError) -> CommandOutput {
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
        process.standardInput = FileHandle.nullDevice
        // Process.waitUntilExit polls a run loop (on Linux every 50 ms, which added up to a fifth of
        // a second to every service change); the termination handler signals at once.
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        do {
            try process.run()
        } catch {
            throw AgentError(.operationFailed, "cannot start \(program): \(error.localizedDescription)")
        }
        let expired = ExpiryFlag()
        let watchdog = DispatchWorkItem {
            expired.set()
            process.terminate()
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: watchdog)
        var output = Data()
        var pending = Data()
        let reader = pipe.fileHandleForReading
        while true {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            output.append(chunk)
            guard let onLine else { continue }
            pending.append(chunk)
            while let newline = pending.firstIndex(of: 10) {
                var line = pending[pending.startIndex..<newline]
                if line.last == 13 { line = line.dropLast() }
                onLine(String(decoding: line, as: UTF8.self))
                pending = Data(pending[pending.index(after: newline)...])
            }
        }
        if let onLine, !pending.isEmpty { onLine(String(decoding: pending, as: UTF8.self)) }
        exited.wait()
        watchdog.cancel()
        return CommandOutput(exitCode: process.terminationStatus, output: String(decoding: output, as: UTF8.self), timedOut: expired.isSet)
    }
}

/// A flag set from the watchdog's thread and read on the runner's.
final class ExpiryFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
