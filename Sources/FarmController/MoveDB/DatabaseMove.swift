import FarmProtocol
import FarmSSH
import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// A problem with what the operator asked for: nothing was attempted (exit 2).
public struct UsageProblem: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// What the CLI hands the jobs besides its parsed options: how to show progress, the operator's
/// stop requests, how to ask at the restore gate, and where the admin password comes from.
public struct RunInteraction: Sendable {
    public var makeObserver: @Sendable ([String]) -> any RunObserver
    public var interrupt: OperatorInterrupt
    public var confirmRestore: (@Sendable (RestoreGateQuestion) -> Bool)?
    /// The Windows-authentication admin password, from the named variable or a prompt.
    public var adminPassword: @Sendable (String?) throws -> Secret?
    public var clock: any RunClock
    /// Shows what is about to happen and asks the operator to confirm it; nil: confirmed (`--yes`).
    public var confirmStart: (@Sendable (StartSummary) -> Bool)?
    /// The same question before a rollback stops anything; nil: confirmed (`--yes`).
    public var confirmRollback: (@Sendable (RollbackSummary) -> Bool)?

    public init(
        makeObserver: @escaping @Sendable ([String]) -> any RunObserver, interrupt: OperatorInterrupt,
        confirmRestore: (@Sendable (RestoreGateQuestion) -> Bool)?, adminPassword: @escaping @Sendable (String?) throws -> Secret?,
        clock: any RunClock = SystemClock(), confirmStart: (@Sendable (StartSummary) -> Bool)? = nil
    ) {
        self.makeObserver = makeObserver
        self.interrupt = interrupt
        self.confirmRestore = confirmRestore
        self.adminPassword = adminPassword
        self.clock = clock
        self.confirmStart = confirmStart
    }
}

/// What `move-db run` is about to do, shown before it asks to go on.
public struct StartSummary: Sendable {
    public var servers: [ServerEntry]
    public var from: String?
    public var targets: DatabaseTargets
    public var window: MaintenanceWindow?
    public var estimate: DowntimeEstimate?

    /// The deployment controller's name: what the operator types to go on.
    public var controller: String { servers.first { $0.role == .deploymentController }?.name ?? "" }

    public var text: String {
        let frontEnds = servers.filter { $0.role == .frontEnd }.map(\.name)
        return """
            About to move the farm's databases. Every selected server's IIS and platform services stop now.
              servers   \(controller) (deployment controller)\(frontEnds.isEmpty ? "" : ", " + frontEnds.joined(separator: ", ") + " (front-ends)")
              from      \(from ?? "?") → \(targets)
              window    \(window?.description ?? "none")
              downtime  \(estimate?.text ?? "unknown (no earlier run on this farm to learn from)")

            """
    }
}

/// The `move-db`, `resume` and `rollback` jobs, from a parsed command line to an exit status.
/// The CLI only parses; everything an operator relies on happens here.
public struct DatabaseMove: Sendable {
    public var inventory: Inventory
    public var servers: [ServerEntry]
    public var limit: String?
    public var request: MoveRequest
    public var options: MoveOptions
    public var settings: ConnectionSettings
    public var stateDirectory: String
    public var runbook: Runbook = .moveDatabase
    /// How each server's agent is reached (SSH; scripted in the unit tests).
    public var connector: AgentConnector = .ssh

    /// Checks the selection against the farm: one deployment controller, no silent split, options in range.
    public static func prepare(
        inventory: Inventory, limit: String?, request: MoveRequest, options: MoveOptions,
        settings: ConnectionSettings, stateDirectory: String
    ) throws -> DatabaseMove {
        if let problem = options.problems().first { throw UsageProblem(problem) }
        let controllers = inventory.servers.filter { $0.role == .deploymentController }
        guard controllers.count == 1 else {
            throw UsageProblem(
                "\(inventory.path): a farm has exactly one deployment-controller; this inventory has \(controllers.count)"
                    + (controllers.isEmpty ? "" : " (\(controllers.map(\.name).joined(separator: ", ")))"))
        }
        let selected: [ServerEntry]
        do {
            selected = try TargetSelector(limit).select(from: inventory.servers)
        } catch {
            throw UsageProblem(error.description)
        }
        if selected.count < inventory.servers.count && !options.allowPartial {
            let left = inventory.servers.filter { server in !selected.contains { $0.name == server.name } }.map(\.name)
            throw UsageProblem(
                "--limit selects \(selected.count) of \(inventory.servers.count) servers: \(left.joined(separator: ", ")) would stay on the old database and the farm would be split. Add --allow-partial if that is really wanted"
            )
        }
        return DatabaseMove(
            inventory: inventory, servers: MovePlan.executionOrder(selected), limit: limit, request: request,
            options: options, settings: settings, stateDirectory: stateDirectory)
    }

    public func plan() -> MovePlan {
        MovePlan.make(
            inventory: inventory, selected: servers, targets: request.provisionalTargets, options: options, runbook: runbook,
            estimate: DowntimeEstimate.make(
                stateDirectory: stateDirectory, farm: FarmIdentity.of(inventory), servers: servers, options: options, runbook: runbook))
    }

    /// Opens the agents and runs the read-only checks; returns the preflight and the agents (to reuse).
    public func preflight() async -> (Preflight, [String: any AgentClient]) {
        let (sessions, failures) = await connector.openAll(servers, settings: settings)
        var preflight = await Preflight.run(servers, request: request, options: options, agents: sessions)
        for index in preflight.servers.indices {
            if let failure = failures[preflight.servers[index].server.name] {
                preflight.servers[index].error = failure
                preflight.servers[index].status = failure.isUnreachable ? .unreachable : .failed
            }
        }
        return (preflight, sessions)
    }

    public struct Result: Sendable {
        public var status: ExitStatus
        /// What to print on stdout: the preflight, or the run's summary.
        public var text: String
        public var report: MoveReport?
        public var runDirectory: String?
    }

    /// Preflight, then the run.
    public func run(_ interaction: RunInteraction) async throws -> Result {
        let runID = RunJournal.newRunID()
        let lock = try FarmLock.acquire(farm: inventory.servers, stateDirectory: stateDirectory, runID: runID, command: "move-db run")
        defer { withExtendedLifetime(lock) {} }
        return try await locked(runID: runID, interaction)
    }

    private func locked(runID: String, _ interaction: RunInteraction) async throws -> Result {
        let (preflight, sessions) = await preflight()
        guard preflight.passed else {
            await AgentConnector.closeAll(sessions)
            return Result(status: preflight.exitStatus, text: preflight.text() + "nothing was changed\n")
        }
        if let confirmStart = interaction.confirmStart {
            let summary = StartSummary(
                servers: servers, from: preflight.from, targets: preflight.targets, window: options.window,
                estimate: DowntimeEstimate.make(
                    stateDirectory: stateDirectory, farm: FarmIdentity.of(inventory), servers: servers, options: options, runbook: runbook))
            guard confirmStart(summary) else {
                await AgentConnector.closeAll(sessions)
                return Result(status: .stopped, text: Self.notConfirmed + "\n")
            }
        }
        let password: Secret?
        do {
            password = preflight.windowsAuthentication ? try interaction.adminPassword(options.adminPasswordVariable) : nil
        } catch {
            await AgentConnector.closeAll(sessions)
            throw error
        }
        var record = RunRecord(
            runID: runID, createdAt: interaction.clock.now(), startedBy: Self.operatorName(), inventoryPath: inventory.path, limit: limit,
            servers: servers.map(\.name), roles: Dictionary(servers.map { ($0.name, $0.role) }, uniquingKeysWith: { first, _ in first }),
            targets: preflight.targets, origin: preflight.origin, from: preflight.from, options: options,
            partial: servers.count < inventory.servers.count, windowsAuthentication: preflight.windowsAuthentication)
        record.hooks = Dictionary(uniqueKeysWithValues: servers.filter { !$0.hooks.isEmpty }.map { ($0.name, $0.hooks) })
        record.platformVersion = preflight.platformVersion
        record.farmIdentity = FarmIdentity.of(inventory)
        let journal: RunJournal
        do {
            journal = try RunJournal.create(record, stateDirectory: stateDirectory)
        } catch {
            await AgentConnector.closeAll(sessions)
            throw error
        }
        do {
            try journal.append(
                JournalEntry(server: nil, subject: .preflight, event: .finished, message: "\(servers.count) servers ready; farm on \(preflight.from ?? "?")"))
        } catch {
            // Nothing was touched: a run that could not be journaled leaves no folder behind.
            try? FileManager.default.removeItem(atPath: journal.directory)
            await AgentConnector.closeAll(sessions)
            throw error
        }
        let activeRun = ActiveRun(
            record: record, journal: journal, servers: servers, sessions: sessions, runbook: runbook,
            adminPassword: password, interaction: interaction, turnPriority: preflight.servicesStartedAfterTheTurn)
        return await activeRun.forward(note: "run \(record.runID): journal in \(journal.directory)")
    }

    /// The window a resume runs in: the run's own, a new one, or none.
    public enum ResumeWindow: Sendable, Equatable {
        case keep
        case replace(MaintenanceWindow)
        case none
    }

    /// What a declined confirmation prints, once.
    public static let notConfirmed = "not confirmed; nothing was changed"

    /// Carries on a stopped or crashed run from its journal.
    public static func resume(
        runID: String, stateDirectory: String, settingsFor: (Inventory) throws -> ConnectionSettings,
        databaseRestored: Bool, adminPasswordVariable: String?, window: ResumeWindow = .keep, killStuckServices: Bool = false,
        interaction: RunInteraction, limit: String? = nil, runbook: Runbook = .moveDatabase, connector: AgentConnector = .ssh
    ) async throws -> Result {
        let run = try LockedRun.open(runID: runID, stateDirectory: stateDirectory, command: "resume")
        let journal = run.journal, entries = run.entries, inventory = run.inventory
        let servers: [ServerEntry]
        do {
            servers = try TargetSelector(limit).select(from: run.servers)
        } catch {
            throw UsageProblem(error.description)
        }
        var record = run.record
        let state = RunState(entries: entries)
        switch state.lifecycle.admits(.resume, runID: runID) {
        case .allowed: break
        case let .nothingToDo(reason):
            let report = MoveReport(record: record, entries: entries, outcome: .completed, runbook: runbook)
            return Result(status: .success, text: reason + "\n" + report.summary(), report: report, runDirectory: journal.directory)
        case let .refused(reason): throw UsageProblem(reason)
        }
        if let problem = record.options.problems().first {
            throw UsageProblem("run \(runID) holds a value osfarm cannot use (\(problem)); it cannot be resumed. 'osfarm rollback \(runID)' still works")
        }
        if let problem = ResumeSelection.problem(record: record, state: state, selected: servers.map(\.name)) {
            throw UsageProblem("run \(runID): \(problem)")
        }
        if databaseRestored { record.options.databaseRestored = true }
        if killStuckServices { record.options.killStuckServices = true }
        if let adminPasswordVariable { record.options.adminPasswordVariable = adminPasswordVariable }
        let settings = try settingsFor(inventory)
        let password = record.windowsAuthentication ? try interaction.adminPassword(record.options.adminPasswordVariable) : nil
        let (sessions, failures) = await connector.openAll(servers, settings: settings)
        guard failures.isEmpty else {
            await AgentConnector.closeAll(sessions)
            let lines = failures.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.description)" }
            return Result(
                status: failures.values.contains { $0.isUnreachable } ? .unreachable : .someFailed,
                text: "cannot resume \(runID): not every server answers\n" + lines.joined(separator: "\n") + "\n")
        }
        let windowNote: String
        switch window {
        case .keep: windowNote = ""
        case let .replace(new):
            record.options.window = new
            windowNote = "; window now \(new)"
        case .none:
            record.options.window = nil
            windowNote = "; no window"
        }
        let killNote = killStuckServices ? "; \(MoveOptions.killStuckServicesOption)" : ""
        try journal.append(JournalEntry(server: nil, subject: .resume, event: .note, message: "resumed by \(operatorName())\(windowNote)\(killNote)"))
        let activeRun = ActiveRun(
            record: record, journal: journal, servers: servers, sessions: sessions, runbook: runbook,
            adminPassword: password, interaction: interaction)
        defer { withExtendedLifetime(run.lock) {} }
        return await activeRun.forward(note: "resuming run \(runID)")
    }

    /// Puts back every server the run touched (limited by `limit`). A rollback that stopped
    /// part-way is carried on by the same command; a finished one is not run twice.
    public static func rollback(
        runID: String, stateDirectory: String, limit: String?, settingsFor: (Inventory) throws -> ConnectionSettings,
        killStuckServices: Bool = false, interaction: RunInteraction, runbook: Runbook = .moveDatabase, connector: AgentConnector = .ssh
    ) async throws -> Result {
        let run = try LockedRun.open(runID: runID, stateDirectory: stateDirectory, command: "rollback", strictRecord: false)
        let journal = run.journal, stored = run.record, inventory = run.inventory, all = run.servers
        if let warning = run.warning { interaction.makeObserver([]).note("osfarm: \(warning); the rollback uses the journal's record") }
        let state = RunState(entries: run.entries)
        if case let .refused(reason) = state.lifecycle.admits(.rollback, runID: runID) { throw UsageProblem(reason) }
        var record = stored
        if let problem = record.options.problems().first {
            interaction.makeObserver([]).note("run \(runID): \(problem); the rollback uses the default instead")
            record.options = record.options.withDefaultsForProblems()
        }
        if killStuckServices { record.options.killStuckServices = true }
        let servers: [ServerEntry]
        do {
            servers = try TargetSelector(limit).select(from: all)
        } catch {
            throw UsageProblem(error.description)
        }
        let touched = servers.filter { server in
            !runbook.rollbackSteps(on: record.server(server.name), options: record.options) { state.started(server.name, $0) }
                .allSatisfy { state.isDoneInRollback(server.name, $0) }
        }
        guard !touched.isEmpty else {
            return Result(status: .success, text: "run \(runID): nothing to roll back on \(servers.map(\.name).joined(separator: ", "))\n")
        }
        if let confirm = interaction.confirmRollback {
            let availability = Availability(record: record, state: state, now: Date())
            let summary = RollbackSummary(
                runID: runID, lifecycle: state.lifecycle, servers: touched.map(\.name),
                controller: record.servers.first { record.role(of: $0) == .deploymentController } ?? touched[0].name, from: record.from,
                targets: record.targets,
                serving: availability.servers.filter { server in server.condition == .serving && touched.contains { $0.name == server.name } }.map(\.name))
            guard confirm(summary) else { return Result(status: .stopped, text: notConfirmed + "\n") }
        }
        let settings = try settingsFor(inventory)
        let password = record.windowsAuthentication ? try interaction.adminPassword(record.options.adminPasswordVariable) : nil
        let (sessions, failures) = await connector.openAll(touched, settings: settings)
        let activeRun = ActiveRun(
            record: record, journal: journal, servers: touched, sessions: sessions, runbook: runbook,
            adminPassword: password, interaction: interaction)
        defer { withExtendedLifetime(run.lock) {} }
        return await activeRun.rollback(unreachable: failures)
    }

    /// The run's servers as the inventory describes them now (how to reach them); their roles
    /// must still be the run's.
    static func serversOf(_ record: RunRecord) throws -> (Inventory, [ServerEntry]) {
        let inventory: Inventory
        do {
            inventory = try InventoryLoader.load(path: record.inventoryPath)
        } catch {
            throw UsageProblem("the run's inventory: \(error)")
        }
        let servers = try record.servers.map { name in
            guard let server = inventory.servers.first(where: { $0.name == name }) else {
                throw UsageProblem("server \(name) of run \(record.runID) is no longer in \(record.inventoryPath)")
            }
            if let role = record.roles[name], role != server.role {
                throw UsageProblem("\(record.inventoryPath): \(name) is now a \(server.role.rawValue), but run \(record.runID) moved it as a \(role.rawValue)")
            }
            return server
        }
        return (inventory, servers)
    }

    static func operatorName() -> String {
        let user =
            ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"]
            ?? getpwuid(geteuid()).flatMap { $0.pointee.pw_name.map { String(cString: $0) } } ?? "unknown"
        return "\(user)@\(ProcessInfo.processInfo.hostName)"
    }
}

/// An existing run opened for `resume` or `rollback` under the farm's lock: the record is read
/// first (to know the farm), the lock taken, and only then is the journal opened for writing
/// (which may cut a torn last line), so a live run's journal is never touched.
struct LockedRun {
    let lock: FarmLock
    let journal: RunJournal
    let record: RunRecord
    let entries: [JournalEntry]
    let inventory: Inventory
    let servers: [ServerEntry]
    /// Set when run.json disagrees with the journal and `strictRecord` was false.
    let warning: String?

    static func open(runID: String, stateDirectory: String, command: String, strictRecord: Bool = true) throws -> LockedRun {
        let first = try RunJournal.open(runID: runID, stateDirectory: stateDirectory, forWriting: false, strictRecord: strictRecord)
        let (inventory, servers) = try DatabaseMove.serversOf(first.record)
        let lock = try FarmLock.acquire(farm: inventory.servers, stateDirectory: stateDirectory, runID: runID, command: command)
        let opened = try RunJournal.open(runID: runID, stateDirectory: stateDirectory, forWriting: true, strictRecord: strictRecord)
        return LockedRun(
            lock: lock, journal: opened.journal, record: opened.record, entries: opened.entries, inventory: inventory,
            servers: servers, warning: opened.warning)
    }
}

/// A run with its sessions open: runs the engine one way or the other, closes the sessions, and
/// turns the journal into the report. Shared by run, resume and rollback.
struct ActiveRun {
    let record: RunRecord
    let journal: RunJournal
    let servers: [ServerEntry]
    let sessions: [String: any AgentClient]
    let runbook: Runbook
    let adminPassword: Secret?
    let interaction: RunInteraction
    /// See `RunEngine.turnPriority`; empty where no preflight inspected the servers (resume, rollback).
    var turnPriority: [String: Int] = [:]

    private func engine(_ observer: any RunObserver) throws -> RunEngine {
        let (record, journal) = (self.record, self.journal)
        interaction.interrupt.runStarted(record.runID) {
            let state = RunState(entries: (try? journal.entries()) ?? [])
            return WayOut(record: record, state: state, availability: Availability(record: record, state: state, now: Date()))?.lines(record: record)
        }
        return try RunEngine(
            runbook: runbook, record: record, journal: journal, servers: servers, agents: sessions, observer: observer,
            interrupt: interaction.interrupt, clock: interaction.clock, adminPassword: adminPassword,
            confirmRestore: interaction.confirmRestore, turnPriority: turnPriority)
    }

    func forward(note: String) async -> DatabaseMove.Result {
        _ = Diagnostics.attach(runDirectory: journal.directory)
        let observer = interaction.makeObserver(servers.map(\.name))
        observer.note(note)
        let outcome: RunOutcome
        do {
            outcome = try await engine(observer).run()
        } catch {
            outcome = .failed("\(error)")
        }
        return await finish(outcome)
    }

    func rollback(unreachable: [String: AgentSessionError]) async -> DatabaseMove.Result {
        _ = Diagnostics.attach(runDirectory: journal.directory)
        let observer = interaction.makeObserver(servers.map(\.name))
        let reachable = servers.filter { sessions[$0.name] != nil }
        observer.note("rolling back run \(record.runID) on \(reachable.map(\.name).joined(separator: ", "))")
        var outcome: RunOutcome
        do {
            outcome = try await engine(observer).rollback(of: reachable).0
        } catch {
            outcome = .failed("\(error)")
        }
        if !unreachable.isEmpty {
            let names = unreachable.keys.sorted()
            outcome = .lost(
                "not rolled back, unreachable: " + names.map { "\($0) (\(unreachable[$0]?.description ?? ""))" }.joined(separator: "; ")
                    + ". Once \(names.count == 1 ? "it answers" : "they answer"), run osfarm rollback \(record.runID) again")
        }
        return await finish(outcome)
    }

    private func finish(_ outcome: RunOutcome) async -> DatabaseMove.Result {
        await AgentConnector.closeAll(sessions)
        let entries = (try? journal.entries()) ?? []
        var report = MoveReport(record: record, entries: entries, outcome: outcome, runbook: runbook)
        report.diagnosticLog = journal.directory + "/debug.log"
        return DatabaseMove.Result(status: outcome.exitStatus, text: report.summary(), report: report, runDirectory: journal.directory)
    }
}
