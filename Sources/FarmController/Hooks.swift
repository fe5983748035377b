import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// When a server's hooks run on the jump host: a load balancer drains a server before it stops and
/// takes it back once verified; a notification goes out when a step fails.
public enum HookEvent: String, Codable, Sendable, CaseIterable {
    case beforeStop = "before-stop"
    case afterVerify = "after-verify"
    case onFailure = "on-failure"
}

/// When a front-end drained by `before-stop` goes back behind the load balancer (its `after-verify`
/// hook): once `/ApplySettingsFactory` has run on the deployment controller (the default), or as
/// soon as the server itself is verified.
///
/// OutSystems' documentation: runtime settings reach a module only when they are applied
/// ("Applying runtime settings regenerates the applications configuration artifacts and deploy
/// them next to the application binary files"; until then the environment shows pending settings
/// and modules a warning), and the restore-to-another-server procedure applies settings to all
/// modules only after every server is configured, republishing if warned (docs-product
/// `src/deploying-apps/apply-configurations.md`; docs-support `restore-database.md`). Nothing
/// there says modules serve correctly before that, so the default waits for it.
public enum RejoinPoint: String, Codable, Sendable, CaseIterable {
    case afterSettings = "after-settings"
    case afterVerify = "after-verify"
}

/// A server's hooks, from the inventory (`defaults.hooks`, then the server's own): each an argv
/// (never a shell string) run on the jump host with a deadline.
public struct ServerHooks: Codable, Sendable, Equatable {
    public static let timeoutRange: ClosedRange<Double> = 1...3600
    public static let defaultTimeout = 60.0

    public var commands: [String: [String]]
    public var timeout: Double
    /// `pass-env`: secret variables (`KnownSecrets`) the hooks may see all the same, by name.
    public var passEnvironment: [String]?
    /// `hooks.rejoin` in the inventory. nil only in the records of runs made before the choice
    /// existed, which put servers back right after their verify.
    public var rejoin: RejoinPoint?

    public init(
        commands: [HookEvent: [String]] = [:], timeout: Double = ServerHooks.defaultTimeout, passEnvironment: [String]? = nil,
        rejoin: RejoinPoint = .afterSettings
    ) {
        self.commands = Dictionary(uniqueKeysWithValues: commands.map { ($0.key.rawValue, $0.value) })
        self.timeout = timeout
        self.passEnvironment = passEnvironment
        self.rejoin = rejoin
    }

    /// When the `after-verify` hook runs.
    public var rejoinPoint: RejoinPoint { rejoin ?? .afterVerify }

    public func command(_ event: HookEvent) -> [String]? { commands[event.rawValue] }
    public var isEmpty: Bool { commands.isEmpty }
}

/// What a hook is told, in its environment.
public struct HookCall: Sendable {
    public var event: HookEvent
    public var server: String
    /// host:port as the inventory has it, and the host alone.
    public var address: String
    public var host: String
    public var runID: String
    /// The step the run is at (for on-failure: the step that failed).
    public var step: String
    /// Secret variables the inventory passes to this hook by name.
    public var passEnvironment: [String] = []

    var environment: [String: String] {
        [
            "OSFARM_HOOK": event.rawValue, "OSFARM_SERVER": server, "OSFARM_ADDRESS": address, "OSFARM_HOST": host,
            "OSFARM_RUN_ID": runID, "OSFARM_STEP": step,
        ]
    }
}

/// Runs one hook: its argv with the call in the environment, ended (with its whole process group)
/// at its deadline. Waits without holding a thread of the cooperative pool. The hook inherits
/// osfarm's environment less its secret variables (`KnownSecrets`), and what it printed comes back
/// with every known secret masked, before the journal, the screen or a change record sees it.
public enum HookRunner {
    public struct Result: Sendable {
        public var exitStatus: Int32?
        public var timedOut: Bool
        /// The last lines it printed (stdout and stderr).
        public var outputTail: [String]
        public var succeeded: Bool { exitStatus == 0 && !timedOut }
    }

    public static func run(_ argv: [String], call: HookCall, timeout: Double) async -> Result {
        guard let program = argv.first else { return Result(exitStatus: nil, timedOut: false, outputTail: ["the hook has no command"]) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = Array(argv.dropFirst())
        process.environment = environment(for: call)
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        let collected = OutputTail()
        output.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil } else { collected.append(data) }
        }
        let ended = ProcessEnd()
        process.terminationHandler = { _ in ended.signal() }
        do {
            try process.run()
        } catch {
            return Result(exitStatus: nil, timedOut: false, outputTail: ["cannot start \(program): \(error.localizedDescription)"])
        }
        let pid = process.processIdentifier
        let finished = await ended.wait(seconds: min(max(timeout, 0.1), ServerHooks.timeoutRange.upperBound))
        if !finished {
            kill(-pid, SIGKILL)
            kill(pid, SIGKILL)
            _ = await ended.wait(seconds: 5)
        }
        output.fileHandleForReading.readabilityHandler = nil
        collected.append(output.fileHandleForReading.readDataToEndOfFileIfAvailable())
        return Result(exitStatus: finished ? process.terminationStatus : nil, timedOut: !finished, outputTail: collected.lines(8) { KnownSecrets.mask($0) })
    }

    /// osfarm's environment without the secret variables the call does not pass, and the call's facts.
    static func environment(for call: HookCall, inherited: [String: String] = ProcessInfo.processInfo.environment) -> [String: String] {
        let dropped = KnownSecrets.variables.subtracting(call.passEnvironment)
        return inherited.filter { !dropped.contains($0.key) }.merging(call.environment) { _, hook in hook }
    }
}

/// The end of a process, awaited with a deadline.
private final class ProcessEnd: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false
    private var waiters: [CheckedContinuation<Bool, Never>] = []

    func signal() {
        let resumed = lock.withLock { () -> [CheckedContinuation<Bool, Never>] in
            done = true
            defer { waiters = [] }
            return waiters
        }
        for waiter in resumed { waiter.resume(returning: true) }
    }

    /// True when the process ended within `seconds`.
    func wait(seconds: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if lock.withLock({ done }) { return true }
            try? await Task.sleep(nanoseconds: 50_000_000)
        }
        return lock.withLock { done }
    }
}

/// The last bytes a hook printed, kept small.
private final class OutputTail: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()

    func append(_ more: Data) {
        lock.withLock {
            data.append(more)
            if data.count > 16_384 { data = data.suffix(16_384) }
        }
    }

    func lines(_ count: Int, masking mask: (String) -> String) -> [String] {
        let text = lock.withLock { String(decoding: data, as: UTF8.self) }
        return mask(text).split(whereSeparator: \.isNewline).suffix(count).map(String.init)
    }
}

extension FileHandle {
    /// What is left to read without blocking on a writer that never closes (a hook's orphan child).
    fileprivate func readDataToEndOfFileIfAvailable() -> Data {
        let descriptor = fileDescriptor
        let flags = fcntl(descriptor, F_GETFL)
        _ = fcntl(descriptor, F_SETFL, flags | O_NONBLOCK)
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = Glibc.read(descriptor, &buffer, buffer.count)
            guard count > 0 else { break }
            data.append(contentsOf: buffer[..<count])
        }
        return data
    }
}
