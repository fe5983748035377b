import FarmProtocol
import Foundation

/// How a run (or a resumed run, or a rollback) ended.
public enum RunOutcome: Sendable, Equatable {
    case completed
    /// A server or the gate failed; the message says which and how to go on.
    case failed(String)
    /// Stopped by the window, the operator, or waiting for the restore; resumable.
    case stopped(String)
    /// A server stopped answering (network, sshd) while the run went on; resumable once it answers.
    case lost(String)

    public var exitStatus: ExitStatus {
        switch self {
        case .completed: return .success
        case .failed: return .someFailed
        case .stopped: return .stopped
        case .lost: return .unreachable
        }
    }

    public var message: String {
        switch self {
        case .completed: return "completed"
        case let .failed(message), let .stopped(message), let .lost(message): return message
        }
    }

    /// The word reports use: completed, failed, stopped, unreachable.
    public var word: String {
        switch self {
        case .completed: return "completed"
        case .failed: return "failed"
        case .stopped: return "stopped"
        case .lost: return "unreachable"
        }
    }
}

/// What the engine tells the operator as it goes; the live view is the real one.
public protocol RunObserver: AnyObject, Sendable {
    func note(_ message: String)
    func step(_ server: String, _ step: String)
    func stepEnded(_ server: String)
    func event(_ server: String, _ message: String)
    /// Steps aside while the operator is asked something, and comes back.
    func suspend()
    func resume()
    func finish()
    /// The server's step failed (its clock stops, marked failed).
    func stepFailed(_ server: String)
    /// Every step of the server is done: "moved to …", "rolled back".
    func serverFinished(_ server: String, _ summary: String)
    /// Steps done of all, and since when the farm is down while it is.
    func progress(_ progress: RunProgress)
}

extension RunObserver {
    public func stepFailed(_ server: String) { stepEnded(server) }
    public func serverFinished(_ server: String, _ summary: String) {}
    public func progress(_ progress: RunProgress) {}
}

/// Executes a runbook table against a farm's agents: `run` (and `resume`) walks the phases forward,
/// `rollback` runs the inverses of what was started. Every step is journaled before it starts and
/// when it ends, and a step the journal shows done is never started again, so the same call
/// carries a crashed or stopped run on from where it was.
public final class RunEngine: @unchecked Sendable {
    public let runbook: Runbook
    public let record: RunRecord
    let journal: any JournalStore
    let servers: [ServerEntry]
    let agents: [String: any AgentClient]
    let observer: any RunObserver
    let interrupt: OperatorInterrupt
    let clock: any RunClock
    let adminPassword: Secret?
    /// Asks the operator to confirm the restore; nil when nobody can answer (no terminal).
    let confirmRestore: (@Sendable (RestoreGateQuestion) -> Bool)?
    /// Of the servers waiting for a turn, the one with the highest number goes next: the services
    /// each starts after its Configuration Tool run (from preflight). Turns are one after another,
    /// so the farm is back when the last server has finished its start and readiness; that last
    /// server should be one with the least to start. Servers not named count 0 (arrival order).
    let turnPriority: [String: Int]

    private let lock = NSLock()
    private var state: RunState
    private var journalFailure: String?
    private var lostServers: [String: String] = [:]
    /// Servers whose agent refused a step because another run holds the server: what it said.
    private var refusedServers: [String: String] = [:]
    private var observedApplySeconds: [Double] = []
    private var turns: [String: AsyncTurn] = [:]
    /// What the live view counts: each server's journal step names in this run or rollback.
    private var progressPlan: [String: [String]] = [:]
    private var finishedSummary = ""
    /// user@host of this controller, as the agents record who changes their server.
    private let controllerName = DatabaseMove.operatorName()

    public init(
        runbook: Runbook = .moveDatabase, record: RunRecord, journal: any JournalStore, servers: [ServerEntry],
        agents: [String: any AgentClient], observer: any RunObserver, interrupt: OperatorInterrupt, clock: any RunClock = SystemClock(),
        adminPassword: Secret?, confirmRestore: (@Sendable (RestoreGateQuestion) -> Bool)?, turnPriority: [String: Int] = [:]
    ) throws {
        self.turnPriority = turnPriority
        self.runbook = runbook
        self.record = record
        self.journal = journal
        self.servers = servers
        self.agents = agents
        self.observer = observer
        self.interrupt = interrupt
        self.clock = clock
        self.adminPassword = adminPassword
        self.confirmRestore = confirmRestore
        self.state = RunState(entries: try journal.entries())
        // Kept from the run's hooks' environment and masked in what they print.
        KnownSecrets.register(variable: record.options.adminPasswordVariable)
        KnownSecrets.register(adminPassword)
    }

    public var currentState: RunState { lock.withLock { state } }
    private var options: MoveOptions { record.options }

    // MARK: The journal

    /// Appends an entry; false when it could not be stored (the run then stops: it could not be resumed).
    @discardableResult
    private func log(_ entry: JournalEntry) -> Bool {
        if lock.withLock({ journalFailure != nil }) { return false }
        do {
            try journal.append(entry)
        } catch {
            lock.withLock { journalFailure = "\(error)" }
            observer.note("osfarm: \(error); no new step will start")
            return false
        }
        lock.withLock { state.apply(entry) }
        return true
    }

    private func entry(
        _ server: String?, _ subject: JournalSubject, _ event: JournalEntry.Event, _ message: String? = nil, duration: Double? = nil
    ) -> JournalEntry {
        JournalEntry(time: clock.now(), server: server, subject: subject, event: event, message: message, durationMilliseconds: duration)
    }

    // MARK: Stopping

    /// Why nothing new may start now, if so, and whether a step that only brings a server back
    /// to serving may still start.
    private func stopReason() -> (reason: String, allowsFinishing: Bool)? {
        if let failure = lock.withLock({ journalFailure }) { return ("the journal could not be written (\(failure))", false) }
        if let signal = interrupt.reason { return ("stopped by \(signal)", true) }
        if let end = options.window?.end, clock.now() >= end {
            return ("the maintenance window ended at \(ISO8601DateFormatter().string(from: end))", true)
        }
        return nil
    }

    /// The outcome for a stop. Every stop is resumable (exit 3), a journal that could not be
    /// written too: the journal holds every entry up to the failed one (a failed write is cut
    /// back), so once there is room again `resume` and `rollback` both carry on from it. Its
    /// reason names the journal's file and what to free.
    private func stopped(_ reason: String) -> RunOutcome {
        guard lock.withLock({ journalFailure }) != nil else { return .stopped(reason) }
        return .stopped(reason + ". Make room for the journal first: both write to it")
    }

    // MARK: Forward

    /// Runs (or carries on) the move; returns how it ended.
    public func run() async -> RunOutcome {
        guard log(entry(nil, .run, .started, "osfarm \(OsfarmVersion.current)")) else {
            return .stopped("the journal could not be written (\(lock.withLock { journalFailure } ?? "")); nothing was started")
        }
        startProgress(
            servers.map { server in (server.name, runbook.forwardSteps(on: record.server(server.name), options: options).map(\.id.rawValue)) },
            finished: "moved to \(record.targets)")
        var outcome = await forward()
        let left = leftOut()
        if outcome == .completed, !left.isEmpty {
            outcome = .stopped(
                "carried on \(servers.map(\.name).joined(separator: ", ")) (--limit); still to move: \(left.joined(separator: ", ")), and the after-steps. "
                    + "Resume with osfarm resume \(record.runID), or undo with osfarm rollback \(record.runID)")
        }
        finishRun(outcome, subject: .run)
        return outcome
    }

    private func finishRun(_ outcome: RunOutcome, subject: JournalSubject) {
        switch outcome {
        case .completed: log(entry(nil, subject, .finished, "completed"))
        case let .failed(message), let .lost(message): log(entry(nil, subject, .failed, message))
        case let .stopped(message): log(entry(nil, subject, .skipped, message))
        }
        observer.finish()
    }

    private func forward() async -> RunOutcome {
        if let outcome = await waitForWindowStart() { return outcome }
        for (index, phase) in runbook.phases.enumerated() {
            let plan: (ServerEntry) -> [RunbookStep] = { [self] server in runbook.steps(of: phase, on: record.server(server.name), options: options) }
            guard servers.contains(where: { server in plan(server).contains { !currentState.isDone(server.name, $0.id) } }) else { continue }
            // A resume --limit leaves servers out: the after-steps wait until every server is moved.
            if phase.kind == .after, !leftOut().isEmpty { continue }
            // Journaled before the gate waits for the restore, so the run reads "at-gate" meanwhile.
            log(entry(nil, .phase(phase.kind), .started, phase.title))
            if phase.kind == .gate, let outcome = restoreGate() { return outcome }
            let result = await execute(phase, plan: plan, direction: .forward)
            if let outcome = outcome(of: result, phase: phase, index: index) { return outcome }
            if phase.kind == .gate { log(entry(nil, .gate, .finished)) }
        }
        return .completed
    }

    /// The restore gate: the operator (or --db-restored) says the database is restored.
    private func restoreGate() -> RunOutcome? {
        guard !currentState.gatePassed, !options.databaseRestored else { return nil }
        let target = record.targets.platform?.server.description ?? "the new server"
        guard let confirmRestore else {
            log(entry(nil, .gate, .note, "waiting for the restore on \(target)"))
            return .stopped(
                "every server is stopped; waiting for the database restore on \(target). When it is done, run: osfarm resume \(record.runID) --db-restored")
        }
        let down = Availability(record: record, state: currentState, now: clock.now()).farmDownSince
        let formatter = DateFormatter()
        formatter.dateFormat = "HH:mm:ss"
        observer.note(
            "every server is stopped\(down.map { "; no front-end has served since \(formatter.string(from: $0))" } ?? ""). "
                + "Back up the old database and restore it on \(target) now.")
        observer.suspend()
        let confirmed = confirmRestore(RestoreGateQuestion(target: target, farmDownSince: down))
        observer.resume()
        guard confirmed else {
            return .stopped("stopped at the restore gate; when the restore is done, run: osfarm resume \(record.runID) --db-restored")
        }
        return nil
    }

    private func waitForWindowStart() async -> RunOutcome? {
        guard let start = options.window?.start, start > clock.now() else { return nil }
        observer.note("waiting for the maintenance window to open at \(ISO8601DateFormatter().string(from: start))")
        var lastShown = -1
        while clock.now() < start {
            if let (reason, _) = stopReason() { return stopped(reason + " before the window opened") }
            let left = Int(min(start.timeIntervalSince(clock.now()), 1e9).rounded(.up))
            if left != lastShown && (left <= 10 || left % 30 == 0) {
                lastShown = left
                observer.note("window opens in \(String(format: "%02d:%02d:%02d", left / 3600, left / 60 % 60, left % 60))")
            }
            await clock.sleep(seconds: 0.25)
        }
        return nil
    }

    /// Turns a phase's result into the run's outcome, or nil to go on.
    private func outcome(of result: PhaseResult, phase: RunbookPhase, index: Int) -> RunOutcome? {
        let lost = lock.withLock { lostServers }
        let failures = result.failures.map { "\($0.server): \($0.message)" }
        let notStarted = notStartedServers()
        // Prepared, then kept from their turn: their steps so far are journaled, resume goes on from there.
        let held = result.heldBeforeTurn.isEmpty ? "" : "; prepared, waiting for their turn: \(result.heldBeforeTurn.joined(separator: ", "))"
        let resume = "osfarm resume \(record.runID)"
        let rollback = "osfarm rollback \(record.runID)"
        if !lost.isEmpty {
            let names = lost.keys.sorted()
            return .lost(
                "lost \(names.joined(separator: ", ")) during the run (\(names.map { "\($0): \(lost[$0] ?? "")" }.joined(separator: "; "))). Once \(names.count == 1 ? "it answers" : "they answer"): \(resume), or undo with \(rollback)"
            )
        }
        if let reason = result.stopReason, failures.isEmpty {
            if let nothing = phase.wording.stoppedBeforeAnyBegan,
                !servers.contains(where: { server in phase.steps.contains { currentState.started(server.name, $0) } })
            {
                return stopped(reason + "; " + nothing)
            }
            let left = notStarted.isEmpty ? "" : "; not started: \(notStarted.joined(separator: ", "))"
            // The journaled window would stop a plain resume at once: it needs a new one.
            let resumeNow = MaintenanceWindow.isWindowReason(reason) ? resume + " " + MaintenanceWindow.resumeOptions : resume
            return stopped(reason + held + left + ". Resume with \(resumeNow), or undo with \(rollback)")
        }
        guard !failures.isEmpty else { return nil }
        if let refusal = refusalOfARunThatChangedNothing(result) { return .failed(refusal) }
        let facts = PhaseWording.Facts(
            failures: result.failures, notStarted: notStarted, held: held, resume: resume, rollback: rollback,
            frontEndsLater: runbook.phases[(index + 1)...].contains { $0.servers == .frontEnds })
        return .failed(phase.wording.failed(facts))
    }

    /// When every failure is another run's claim and no step of this run did anything: which run
    /// holds the farm, and that this one changed nothing (so it has no way out to name).
    private func refusalOfARunThatChangedNothing(_ result: PhaseResult) -> String? {
        let refused = lock.withLock { refusedServers }
        guard !refused.isEmpty, result.failures.allSatisfy({ refused[$0.server] != nil }),
            currentState.steps.values.allSatisfy({ $0.values.allSatisfy { $0 == .skipped } })
        else { return nil }
        let names = refused.keys.sorted()
        let said = Set(refused.values).sorted()
        return "another run holds this farm: " + said.joined(separator: "; ") + " (refused on \(names.joined(separator: ", ")))"
            + ". Run \(record.runID) changed nothing: no server was stopped, there is nothing to resume or roll back"
    }

    /// Servers whose apply has not begun.
    private func notStartedServers() -> [String] {
        let state = currentState
        let apply = runbook.phases.filter { $0.kind == .apply }
        return servers.filter { server in
            apply.flatMap { runbook.steps(of: $0, on: record.server(server.name), options: options) }.allSatisfy {
                state.status(server.name, $0.id) == .pending
            }
        }.map(\.name)
    }

    // MARK: Rollback

    /// Takes the servers back: per server the inverses of the steps the run started, the latest
    /// first, scheduled through the same phases (every server stopped before any is put back, the
    /// deployment controller before the front-ends, as in a move onto the old server). Steps the
    /// journal shows done in an earlier rollback are not run again.
    public func rollback(of selected: [ServerEntry]) async -> (RunOutcome, [String: [StepID]]) {
        let state = currentState
        var plans: [String: [StepID]] = [:]
        for server in selected {
            plans[server.name] = runbook.rollbackSteps(on: record.server(server.name), options: options) { state.started(server.name, $0) }
        }
        if let refusal = await missingBackups(plans, selected) {
            log(entry(nil, .rollback, .note, refusal.message))
            observer.finish()
            return (refusal, plans)
        }
        guard log(entry(nil, .rollback, .started, "servers \(selected.map(\.name).joined(separator: ", "))")) else {
            return (.stopped("the journal could not be written (\(lock.withLock { journalFailure } ?? "")); nothing was started"), plans)
        }
        startProgress(plans.map { ($0.key, $0.value.map(\.journalNameInRollback)) }, finished: "rolled back")
        var outcome: RunOutcome = .completed
        for (index, phase) in runbook.phases.enumerated() {
            let plan: (ServerEntry) -> [RunbookStep] = { [self] server in
                (plans[server.name] ?? []).filter { runbook.rollbackPhaseIndex(of: $0, on: server.role) == index }.compactMap { runbook.step($0) }
            }
            let result = await execute(phase, plan: plan, direction: .rollback, only: selected)
            let lost = lock.withLock { lostServers }
            if !lost.isEmpty {
                outcome = .lost(
                    "lost \(lost.keys.sorted().joined(separator: ", ")) during the rollback; once it answers, run osfarm rollback \(record.runID) again")
                break
            }
            if let reason = result.stopReason {
                outcome = stopped(reason + "; the rollback stopped part-way: run osfarm rollback \(record.runID) again to finish it")
                break
            }
            if !result.failures.isEmpty {
                outcome = .failed(
                    "rollback failed on " + result.failures.map { "\($0.server): \($0.message)" }.joined(separator: "; ")
                        + ". Fix it, then run osfarm rollback \(record.runID)"
                        + (result.failures.contains { $0.message.contains(MoveOptions.killStuckServicesOption) }
                            ? " " + MoveOptions.killStuckServicesOption : "") + " again")
                if phase.onFailure != .finishPhaseThenFail { break }
            }
        }
        finishRun(outcome, subject: .rollback)
        return (outcome, plans)
    }

    /// Every server whose rollback restores its backup must still have it, checked before anything
    /// stops: a rollback that found a backup gone half-way would leave that server down with no way
    /// back. nil when all are there; otherwise the refusal, naming what is missing and what to do.
    private func missingBackups(_ plans: [String: [StepID]], _ selected: [ServerEntry]) async -> RunOutcome? {
        let needing = selected.filter { server in
            (plans[server.name] ?? []).contains(.restore) && !currentState.isDoneInRollback(server.name, .restore)
        }
        var missing: [String] = [], lost: [String] = []
        await withTaskGroup(of: (String, String?, Bool).self) { group in
            for server in needing {
                group.addTask { [self] in
                    guard let agent = agents[server.name] else { return (server.name, "no session", true) }
                    let deadline = StepDeadline(total: options.timeout * 3).request(
                        heartbeatSeconds: agent.heartbeatSeconds, connectionTimeout: options.timeout)
                    do {
                        let data = try await agent.perform(
                            .listBackups(BackupListArguments(maxRuns: Bounds.backupRunsListed.range.upperBound)), context: nil, deadline: deadline
                        ) { _ in }
                        guard case let .backupListing(listing) = data else { return (server.name, "the agent answered without a listing", false) }
                        if listing.runs.contains(where: { $0.runID == record.runID && $0.complete }) || listing.omittedRuns > 0 {
                            return (server.name, nil, false)
                        }
                        return (server.name, "no backup of run \(record.runID) in \(listing.root)", false)
                    } catch {
                        let failure = AgentSessionError.wrap(error)
                        return (server.name, "cannot list its backups: \(failure.description)", failure.isServerLost)
                    }
                }
            }
            for await (name, problem, isLost) in group {
                guard let problem else { continue }
                (isLost ? { lost.append($0) } : { missing.append($0) })("\(name): \(problem)")
            }
        }
        guard !missing.isEmpty || !lost.isEmpty else { return nil }
        let problems = (missing + lost).sorted().joined(separator: "; ")
        let text =
            "rollback refused, nothing was stopped: \(problems). Without its backup a server's server.hsconf cannot be put back. "
            + "Finish the move instead (osfarm resume \(record.runID)), or move the farm back with a new run: osfarm move-db run -i \(record.inventoryPath) --to \(record.from ?? "THE-OLD-SERVER")"
        return lost.isEmpty ? .failed(text) : .lost(text)
    }

    /// The run's servers not selected for this run and not moved yet (resume --limit).
    private func leftOut() -> [String] {
        ResumeSelection.leftToDo(record: record, state: currentState, selected: servers.map(\.name), runbook: runbook)
    }

    // MARK: Progress

    private func startProgress(_ plan: [(String, [String])], finished: String) {
        lock.withLock {
            progressPlan = Dictionary(plan, uniquingKeysWith: { first, _ in first })
            finishedSummary = finished
        }
        let state = currentState
        for (server, steps) in plan where !steps.isEmpty && steps.allSatisfy({ (step: String) in state.status(server, step) == .done }) {
            observer.serverFinished(server, finished)
        }
        reportProgress()
    }

    private func reportProgress() {
        let plan: [String: [String]] = lock.withLock { progressPlan }
        let state = currentState
        var done = 0, total = 0
        for (server, steps) in plan {
            total += steps.count
            done += steps.filter { (step: String) in state.status(server, step) == .done }.count
        }
        let availability = Availability(record: record, state: state, now: clock.now())
        observer.progress(RunProgress(done: done, total: total, farmDownSince: availability.farmDownSince))
    }

    /// Tells the live view when the server's last step is done.
    private func stepDone(_ server: String) {
        let steps: [String] = lock.withLock { progressPlan[server] ?? [] }
        let summary: String = lock.withLock { finishedSummary }
        let state = currentState
        if !steps.isEmpty && steps.allSatisfy({ (step: String) in state.status(server, step) == .done }) { observer.serverFinished(server, summary) }
        reportProgress()
    }

    // MARK: A phase

    struct PhaseResult {
        var failures: [(server: String, message: String)] = []
        var stopReason: String?
        /// Servers that prepared, waited for a turn, and did not take it.
        var heldBeforeTurn: [String] = []
    }

    private func execute(
        _ phase: RunbookPhase, plan: @escaping (ServerEntry) -> [RunbookStep], direction: RunDirection,
        only: [ServerEntry]? = nil
    ) async -> PhaseResult {
        let pending = (only ?? servers).filter { server in
            runbook.includes(phase, server.role) && plan(server).contains { !isDone(server.name, $0.id, direction) }
        }
        guard !pending.isEmpty else { return PhaseResult() }
        if phase.kind == .apply, direction == .forward {
            observer.note(
                "\(phase.title): \(pending.map(\.name).joined(separator: ", "))"
                    + (pending.count > 1 ? ", \(phase.concurrency.limit(options, servers: pending.count)) at a time" : ""))
        } else {
            observer.note("\(direction == .rollback ? "rollback, " : "")\(phase.title): \(pending.map(\.name).joined(separator: ", "))")
        }
        let tolerance = direction == .forward && phase.onFailure == .tolerateMaxFailures ? options.maxFailures : Int.max
        let slots = PhaseSlots(phase.concurrency.limit(options, servers: pending.count))
        let progress = PhaseProgress()
        await withTaskGroup(of: Void.self) { group in
            for next in pending {
                await slots.acquire(.start)
                if let refusal = refusal(next, phase: phase, direction: direction, progress: progress, tolerance: tolerance) {
                    if let reason = refusal.reason { progress.stop(reason) }
                    await slots.release()
                    break
                }
                let steps = plan(next)
                group.addTask {
                    await self.work(next, steps: steps, phase: phase, direction: direction, slots: slots, progress: progress, tolerance: tolerance)
                }
            }
            await group.waitForAll()
        }
        return PhaseResult(failures: progress.failures, stopReason: progress.stopReason, heldBeforeTurn: progress.heldBeforeTurn)
    }

    /// Why a server must not start the phase (or, after waiting, take its turn): more failures
    /// than the phase tolerates (no reason: the failures say it), or a stop or the window.
    private struct Refusal {
        var reason: String?
    }

    private func refusal(_ server: ServerEntry, phase: RunbookPhase, direction: RunDirection, progress: PhaseProgress, tolerance: Int) -> Refusal? {
        if progress.failureCount > tolerance { return Refusal(reason: nil) }
        if direction == .forward, let problem = admissionProblem(server, phase: phase) { return Refusal(reason: problem) }
        if direction == .rollback, let (reason, _) = stopReason() { return Refusal(reason: reason) }
        return nil
    }

    private func isDone(_ server: String, _ step: StepID, _ direction: RunDirection) -> Bool {
        direction == .forward ? currentState.isDone(server, step) : currentState.isDoneInRollback(server, step)
    }

    /// Why `server` must not start the phase now: a stop request, or too little of the window left.
    private func admissionProblem(_ server: ServerEntry, phase: RunbookPhase) -> String? {
        if let (reason, _) = stopReason() { return reason }
        guard phase.budgeted, let end = options.window?.end else { return nil }
        let left = end.timeIntervalSince(clock.now())
        let budget = options.serverBudget ?? lock.withLock { observedApplySeconds.max() } ?? 300
        if left < budget {
            return "only \(Int(max(0, left))) s of the maintenance window left, less than the \(Int(budget)) s a server's apply takes (--server-budget)"
        }
        return nil
    }

    /// One server's steps of a phase, in order; a stop request is checked between every two. The
    /// server starts holding one of the phase's places. For a step with a turn another server
    /// holds, it gives the place back while it waits (the next server prepares meanwhile), is
    /// admitted again once it has the turn (a stop, the window, the failures so far may keep it
    /// from its turn: it then stays where its steps left it, for resume or rollback), runs the
    /// step without a place (the turn bounds it), and takes a place again for the steps after.
    /// What happened goes into `progress` before the turn or the place is handed on.
    private func work(
        _ server: ServerEntry, steps: [RunbookStep], phase: RunbookPhase, direction: RunDirection, slots: PhaseSlots, progress: PhaseProgress,
        tolerance: Int
    ) async {
        let began = clock.now()
        var waited = 0.0
        var holdsSlot = true
        var ranAny = false
        var completed = true
        for step in steps where !isDone(server.name, step.id, direction) {
            var held: AsyncTurn?
            if let name = step.turn {
                let turn = turn(name)
                if await turn.tryAcquire() {
                    // Once more servers failed than the phase tolerates, no further turn starts
                    // (with places given on while waiting, every server may have prepared by then).
                    if progress.failureCount > tolerance {
                        progress.holdBeforeTurn(server.name)
                        await turn.release()
                        completed = false
                        break
                    }
                } else {
                    await slots.release()
                    holdsSlot = false
                    let since = clock.now()
                    await turn.acquire(priority: turnPriority[server.name] ?? 0)
                    waited += clock.now().timeIntervalSince(since)
                    if let refusal = refusal(server, phase: phase, direction: direction, progress: progress, tolerance: tolerance) {
                        if let reason = refusal.reason { progress.stop(reason) }
                        progress.holdBeforeTurn(server.name)
                        await turn.release()
                        completed = false
                        break
                    }
                }
                held = turn
            } else if !holdsSlot {
                let since = clock.now()
                await slots.acquire(.finish)
                waited += clock.now().timeIntervalSince(since)
                holdsSlot = true
            }
            if let (reason, allowsFinishing) = stopReason(), !(allowsFinishing && step.whenStopping == .finish && ranAny) {
                progress.stop(reason)
                if held != nil && ranAny { progress.holdBeforeTurn(server.name) }
                await held?.release()
                completed = false
                break
            }
            let error = await runStep(step, on: server, direction: direction)
            if let error {
                // A step whose start could not be journaled never ran: the run stops, it did not fail.
                if let (reason, _) = stopReason(), lock.withLock({ journalFailure != nil }), error == Self.notJournaled(step, direction) {
                    progress.stop(reason)
                } else {
                    progress.fail(server.name, error)
                }
            }
            await held?.release()
            if error != nil {
                completed = false
                break
            }
            ranAny = true
        }
        if completed && phase.budgeted && direction == .forward && ranAny {
            let seconds = clock.now().timeIntervalSince(began) - waited
            lock.withLock { observedApplySeconds.append(seconds) }
        }
        if holdsSlot { await slots.release() }
    }

    // MARK: One step

    /// The turn named `name` (a runbook step's `turn`), made at its first use; internal for tests.
    func turn(_ name: String) -> AsyncTurn {
        lock.withLock {
            if let turn = turns[name] { return turn }
            let turn = AsyncTurn()
            turns[name] = turn
            return turn
        }
    }

    /// Runs one step on one server with its journal entries; returns the error message on failure.
    private func runStep(_ step: RunbookStep, on server: ServerEntry, direction: RunDirection) async -> String? {
        let subject = JournalSubject.step(step.id, direction)
        let name = subject.journalText
        if let lost = lock.withLock({ lostServers[server.name] }) { return "\(name) not started: the server was lost (\(lost))" }
        let agent = agents[server.name]
        if agent == nil && step.local == nil { return "\(name) not started: no session with \(server.name)" }
        let context = StepContext(server: server, record: record, direction: direction, adminPassword: adminPassword)
        observer.step(server.name, name)
        guard log(entry(server.name, subject, .started)) else { return Self.notJournaled(step, direction) }
        let started = clock.now()
        func elapsed() -> Double { clock.now().timeIntervalSince(started) * 1000 }
        do {
            let message: String
            if let local = step.local {
                message = try await local(context)
            } else if let agent {
                message = try await perform(step, name: name, on: agent, server: server, context: context)
            } else {
                throw StepFailure("no session with \(server.name)")
            }
            log(entry(server.name, subject, .finished, message, duration: elapsed()))
            observer.event(server.name, message)
            observer.stepEnded(server.name)
            stepDone(server.name)
            return nil
        } catch {
            let failure = Self.describe(error)
            if case let error as AgentSessionError = error, error.isServerLost {
                lock.withLock { lostServers[server.name] = failure }
            }
            if case let .agentFailed(_, agentError) = error as? AgentSessionError, agentError.code == .serverBusy {
                // Another run's claim: the agent did nothing, so the step is journaled as not run.
                lock.withLock { refusedServers[server.name] = agentError.message }
                log(entry(server.name, subject, .skipped, "refused: \(failure)", duration: elapsed()))
                observer.event(server.name, "REFUSED: \(failure)")
                observer.stepEnded(server.name)
                return "\(name) refused: \(failure)"
            }
            log(entry(server.name, subject, .failed, failure, duration: elapsed()))
            observer.event(server.name, "FAILED: \(failure)")
            observer.stepFailed(server.name)
            reportProgress()
            await failureHook(context, step: name)
            return "\(name) failed: \(failure)"
        }
    }

    private static func notJournaled(_ step: RunbookStep, _ direction: RunDirection) -> String {
        "\(direction == .forward ? step.id.rawValue : step.id.journalNameInRollback) not started: the journal could not be written"
    }

    /// The step's agent requests, each judged; the journal's line. A step with `retryFor` is asked
    /// again (every two seconds) while its answer does not yet count as done.
    private func perform(_ step: RunbookStep, name: String, on agent: any AgentClient, server: ServerEntry, context: StepContext) async throws -> String {
        let giveUp = clock.now().addingTimeInterval(step.retryFor?(options) ?? 0)
        while true {
            do {
                return try await performOnce(step, name: name, on: agent, server: server, context: context)
            } catch let failure as StepFailure {
                guard clock.now() < giveUp, stopReason() == nil else { throw failure }
                observer.event(server.name, "\(failure.message); asking again")
                await clock.sleep(seconds: 2)
            }
        }
    }

    private func performOnce(_ step: RunbookStep, name: String, on agent: any AgentClient, server: ServerEntry, context: StepContext) async throws -> String {
        let deadline = step.deadline(options).request(heartbeatSeconds: agent.heartbeatSeconds, connectionTimeout: options.timeout)
        let observer = self.observer
        var messages: [String] = []
        for operation in try step.requests(context) {
            let requestContext = RequestContext(runID: record.runID, step: name, controller: controllerName, waitSeconds: deadline.total)
            let data = try await agent.perform(operation, context: requestContext, deadline: deadline) { event in
                if !event.isHeartbeat { observer.event(server.name, event.message) }
            }
            messages.append(try step.judge(data, context))
        }
        return messages.joined(separator: "; ")
    }

    /// The server's on-failure hook, if it has one; what it did goes into the journal as a note.
    private func failureHook(_ context: StepContext, step: String) async {
        guard let argv = context.hooks.command(.onFailure) else { return }
        let result = await HookRunner.run(argv, call: HookStep.call(.onFailure, context, step: step), timeout: context.hooks.timeout)
        let message =
            result.succeeded
            ? "on-failure hook ran: \(argv.joined(separator: " "))" : "on-failure " + HookStep.describe(argv, result, timeout: context.hooks.timeout)
        log(entry(context.server.name, .hook(.onFailure), .note, message))
        observer.event(context.server.name, message)
    }

    /// A step's failure in a line: the agent's own message when it answered with an error.
    static func describe(_ error: Error) -> String {
        if let failure = error as? StepFailure { return failure.message }
        if case let .agentFailed(_, agentError) = AgentSessionError.wrap(error) { return agentError.message }
        return AgentSessionError.wrap(error).description
    }
}
