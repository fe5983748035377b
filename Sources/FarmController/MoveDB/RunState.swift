import FarmProtocol
import Foundation

/// Where a run is in its life, read from its journal alone.
public enum RunLifecycle: String, Codable, Sendable, CaseIterable {
    /// Created (preflight passed), no step started yet.
    case planned
    case stopping
    /// Every server stopped; waiting for the database restore.
    case atGate = "at-gate"
    case applying
    case completed
    case failed
    /// Stopped by the operator, a signal, the window, or waiting at the gate: resumable.
    case stopped
    /// A rollback started and has not finished (interrupted or failed): `rollback` continues it.
    case rollingBack = "rolling-back"
    case rolledBack = "rolled-back"

    /// True while a step may be running (the run did not record an end): another process may hold it.
    public var isOpen: Bool {
        switch self {
        case .planned, .stopping, .atGate, .applying, .rollingBack: return true
        case .completed, .failed, .stopped, .rolledBack: return false
        }
    }
}

/// The state of a run, replayed from its journal.
public struct RunState: Sendable {
    public enum StepStatus: String, Codable, Sendable {
        case pending, running, done, failed, skipped
    }

    /// server → journal step name → status.
    public private(set) var steps: [String: [String: StepStatus]] = [:]
    /// Each server's failure that still stands: the last failed step's message, until that step
    /// runs again (a resume); earlier ones are history (`MoveReport.history`).
    public private(set) var messages: [String: String] = [:]
    private var failedStep: [String: String] = [:]
    /// server → journal step name → milliseconds.
    public private(set) var durations: [String: [String: Double]] = [:]
    /// server → journal step name → when it last started / ended.
    public private(set) var startedAt: [String: [String: Date]] = [:]
    public private(set) var endedAt: [String: [String: Date]] = [:]
    public private(set) var gatePassed = false
    public private(set) var lifecycle: RunLifecycle = .planned
    /// The message of the run's last recorded ending.
    public private(set) var outcome: String?

    public init(entries: [JournalEntry]) {
        for entry in entries { apply(entry) }
    }

    public mutating func apply(_ entry: JournalEntry) {
        guard let server = entry.server else {
            applyRunLevel(entry)
            return
        }
        let status: StepStatus
        switch entry.event {
        case .started: status = .running
        case .finished: status = .done
        case .failed: status = .failed
        case .skipped: status = .skipped
        case .note, .created: return
        }
        steps[server, default: [:]][entry.step] = status
        if status == .running { startedAt[server, default: [:]][entry.step] = entry.time } else { endedAt[server, default: [:]][entry.step] = entry.time }
        if let duration = entry.durationMilliseconds { durations[server, default: [:]][entry.step] = duration }
        if entry.event == .failed {
            messages[server] = entry.message ?? "\(entry.step) failed"
            failedStep[server] = entry.step
        } else if failedStep[server] == entry.step {
            messages[server] = nil
            failedStep[server] = nil
        }
    }

    private mutating func applyRunLevel(_ entry: JournalEntry) {
        switch (entry.subject, entry.event) {
        case (.gate, .finished): gatePassed = true
        case (.run, .started):
            if lifecycle != .rollingBack && lifecycle != .rolledBack { lifecycle = .planned }
        case (.run, .finished):
            lifecycle = .completed
            outcome = entry.message
        case (.run, .failed):
            lifecycle = .failed
            outcome = entry.message
        case (.run, .skipped):
            lifecycle = .stopped
            outcome = entry.message
        case (.rollback, .started), (.rollback, .failed), (.rollback, .skipped):
            lifecycle = .rollingBack
            outcome = entry.message
        case (.rollback, .finished):
            lifecycle = .rolledBack
            outcome = entry.message
        case let (.phase(phase), .started) where lifecycle.isOpen && lifecycle != .rollingBack:
            switch phase {
            case .stop: lifecycle = .stopping
            case .gate: lifecycle = .atGate
            case .apply, .after: lifecycle = .applying
            }
        default: break
        }
    }

    /// Run-level journal entries that mark a phase's start: "phase:stop" and so on (`JournalSubject.phase`).
    public static let phasePrefix = "phase:"

    public func status(_ server: String, _ step: String) -> StepStatus { steps[server]?[step] ?? .pending }
    public func status(_ server: String, _ step: StepID) -> StepStatus { status(server, step.rawValue) }
    public func isDone(_ server: String, _ step: StepID) -> Bool { status(server, step) == .done }
    /// The step began at some point (its effect on the server may be partial).
    public func started(_ server: String, _ step: StepID) -> Bool {
        let status = status(server, step)
        return status == .running || status == .done || status == .failed
    }

    public func isDoneInRollback(_ server: String, _ step: StepID) -> Bool { status(server, step.journalNameInRollback) == .done }

    /// "moved", "failed at STEP", "services stopped, not moved" and so on, for reports.
    public func summary(_ runServer: RunServer, runbook: Runbook, options: MoveOptions) -> String {
        let server = runServer.name
        let rollbackSteps = (steps[server] ?? [:]).filter { JournalSubject(journalText: $0.key, server: server).rollbackStep != nil }
        if !rollbackSteps.isEmpty {
            if let failed = rollbackSteps.first(where: { $0.value == .failed }) {
                return "rollback failed at \(JournalSubject(journalText: failed.key, server: server).rollbackStep?.rawValue ?? failed.key)"
            }
            if rollbackSteps.values.contains(.running) || lifecycle == .rollingBack { return "rollback interrupted" }
            return "rolled back"
        }
        func stepIDs(_ kinds: [PhaseKind]) -> [StepID] {
            runbook.phases.filter { kinds.contains($0.kind) }.flatMap { runbook.steps(of: $0, on: runServer, options: options).map(\.id) }
        }
        let stop = stepIDs([.stop]), apply = stepIDs([.apply]), all = stepIDs(PhaseKind.allCases)
        if let failed = all.first(where: { status(server, $0) == .failed }) { return "failed at \(failed)" }
        if !apply.isEmpty, apply.allSatisfy({ isDone(server, $0) }) { return "moved" }
        if let running = all.first(where: { status(server, $0) == .running }) { return "interrupted at \(running)" }
        if let last = apply.last(where: { isDone(server, $0) }) { return "stopped after \(last)" }
        if !stop.isEmpty, stop.allSatisfy({ isDone(server, $0) }) { return "services stopped, not moved" }
        if stop.contains(where: { started(server, $0) }) { return "partly stopped" }
        return "not started"
    }
}
