import FarmProtocol
import Foundation

/// Windows services through `sc.exe`: read them, and move them to a target state with a deadline,
/// doing nothing when they are already there.
public struct ServiceControl: Sendable {
    let runner: any CommandRunner
    let clock: any AgentClock
    /// Where start types read this session are kept (nil: `sc qc` every time).
    let readings: SessionReadings?

    public init(runner: any CommandRunner, clock: any AgentClock = SystemClock()) {
        self.init(runner: runner, clock: clock, readings: nil)
    }

    init(runner: any CommandRunner, clock: any AgentClock, readings: SessionReadings?) {
        self.runner = runner
        self.clock = clock
        self.readings = readings
    }

    /// How long to wait before asking a pending service again: often at first (most transitions
    /// take well under a second, and each wait ends up to one interval late, on the farm's
    /// downtime path for the deployment controller's services), less often the longer it takes, so
    /// a slow service costs few `sc.exe` runs: ten in its first half second, five in the next.
    static func pollInterval(afterWaiting seconds: Double) -> Double {
        seconds < 0.5 ? 0.05 : seconds < 1 ? 0.1 : seconds < 5 ? 0.25 : 0.5
    }

    // Win32 errors sc.exe reports (Microsoft, "System Error Codes (1000-1299)").
    private static let notInstalled = 1060  // ERROR_SERVICE_DOES_NOT_EXIST
    private static let notStarted = 1062  // ERROR_SERVICE_NOT_ACTIVE
    private static let alreadyRunning = 1056  // ERROR_SERVICE_ALREADY_RUNNING
    private static let disabled = 1058  // ERROR_SERVICE_DISABLED
    /// ERROR_SERVICE_CANNOT_ACCEPT_CTRL: the service is START_PENDING or STOP_PENDING and takes no
    /// control now (Microsoft Learn, ControlService function). It is waited on, not fatal.
    private static let cannotAcceptControl = 1061

    /// The service as it is, or nil when it is not installed.
    public func status(_ name: String) throws(AgentError) -> ServiceStatus? {
        guard let state = try query(name) else { return nil }
        return ServiceStatus(
            name: name, state: state.state, startType: try startType(of: name), processID: state.processID, kind: ServiceCatalog.kind(of: name))
    }

    /// `sc qc`'s start type, read once a session: no step of a run changes it. (A service disabled
    /// meanwhile refuses `sc start` with 1058, and `start` then forgets it and skips the service.)
    private func startType(of name: String) throws(AgentError) -> ServiceStartType {
        guard let startType = try installedStartType(of: name) else { throw AgentError(.notFound, "\(name) is not installed") }
        return startType
    }

    /// Whether nothing is known this session of the service's start type (nor that it is missing).
    func startTypeUnread(_ name: String) -> Bool {
        readings.map { $0.startType(of: name) == nil && !$0.isNotInstalled(name) } ?? true
    }

    /// The start type, read now unless known this session; nil when the service is not installed.
    func knownStartType(of name: String) throws(AgentError) -> ServiceStartType? {
        if readings?.isNotInstalled(name) == true { return nil }
        return try installedStartType(of: name)
    }

    /// The start type, or nil when `sc qc` says the service is not installed (1060).
    private func installedStartType(of name: String) throws(AgentError) -> ServiceStartType? {
        if let kept = readings?.startType(of: name) { return kept }
        let config = try runner.run(WindowsLocations.serviceControl, ["qc", name])
        if ServiceControlOutput.parseFailure(config.output, exitCode: config.exitCode)?.code == Self.notInstalled {
            readings?.keepNotInstalled(name)
            return nil
        }
        guard config.exitCode == 0 else { throw failure("sc.exe qc \"\(name)\"", config) }
        let startType = try ServiceControlOutput.parseConfiguration(config.output).startType
        readings?.keep(startType, of: name)
        return startType
    }

    /// The service's state and process alone (one `sc queryex`, no start type), or nil when it is
    /// not installed.
    public func query(_ name: String) throws(AgentError) -> ServiceControlOutput.Status? {
        if readings?.isNotInstalled(name) == true { return nil }
        let query = try runner.run(WindowsLocations.serviceControl, ["queryex", name])
        if ServiceControlOutput.parseFailure(query.output, exitCode: query.exitCode)?.code == Self.notInstalled {
            readings?.keepNotInstalled(name)
            return nil
        }
        guard query.exitCode == 0 else { throw failure("sc.exe queryex \"\(name)\"", query) }
        return try ServiceControlOutput.parseStatus(query.output)
    }

    /// The state of a service that must be there (one that was being changed).
    private func currentState(_ name: String) throws(AgentError) -> ServiceControlOutput.Status {
        guard let state = try query(name) else { throw AgentError(.notFound, "\(name) is no longer installed") }
        return state
    }

    public enum Outcome: Sendable, Equatable {
        case changed(ServiceStatus)
        case alreadyThere(ServiceStatus)
        case skipped(String)
        /// Stopped only once its stuck process was ended (StuckServiceKiller).
        case ended(ServiceStatus, processID: Int)
    }

    /// Stops the service and waits until it is STOPPED. Missing services are skipped. A service
    /// still STOP_PENDING at the deadline is handed to `StuckServiceKiller`, which ends its process
    /// when `killStuck` is set and otherwise names the process in the error.
    ///
    /// `sc stop` is asked first, without reading the state: its answer says what a query would
    /// have (1062: not started, 1060: not installed; Microsoft, "System Error Codes (1000-1299)"),
    /// which saves one `sc.exe` start per service on the farm's downtime path. Only a refusal
    /// with 1061 (the service is pending) reads the state and goes the long way.
    public func stop(_ name: String, timeout: Double, killStuck: Bool = false, progress: @escaping (String) -> Void) throws(AgentError) -> Outcome {
        if readings?.isNotInstalled(name) == true { return .skipped("\(name): not installed") }
        let deadline = clock.now.addingTimeInterval(timeout)
        let result = try runner.run(WindowsLocations.serviceControl, ["stop", name])
        switch result.exitCode == 0 ? nil : ServiceControlOutput.parseFailure(result.output, exitCode: result.exitCode)?.code {
        case nil where result.exitCode == 0:
            progress("stopping \(name)")
            let startType = try self.startType(of: name)
            return try waitForStop(
                name, timeout: timeout, deadline: deadline, startType: startType, reported: try? ServiceControlOutput.parseStatus(result.output),
                killStuck: killStuck, progress: progress)
        case Self.notInstalled?:
            readings?.keepNotInstalled(name)
            return .skipped("\(name): not installed")
        case Self.notStarted?:
            return .alreadyThere(ServiceStatus(name: name, state: .stopped, startType: try startType(of: name), kind: ServiceCatalog.kind(of: name)))
        case Self.cannotAcceptControl?:
            return try stopAfterReading(name, timeout: timeout, killStuck: killStuck, progress: progress)
        default:
            throw failure("sc.exe stop \"\(name)\"", result)
        }
    }

    /// The long way: the state first, then `sc stop` unless it is already stopping.
    private func stopAfterReading(_ name: String, timeout: Double, killStuck: Bool, progress: @escaping (String) -> Void) throws(AgentError) -> Outcome {
        guard let status = try status(name) else { return .skipped("\(name): not installed") }
        if status.state == .stopped { return .alreadyThere(status) }
        let deadline = clock.now.addingTimeInterval(timeout)
        var reported: ServiceControlOutput.Status?
        if status.state != .stopPending {
            let result = try control("stop", name, deadline: deadline, progress: progress)
            if result.exitCode != 0, ServiceControlOutput.parseFailure(result.output, exitCode: result.exitCode)?.code != Self.notStarted {
                throw failure("sc.exe stop \"\(name)\"", result)
            }
            reported = result.exitCode == 0 ? try? ServiceControlOutput.parseStatus(result.output) : nil
            progress("stopping \(name)")
        }
        return try waitForStop(
            name, timeout: timeout, deadline: deadline, startType: status.startType, reported: reported, killStuck: killStuck, progress: progress)
    }

    /// Waits for a stop asked for; a service still STOP_PENDING at the deadline goes to StuckServiceKiller.
    private func waitForStop(
        _ name: String, timeout: Double, deadline: Date, startType: ServiceStartType, reported: ServiceControlOutput.Status?, killStuck: Bool,
        progress: @escaping (String) -> Void
    ) throws(AgentError) -> Outcome {
        let final: ServiceStatus
        do {
            final = try wait(name, for: .stopped, timeout: max(0, deadline.timeIntervalSince(clock.now)), startType: startType, reported: reported)
        } catch  where error.code == .timedOut {
            return try StuckServiceKiller(control: self, runner: runner)
                .resolve(name, timedOut: error, kill: killStuck, timeout: timeout, startType: startType, progress: progress)
        }
        progress("\(name) stopped")
        return .changed(final)
    }

    /// Starts the service and waits until it is RUNNING. Missing and Disabled services are skipped,
    /// and so are stopped Manual ones unless `startManual` (see ServiceOperations.startOutSystems).
    ///
    /// As with `stop`, `sc start` is asked without reading the state first (1056: already running,
    /// 1058: disabled, 1060: not installed); the start type is read once a session. A Manual
    /// service that may be left stopped, or a refusal with 1061, reads the state first.
    public func start(_ name: String, timeout: Double, startManual: Bool = true, progress: @escaping (String) -> Void) throws(AgentError) -> Outcome {
        if readings?.isNotInstalled(name) == true { return .skipped("\(name): not installed") }
        guard let startType = try installedStartType(of: name) else { return .skipped("\(name): not installed") }
        if startType == .disabled { return .skipped("\(name): disabled") }
        if startType == .manual && !startManual { return try startAfterReading(name, timeout: timeout, startManual: startManual, progress: progress) }
        let deadline = clock.now.addingTimeInterval(timeout)
        let result = try runner.run(WindowsLocations.serviceControl, ["start", name])
        switch result.exitCode == 0 ? nil : ServiceControlOutput.parseFailure(result.output, exitCode: result.exitCode)?.code {
        case nil where result.exitCode == 0:
            progress("starting \(name)")
            let final = try wait(
                name, for: .running, timeout: max(0, deadline.timeIntervalSince(clock.now)), startType: startType,
                reported: try? ServiceControlOutput.parseStatus(result.output))
            progress("\(name) running")
            return .changed(final)
        case Self.notInstalled?:
            readings?.keepNotInstalled(name)
            return .skipped("\(name): not installed")
        case Self.alreadyRunning?:
            guard let status = try status(name) else { return .skipped("\(name): not installed") }
            return .alreadyThere(status)
        case Self.disabled? where readings != nil:
            // Disabled since its start type was read this session.
            readings?.forgetStartType(of: name)
            return .skipped("\(name): disabled")
        case Self.cannotAcceptControl?:
            return try startAfterReading(name, timeout: timeout, startManual: startManual, progress: progress)
        default:
            throw failure("sc.exe start \"\(name)\"", result)
        }
    }

    /// The long way: the state first, then `sc start` unless it is already starting.
    private func startAfterReading(_ name: String, timeout: Double, startManual: Bool, progress: @escaping (String) -> Void) throws(AgentError) -> Outcome {
        guard let status = try status(name) else { return .skipped("\(name): not installed") }
        if status.startType == .disabled { return .skipped("\(name): disabled") }
        if status.startType == .manual && status.state == .stopped && !startManual {
            return .skipped("\(name): Manual and stopped, left stopped")
        }
        if status.state == .running { return .alreadyThere(status) }
        if status.state == .stopPending {
            _ = try wait(name, for: .stopped, timeout: timeout, startType: status.startType)
        }
        let deadline = clock.now.addingTimeInterval(timeout)
        var reported: ServiceControlOutput.Status?
        if status.state != .startPending {
            let result = try control("start", name, deadline: deadline, progress: progress)
            let refusal = result.exitCode == 0 ? nil : ServiceControlOutput.parseFailure(result.output, exitCode: result.exitCode)?.code
            if refusal == Self.disabled && status.startType != .disabled && readings != nil {
                // Disabled since its start type was read this session.
                readings?.forgetStartType(of: name)
                return .skipped("\(name): disabled")
            }
            if result.exitCode != 0, refusal != Self.alreadyRunning {
                throw failure("sc.exe start \"\(name)\"", result)
            }
            reported = result.exitCode == 0 ? try? ServiceControlOutput.parseStatus(result.output) : nil
            progress("starting \(name)")
        }
        let final = try wait(name, for: .running, timeout: max(0, deadline.timeIntervalSince(clock.now)), startType: status.startType, reported: reported)
        progress("\(name) running")
        return .changed(final)
    }

    /// `sc stop` or `sc start`; while the service answers 1061 (pending, it takes no control now),
    /// waits for it to leave its pending state and asks again, until `deadline`.
    private func control(_ verb: String, _ name: String, deadline: Date, progress: (String) -> Void) throws(AgentError) -> CommandOutput {
        let started = clock.now
        var said = false
        while true {
            let result = try runner.run(WindowsLocations.serviceControl, [verb, name])
            guard result.exitCode != 0, ServiceControlOutput.parseFailure(result.output, exitCode: result.exitCode)?.code == Self.cannotAcceptControl else {
                return result
            }
            if !said {
                progress("\(name) cannot take a \(verb) request while it is pending (error 1061); waiting")
                said = true
            }
            guard clock.now < deadline else {
                throw AgentError(.timedOut, "\(name) still refused \(verb) with error 1061 (pending) at its deadline")
            }
            clock.sleep(seconds: Self.pollInterval(afterWaiting: clock.now.timeIntervalSince(started)))
        }
    }

    /// Polls until the service reaches `target`. `reported` is the status block `sc stop`/`sc start`
    /// printed: when it shows the service already there, that is the answer; when it shows the
    /// service still pending, the first query waits a poll interval.
    func wait(
        _ name: String, for target: ServiceState, timeout: Double, startType: ServiceStartType,
        reported: ServiceControlOutput.Status? = nil
    ) throws(AgentError) -> ServiceStatus {
        let started = clock.now
        let deadline = started.addingTimeInterval(timeout)
        var last: ServiceControlOutput.Status
        if let reported, reported.state == target || reported.state == .stopPending || reported.state == .startPending {
            last = reported
        } else {
            last = try currentState(name)
        }
        while last.state != target {
            if target == .running && last.state == .stopped {
                throw AgentError(.operationFailed, "\(name) stopped again while starting")
            }
            guard clock.now < deadline else {
                throw AgentError(
                    .timedOut, "\(name) is still \(last.state.rawValue) after \(Saturating.seconds(timeout.rounded())) s (waiting for \(target.rawValue))")
            }
            clock.sleep(seconds: Self.pollInterval(afterWaiting: clock.now.timeIntervalSince(started)))
            last = try currentState(name)
        }
        return ServiceStatus(name: name, state: last.state, startType: startType, processID: last.processID, kind: ServiceCatalog.kind(of: name))
    }

    func failure(_ command: String, _ result: CommandOutput) -> AgentError {
        if let failure = ServiceControlOutput.parseFailure(result.output, exitCode: result.exitCode) {
            return AgentError(.operationFailed, "\(command) failed with error \(failure.code): \(failure.message)")
        }
        return AgentError(
            .operationFailed, "\(command) exited \(result.exitCode): \(result.output.trimmingCharacters(in: .whitespacesAndNewlines).prefix(200))")
    }
}
