import FarmProtocol
import Foundation

/// The name of a runbook step: in the journal, the plan and the reports. Stable once released.
public struct StepID: RawRepresentable, Hashable, Codable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }
    public var description: String { rawValue }

    /// A rollback step is journaled under the name of the step it runs, prefixed.
    public static let rollbackPrefix = "rollback:"
    public var journalNameInRollback: String { Self.rollbackPrefix + rawValue }
}

/// The four phases of a move, in order.
public enum PhaseKind: String, Codable, Sendable, CaseIterable {
    case stop, gate, apply, after
}

/// Which servers of the run a phase works on, in the run's order (the deployment controller first).
public enum PhaseServers: Sendable, Equatable {
    case all
    case deploymentController
    case frontEnds
}

/// How many of a phase's servers work at once.
public enum PhaseConcurrency: Sendable, Equatable {
    /// Every server at once (bounded by the fan-out limit).
    case all
    /// One after the other.
    case one
    /// As many as `--parallel`.
    case parallelOption

    func limit(_ options: MoveOptions, servers: Int) -> Int {
        switch self {
        case .all: return max(1, min(servers, FarmCheck.defaultConcurrency))
        case .one: return 1
        case .parallelOption: return max(1, options.parallel)
        }
    }
}

/// What a server's failure in a phase does to the run.
public enum PhaseFailurePolicy: Sendable, Equatable {
    /// Every server finishes the phase; the run fails after it if any failed.
    case finishPhaseThenFail
    /// The run fails at once: nothing later starts.
    case failRun
    /// No new server starts once more than `--max-failures` have failed; the run fails at the end.
    case tolerateMaxFailures
}

/// One phase of the table: its servers, their concurrency, its steps in order.
public struct RunbookPhase: Sendable {
    public var kind: PhaseKind
    public var title: String
    public var servers: PhaseServers
    public var concurrency: PhaseConcurrency
    public var onFailure: PhaseFailurePolicy
    /// A server starts the phase only if the maintenance window has room for it (`--server-budget`).
    public var budgeted: Bool
    public var steps: [StepID]
    /// What the run says when servers fail the phase, or a stop comes before any began it.
    public var wording: PhaseWording

    public init(
        kind: PhaseKind, title: String, servers: PhaseServers, concurrency: PhaseConcurrency, onFailure: PhaseFailurePolicy,
        budgeted: Bool = false, steps: [StepID], wording: PhaseWording = .plain
    ) {
        self.kind = kind
        self.title = title
        self.servers = servers
        self.concurrency = concurrency
        self.onFailure = onFailure
        self.budgeted = budgeted
        self.steps = steps
        self.wording = wording
    }
}

/// A phase's outcome in the table's own words, so the engine need not know what a phase is for.
public struct PhaseWording: Sendable {
    /// What the words are made of.
    public struct Facts: Sendable {
        /// Each failed server and its step's error.
        public var failures: [(server: String, message: String)]
        /// Servers whose apply has not begun.
        public var notStarted: [String]
        /// "; prepared, waiting for their turn: fe2, fe3" when servers were kept from their turn, or nothing.
        public var held: String
        /// The commands that carry the run on, and undo it.
        public var resume: String
        public var rollback: String
        /// A later phase of the table works on the front-ends.
        public var frontEndsLater: Bool

        /// "server: message; server: message".
        public var failureList: String { failures.map { "\($0.server): \($0.message)" }.joined(separator: "; ") }
        /// "; not started: fe2, fe3", or nothing.
        public var notStartedList: String { notStarted.isEmpty ? "" : "; not started: \(notStarted.joined(separator: ", "))" }
    }

    /// The run's failure message when servers failed the phase.
    public var failed: @Sendable (Facts) -> String
    /// Added to a stop's reason when no server began the phase; nil: the stop names what was not
    /// started and the way out, as for any phase.
    public var stoppedBeforeAnyBegan: String?

    public init(failed: @escaping @Sendable (Facts) -> String, stoppedBeforeAnyBegan: String? = nil) {
        self.failed = failed
        self.stoppedBeforeAnyBegan = stoppedBeforeAnyBegan
    }

    /// The failures, what was not started, and both ways out.
    public static let plain = PhaseWording { facts in
        "failed: " + facts.failureList + facts.held + facts.notStartedList + ". Resume with \(facts.resume), or undo with \(facts.rollback)"
    }
}

/// How long a step may take: `silence` without any news from the agent (heartbeats count), and
/// `total` at most. Declared once per step in the table.
public struct StepDeadline: Sendable, Equatable {
    public var total: Double

    public init(total: Double) { self.total = total }

    /// The request's deadline given what the agent says of its heartbeats: silence is bounded by
    /// three missed beats (and never less than the connection timeout); an agent that sends none is
    /// judged by the total alone.
    public func request(heartbeatSeconds: Double?, connectionTimeout: Double) -> RequestDeadline {
        guard let heartbeatSeconds, heartbeatSeconds > 0 else { return RequestDeadline(silence: total, total: total) }
        return RequestDeadline(silence: min(total, max(connectionTimeout, heartbeatSeconds * 3)), total: total)
    }
}

/// What a stop request (Ctrl-C, SIGTERM, the window's end) does to a server between two steps.
public enum StopBehaviour: Sendable, Equatable {
    /// Do not start the step: the server stays where the last step left it.
    case halt
    /// Start it anyway: it only brings the server back to serving (start the services, wait for
    /// them, check them), which is safer than leaving a server down in the middle of its apply.
    case finish
}

/// A server as the runbook sees it: name, role, and the hooks the run declared for it.
public struct RunServer: Sendable, Equatable {
    public var name: String
    public var role: ServerRole
    public var hooks: ServerHooks

    public init(name: String, role: ServerRole, hooks: ServerHooks = ServerHooks()) {
        self.name = name
        self.role = role
        self.hooks = hooks
    }
}

/// Which way a step works: the move, or a rollback taking the server back.
public enum RunDirection: String, Sendable, Equatable {
    case forward
    case rollback
}

/// Everything a step needs to build its request and judge its answer.
public struct StepContext: Sendable {
    public var server: ServerEntry
    public var record: RunRecord
    public var direction: RunDirection
    /// The Windows-authentication admin password, when the farm needs it. Never journaled.
    public var adminPassword: Secret?

    public var options: MoveOptions { record.options }
    public var hooks: ServerHooks { record.server(server.name).hooks }

    /// Where the step takes the database sections: the move's targets, or in a rollback where
    /// the sections were before the run.
    public var targets: DatabaseTargets { direction == .forward ? record.targets : record.origin }
}

/// A step that did not do what counts as done; the message says what is wrong.
public struct StepFailure: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One entry of the table. Adding a step to the runbook is one of these (in `Runbook.steps` and a
/// phase's list) plus the agent operation it calls.
public struct RunbookStep: Sendable {
    public var id: StepID
    /// A short line for tables and reports.
    public var summary: String
    /// The plan's line for this step, with the run's values (targets, switches).
    public var explain: @Sendable (StepContext) -> String
    public var deadline: @Sendable (MoveOptions) -> StepDeadline
    /// The agent requests the step sends, one after the other (most steps send one).
    public var requests: @Sendable (StepContext) throws(StepFailure) -> [AgentOperation]
    /// A step that runs on the jump host instead (a hook): its line to journal, or it throws.
    public var local: (@Sendable (StepContext) async throws(StepFailure) -> String)?
    /// What counts as done: judges each answer; returns the line to journal, or throws.
    public var judge: @Sendable (ResultData, StepContext) throws(StepFailure) -> String
    /// What a rollback runs for this step (in this order) once the step has started.
    public var inverse: [StepID]
    /// Steps with the same turn never run on two servers at once (the Configuration Tool).
    public var turn: String?
    public var whenStopping: StopBehaviour
    /// How long the step may be tried again while its answer does not count as done (a platform
    /// warming up); nil: once. A transport failure is never retried.
    public var retryFor: (@Sendable (MoveOptions) -> Double)?
    /// Whether the step applies to a server (Apply Settings only on the deployment controller, when asked).
    public var appliesTo: @Sendable (RunServer, MoveOptions) -> Bool

    public init(
        id: StepID, summary: String, explain: (@Sendable (StepContext) -> String)? = nil,
        deadline: @escaping @Sendable (MoveOptions) -> StepDeadline,
        requests: @escaping @Sendable (StepContext) throws(StepFailure) -> [AgentOperation],
        judge: @escaping @Sendable (ResultData, StepContext) throws(StepFailure) -> String,
        inverse: [StepID] = [], turn: String? = nil, whenStopping: StopBehaviour = .halt,
        appliesTo: @escaping @Sendable (RunServer, MoveOptions) -> Bool = { _, _ in true }
    ) {
        self.id = id
        self.summary = summary
        self.explain = explain ?? { _ in summary }
        self.deadline = deadline
        self.requests = requests
        self.judge = judge
        self.inverse = inverse
        self.turn = turn
        self.whenStopping = whenStopping
        self.appliesTo = appliesTo
    }

    /// The same step, tried again for up to `seconds` while its answer does not count as done.
    public func retrying(_ seconds: @escaping @Sendable (MoveOptions) -> Double) -> RunbookStep {
        var copy = self
        copy.retryFor = seconds
        return copy
    }

    /// A step that runs on the jump host.
    public init(
        id: StepID, summary: String, explain: (@Sendable (StepContext) -> String)? = nil,
        deadline: @escaping @Sendable (MoveOptions) -> StepDeadline, local: @escaping @Sendable (StepContext) async throws(StepFailure) -> String,
        inverse: [StepID] = [], whenStopping: StopBehaviour = .halt,
        appliesTo: @escaping @Sendable (RunServer, MoveOptions) -> Bool = { _, _ in true }
    ) {
        self.init(
            id: id, summary: summary, explain: explain, deadline: deadline, requests: { _ in [] },
            judge: { _, _ in "" }, inverse: inverse, whenStopping: whenStopping, appliesTo: appliesTo)
        self.local = local
    }

    /// A step that sends one request.
    public init(
        id: StepID, summary: String, explain: (@Sendable (StepContext) -> String)? = nil,
        deadline: @escaping @Sendable (MoveOptions) -> StepDeadline,
        request: @escaping @Sendable (StepContext) throws(StepFailure) -> AgentOperation,
        judge: @escaping @Sendable (ResultData, StepContext) throws(StepFailure) -> String,
        inverse: [StepID] = [], turn: String? = nil, whenStopping: StopBehaviour = .halt,
        appliesTo: @escaping @Sendable (RunServer, MoveOptions) -> Bool = { _, _ in true }
    ) {
        self.init(
            id: id, summary: summary, explain: explain, deadline: deadline, requests: { context throws(StepFailure) in [try request(context)] },
            judge: judge, inverse: inverse, turn: turn, whenStopping: whenStopping, appliesTo: appliesTo)
    }
}

/// The runbook as one table: phases in order, and every step they (or their inverses) name.
/// `plan` prints it, `run` and `resume` execute it, `rollback` executes its inverses.
public struct Runbook: Sendable {
    public var phases: [RunbookPhase]
    public var steps: [StepID: RunbookStep]

    public init(phases: [RunbookPhase], steps: [RunbookStep]) {
        self.phases = phases
        self.steps = Dictionary(steps.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public func step(_ id: StepID) -> RunbookStep? { steps[id] }

    /// The phase that runs a step forward (nil for steps only rollbacks use).
    public func phase(of id: StepID) -> RunbookPhase? { phases.first { $0.steps.contains(id) } }

    /// Whether a phase works on a server.
    public func includes(_ phase: RunbookPhase, _ role: ServerRole) -> Bool {
        switch phase.servers {
        case .all: return true
        case .deploymentController: return role == .deploymentController
        case .frontEnds: return role == .frontEnd
        }
    }

    /// The steps of `phase` that apply to `server`.
    public func steps(of phase: RunbookPhase, on server: RunServer, options: MoveOptions) -> [RunbookStep] {
        guard includes(phase, server.role) else { return [] }
        return phase.steps.compactMap { steps[$0] }.filter { $0.appliesTo(server, options) }
    }

    /// Every forward step of `server`, in run order.
    public func forwardSteps(on server: RunServer, options: MoveOptions) -> [RunbookStep] {
        phases.flatMap { steps(of: $0, on: server, options: options) }
    }

    /// A server's rollback: the inverses of the steps it started, the latest first, each step once
    /// (and only those that apply to it).
    public func rollbackSteps(on server: RunServer, options: MoveOptions, started: (StepID) -> Bool) -> [StepID] {
        var plan: [StepID] = []
        for step in forwardSteps(on: server, options: options).reversed() where started(step.id) {
            for inverse in step.inverse where !plan.contains(inverse) && (steps[inverse]?.appliesTo(server, options) ?? false) {
                plan.append(inverse)
            }
        }
        return plan
    }

    /// The index of the phase a rollback runs `step` of `server` in: the phase that runs it
    /// forward on that server, or (for a rollback-only step) the phase of the step it undoes.
    public func rollbackPhaseIndex(of step: StepID, on role: ServerRole) -> Int? {
        if let index = phases.firstIndex(where: { $0.steps.contains(step) && includes($0, role) }) { return index }
        return phases.firstIndex { phase in
            includes(phase, role) && phase.steps.contains { self.steps[$0]?.inverse.contains(step) ?? false }
        }
    }

    /// Adds a step after another in the same phase (a test build uses this to show that one
    /// entry is enough to appear in plan, run and rollback).
    public func inserting(_ step: RunbookStep, after anchor: StepID) -> Runbook {
        var copy = self
        copy.steps[step.id] = step
        for index in copy.phases.indices {
            if let position = copy.phases[index].steps.firstIndex(of: anchor) { copy.phases[index].steps.insert(step.id, at: position + 1) }
        }
        return copy
    }

    /// The names the table gives the phases' steps; a missing one is a programming error caught by the tests.
    public var undefinedSteps: [StepID] {
        let named = phases.flatMap(\.steps) + steps.values.flatMap(\.inverse)
        return named.filter { steps[$0] == nil }
    }
}
