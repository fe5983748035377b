import FarmProtocol
import FarmSSH
import Foundation

/// How a run (or a resumed run) ended.
public enum RunOutcome: Sendable, Equatable {
    case completed
    /// A server or the gate failed; the message says which and how to go on.
    case failed(String)
    /// Stopped by the window, the operator, or waiting for the restore; resumable.
    case stopped(String)

    public var exitStatus: ExitStatus {
        switch self {
        case .completed: return .success
        case .failed: return .someFailed
        case .stopped: return .stopped
        }
    }

    public var message: String {
        switch self {
        case .completed: return "completed"
        case let .failed(message), let .stopped(message): return message
        }
    }
}

/// The runbook engine: stop everywhere, the restore gate, apply on the deployment controller then
/// the front-ends, and the after-steps, each step journaled before and after it runs. Steps the
/// journal shows as done are not run again, so a resumed run carries on where it stopped.
public final class MoveRun: @unchecked Sendable {
    public let record: RunRecord
    let journal: RunJournal
    let servers: [ServerEntry]
    let sessions: [String: AgentSession]
    let view: LiveView
    let interrupt: OperatorInterrupt
    let adminPassword: Secret?
    /// Asks the operator to confirm the restore; nil when nobody can answer (no terminal).
    let confirmRestore: (@Sendable (String) -> Bool)?
    private let stateLock = NSLock()
    private var entries: [JournalEntry]
    private var state: RunState
    private var observedApplySeconds: [Double] = []

    public init(record: RunRecord, journal: RunJournal, entries: [JournalEntry], servers: [ServerEntry], sessions: [String: AgentSession],
                view: LiveView, interrupt: OperatorInterrupt, adminPassword: Secret?, confirmRestore: (@Sendable (String) -> Bool)?) {
        self.record = record
        self.journal = journal
        self.servers = servers
        self.sessions = sessions
        self.view = view
        self.interrupt = interrupt
        self.adminPassword = adminPassword
        self.confirmRestore = confirmRestore
        self.entries = entries
        self.state = RunState(entries: entries)
    }

    public var currentState: RunState { stateLock.withLock { state } }

    private var options: MoveOptions { record.options }

    private func log(_ entry: JournalEntry) {
        do {
            try journal.append(entry)
        } catch {
            view.note("osfarm: \(error) (the journal could not be written; stopping)")
            interrupt.request()
        }
        stateLock.withLock {
            entries.append(entry)
            state = RunState(entries: entries)
        }
    }

    /// Why nothing new may start now, if so.
    private func stopReason() -> String? {
        if interrupt.isRequested { return "stopped by the operator" }
        if let window = options.window, window.hasEnded() { return "the maintenance window ended at \(ISO8601DateFormatter().string(from: window.end!))" }
        return nil
    }

    public func execute() async -> RunOutcome {
        log(JournalEntry(server: nil, step: "run", event: .started, message: "osfarm \(OsfarmVersion.current)"))
        let outcome = await phases()
        switch outcome {
        case .completed: log(JournalEntry(server: nil, step: "run", event: .finished, message: "completed"))
        case let .failed(message): log(JournalEntry(server: nil, step: "run", event: .failed, message: message))
        case let .stopped(message): log(JournalEntry(server: nil, step: "run", event: .skipped, message: message))
        }
        view.finish()
        return outcome
    }

    private func phases() async -> RunOutcome {
        if let outcome = await waitForWindowStart() { return outcome }
        if let outcome = await stopPhase() { return outcome }
        if let outcome = await gate() { return outcome }
        if let outcome = await applyPhase() { return outcome }
        return await afterPhase()
    }

    // MARK: Window

    private func waitForWindowStart() async -> RunOutcome? {
        guard let start = options.window?.start, start > Date() else { return nil }
        view.note("waiting for the maintenance window to open at \(ISO8601DateFormatter().string(from: start))")
        var lastShown = -1
        while Date() < start {
            if let reason = stopReason() { return .stopped(reason + " before the window opened") }
            let left = Int(start.timeIntervalSinceNow.rounded(.up))
            if left != lastShown && (left <= 10 || left % 30 == 0) {
                lastShown = left
                view.note("window opens in \(String(format: "%02d:%02d:%02d", left / 3600, left / 60 % 60, left % 60))")
            }
            try? await Task.sleep(nanoseconds: 250_000_000)
        }
        return nil
    }

    // MARK: Phase 1

    private func stopPhase() async -> RunOutcome? {
        let pending = servers.filter { server in MoveStep.stopPhase.contains { !currentState.isDone(server.name, $0) } }
        guard !pending.isEmpty else { return nil }
        if let reason = stopReason() { return .stopped(reason + "; nothing was stopped") }
        view.note("phase 1: stopping IIS and the OutSystems services on \(pending.map(\.name).joined(separator: ", "))")
        let failures = await BoundedFanOut.map(pending, concurrency: FarmCheck.defaultConcurrency) { server -> String? in
            for step in MoveStep.stopPhase where !self.currentState.isDone(server.name, step) {
                if let error = await self.run(step, on: server) { return "\(server.name): \(error)" }
            }
            return nil
        }.compactMap { $0 }
        if !failures.isEmpty {
            return .failed("could not stop every server, so the database must not be restored yet: " + failures.joined(separator: "; "))
        }
        return nil
    }

    // MARK: Phase 2

    private func gate() async -> RunOutcome? {
        guard !currentState.gatePassed else { return nil }
        let target = record.targets.platform.server
        if !options.databaseRestored {
            guard let confirmRestore else {
                log(JournalEntry(server: nil, step: "gate", event: .note, message: "waiting for the restore on \(target)"))
                return .stopped("every server is stopped; waiting for the database restore on \(target). When it is done, run: osfarm resume \(record.runID) --db-restored")
            }
            view.note("phase 2: every server is stopped. Back up the old database and restore it on \(target) now.")
            view.suspend()
            let confirmed = confirmRestore(target)
            view.resume()
            guard confirmed else {
                return .stopped("stopped at the restore gate; when the restore is done, run: osfarm resume \(record.runID) --db-restored")
            }
        }
        log(JournalEntry(server: nil, step: "gate", event: .started))
        let prober = servers.first { $0.role == .deploymentController } ?? servers[0]
        guard let session = sessions[prober.name] else { return .failed("no session with \(prober.name) to check the new database") }
        for server in record.targets.servers {
            let port = DatabaseServerAddress(server)?.port ?? DatabaseServerAddress.defaultPort
            do {
                guard case let .probe(probe) = try await session.perform(.probeTCP(TCPProbeArguments(host: server, port: port, timeoutSeconds: 5)), timeout: 30),
                    probe.reachable
                else {
                    let message = "the new database \(server) does not answer from \(prober.name); check the restore, then: osfarm resume \(record.runID) --db-restored"
                    log(JournalEntry(server: nil, step: "gate", event: .failed, message: message))
                    return .failed(message)
                }
            } catch {
                let message = "cannot check the new database from \(prober.name): \(AgentSessionError.wrap(error))"
                log(JournalEntry(server: nil, step: "gate", event: .failed, message: message))
                return .failed(message)
            }
        }
        log(JournalEntry(server: nil, step: "gate", event: .finished, message: "\(record.targets.servers.joined(separator: ", ")) answers from \(prober.name)"))
        view.note("phase 2: \(record.targets.servers.joined(separator: ", ")) answers from \(prober.name)")
        return nil
    }

    // MARK: Phase 3

    private func applyPhase() async -> RunOutcome? {
        let controller = servers.filter { $0.role == .deploymentController }
        let frontEnds = servers.filter { $0.role == .frontEnd }
        for server in controller where !applied(server) {
            if let reason = admissionProblem(server) { return .stopped(reason + "; not started: " + remaining().joined(separator: ", ")) }
            view.note("phase 3: \(server.name) (deployment controller)")
            if let error = await apply(server) {
                return .failed("\(server.name) failed: \(error). No front-end was touched. To undo: osfarm rollback \(record.runID)")
            }
        }
        let pending = frontEnds.filter { !applied($0) }
        guard !pending.isEmpty else { return nil }
        view.note("phase 3: front-ends, \(options.parallel) at a time")
        var failures: [String] = []
        var stopReasonSeen: String?
        await withTaskGroup(of: (String, String?).self) { group in
            var queue = pending[...]
            var running = 0
            func launchMore() {
                while running < options.parallel, let next = queue.first {
                    if failures.count > options.maxFailures { return }
                    if let reason = admissionProblem(next) {
                        stopReasonSeen = reason
                        return
                    }
                    queue = queue.dropFirst()
                    running += 1
                    group.addTask { (next.name, await self.apply(next)) }
                }
            }
            launchMore()
            while let (name, error) = await group.next() {
                running -= 1
                if let error { failures.append("\(name): \(error)") }
                launchMore()
            }
        }
        if !failures.isEmpty {
            let notStarted = remaining()
            return .failed("front-end failure\(failures.count == 1 ? "" : "s"): " + failures.joined(separator: "; ")
                           + (notStarted.isEmpty ? "" : "; not started: \(notStarted.joined(separator: ", "))")
                           + ". Resume with osfarm resume \(record.runID), or undo with osfarm rollback \(record.runID)")
        }
        if let reason = stopReasonSeen {
            return .stopped(reason + "; not started: " + remaining().joined(separator: ", ") + ". Resume with osfarm resume \(record.runID)")
        }
        return nil
    }

    private func applied(_ server: ServerEntry) -> Bool { MoveStep.applyPhase.allSatisfy { currentState.isDone(server.name, $0) } }

    /// Servers whose apply has not begun.
    private func remaining() -> [String] {
        servers.filter { server in MoveStep.applyPhase.allSatisfy { currentState.status(server.name, $0) == .pending } }.map(\.name)
    }

    /// Why `server` must not start its apply now: the operator, the window's end, or too little time left.
    private func admissionProblem(_ server: ServerEntry) -> String? {
        if let reason = stopReason() { return reason }
        if let left = options.window?.remaining() {
            let budget = options.serverBudget ?? observedApplySeconds.max() ?? 300
            if left < budget {
                return "only \(Int(left)) s of the maintenance window left, less than the \(Int(budget)) s a server's apply takes (--server-budget)"
            }
        }
        return nil
    }

    private func apply(_ server: ServerEntry) async -> String? {
        let started = Date()
        for step in MoveStep.applyPhase where !currentState.isDone(server.name, step) {
            if let error = await run(step, on: server) { return error }
        }
        stateLock.withLock { observedApplySeconds.append(Date().timeIntervalSince(started)) }
        view.event(server.name, "moved to \(record.targets.description)")
        return nil
    }

    // MARK: Phase 4

    private func afterPhase() async -> RunOutcome {
        if options.applySettings, let controller = servers.first(where: { $0.role == .deploymentController }),
            !currentState.isDone(controller.name, .applySettings)
        {
            if let error = await run(.applySettings, on: controller) { return .failed("\(controller.name): \(error)") }
        }
        return .completed
    }

    // MARK: One step

    /// Runs one step on one server with its journal entries; returns the error message on failure.
    func run(_ step: MoveStep, on server: ServerEntry) async -> String? {
        guard let session = sessions[server.name] else { return "no session" }
        view.step(server.name, step.rawValue)
        log(JournalEntry(server: server.name, step: step.rawValue, event: .started))
        let started = Date()
        do {
            let message = try await perform(step, session: session, server: server)
            let duration = Date().timeIntervalSince(started) * 1000
            log(JournalEntry(server: server.name, step: step.rawValue, event: .finished, message: message, durationMilliseconds: duration))
            if let message { view.event(server.name, message) }
            view.stepEnded(server.name)
            return nil
        } catch {
            let failure = Self.describe(error)
            log(JournalEntry(server: server.name, step: step.rawValue, event: .failed, message: failure,
                             durationMilliseconds: Date().timeIntervalSince(started) * 1000))
            view.event(server.name, "FAILED: \(failure)")
            view.stepEnded(server.name)
            return "\(step.rawValue) failed: \(failure)"
        }
    }

    struct StepFailure: Error {
        var message: String
    }

    /// A step's failure in a line: the agent's own message when it answered with an error.
    static func describe(_ error: Error) -> String {
        if let failure = error as? StepFailure { return failure.message }
        if case let .agentFailed(_, agentError) = AgentSessionError.wrap(error) { return agentError.message }
        return AgentSessionError.wrap(error).description
    }

    private func perform(_ step: MoveStep, session: AgentSession, server: ServerEntry) async throws -> String? {
        let services = ServiceControlArguments(serviceTimeoutSeconds: options.serviceTimeout)
        let serviceWait = options.serviceTimeout * 6 + options.timeout
        let progress: (ProgressEvent) -> Void = { [view] in view.event(server.name, $0.message) }
        switch step {
        case .stopIIS:
            _ = try await session.perform(.stopIIS(services), timeout: serviceWait, progress: progress)
            return "IIS stopped"
        case .stopServices:
            _ = try await session.perform(.stopServices(services), timeout: serviceWait, progress: progress)
            return "OutSystems services stopped"
        case .backup:
            guard case let .backup(_, record) = try await session.perform(.backupConfiguration(BackupArguments(runID: self.record.runID)), timeout: 120) else { return nil }
            return "backed up " + record.files.map { "\($0.path.split(separator: "\\").last ?? "") sha256 \($0.sha256.prefix(12))" }.joined(separator: ", ")
        case .repoint:
            var arguments = record.targets.arguments
            arguments.expectedCurrentServer = options.expectFrom
            guard case let .repoint(result) = try await session.perform(.repointDatabase(arguments), timeout: 120) else { return nil }
            return result.changes.isEmpty ? "already pointing at \(record.targets.description)"
                : result.changes.map { "\($0.section.rawValue) \($0.element) \($0.from) → \($0.to)" }.joined(separator: "; ")
        case .startIIS:
            _ = try await session.perform(.startIIS(services), timeout: serviceWait, progress: progress)
            return "IIS running"
        case .configurationTool:
            let arguments = ConfigurationToolArguments(
                mode: .upgradeInstall(integratedAuthenticationPassword: record.windowsAuthentication ? adminPassword : nil),
                installServiceCenter: true, timeoutSeconds: options.configurationToolTimeout)
            guard case let .configurationTool(run) = try await session.perform(
                .runConfigurationTool(arguments), timeout: options.configurationToolTimeout + arguments.machineConfigWaitSeconds + options.timeout,
                progress: progress)
            else { return nil }
            return "Configuration Tool exited \(run.exitCode) after \(Int(run.durationMilliseconds / 1000)) s"
        case .startServices:
            _ = try await session.perform(.startServices(services), timeout: serviceWait, progress: progress)
            return "OutSystems services started"
        case .waitReady:
            guard case let .readiness(readiness) = try await session.perform(
                .waitForReadiness(ReadinessArguments(timeoutSeconds: options.readinessTimeout)), timeout: options.readinessTimeout + options.timeout,
                progress: progress)
            else { return nil }
            return "ports " + readiness.ports.map { String($0.port) }.joined(separator: ", ") + " answer"
        case .verify:
            guard case let .inspection(inspection) = try await session.perform(.inspect, timeout: 60), let platform = inspection.platform else {
                throw StepFailure(message: "cannot read the server's configuration")
            }
            for database in platform.databases {
                let target = record.targets.target(for: database.section)
                guard database.server.caseInsensitiveCompare(target.server) == .orderedSame else {
                    throw StepFailure(message: "\(database.section.rawValue) still names \(database.server), not \(target.server)")
                }
                if let catalog = target.catalog, database.catalog != catalog {
                    throw StepFailure(message: "\(database.section.rawValue) catalog is \(database.catalog ?? "none"), not \(catalog)")
                }
            }
            let stopped = platform.services.filter { $0.name.hasPrefix("OutSystems") && $0.startType != .disabled && $0.state != .running }
            guard stopped.isEmpty else { throw StepFailure(message: "not running: " + stopped.map(\.name).joined(separator: ", ")) }
            return "names \(record.targets.description); services running"
        case .applySettings:
            _ = try await session.perform(
                .runConfigurationTool(ConfigurationToolArguments(mode: .applySettingsFactory, timeoutSeconds: options.configurationToolTimeout)),
                timeout: options.configurationToolTimeout + 300 + options.timeout, progress: progress)
            return "settings applied to the factory"
        }
    }
}
