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

/// The `move-db`, `resume` and `rollback` jobs, from a parsed command line to an exit status.
/// The CLI only parses; everything an operator relies on happens here.
public struct DatabaseMove: Sendable {
    public var inventory: Inventory
    public var servers: [ServerEntry]
    public var limit: String?
    public var targets: MoveTargets
    public var options: MoveOptions
    public var settings: ConnectionSettings
    public var stateDirectory: String

    /// Checks the selection against the farm: one deployment controller, no silent split.
    public static func prepare(inventory: Inventory, limit: String?, targets: MoveTargets, options: MoveOptions,
                               settings: ConnectionSettings, stateDirectory: String) throws -> DatabaseMove {
        let controllers = inventory.servers.filter { $0.role == .deploymentController }
        guard controllers.count == 1 else {
            throw UsageProblem("\(inventory.path): a farm has exactly one deployment-controller; this inventory has \(controllers.count)"
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
            throw UsageProblem("--limit selects \(selected.count) of \(inventory.servers.count) servers: \(left.joined(separator: ", ")) would stay on the old database and the farm would be split. Add --allow-partial if that is really wanted")
        }
        for server in targets.servers where DatabaseServerAddress(server) == nil {
            throw UsageProblem("\"\(server)\" is not a database server: use host, host\\INSTANCE or host,port")
        }
        return DatabaseMove(inventory: inventory, servers: MovePlan.executionOrder(selected), limit: limit, targets: targets,
                            options: options, settings: settings, stateDirectory: stateDirectory)
    }

    public func plan() -> MovePlan {
        MovePlan.make(inventory: inventory, selected: servers, targets: targets, options: options)
    }

    /// One session per server, opened in parallel.
    public static func openSessions(_ servers: [ServerEntry], settings: ConnectionSettings) async -> ([String: AgentSession], [String: AgentSessionError]) {
        let results = await BoundedFanOut.map(servers, concurrency: FarmCheck.defaultConcurrency) { server -> (String, Swift.Result<AgentSession, AgentSessionError>) in
            do {
                return (server.name, .success(try await AgentSession.open(server, options: settings.options(for: server), timeout: settings.timeout)))
            } catch {
                return (server.name, .failure(AgentSessionError.wrap(error)))
            }
        }
        var sessions: [String: AgentSession] = [:], failures: [String: AgentSessionError] = [:]
        for (name, result) in results {
            switch result {
            case let .success(session): sessions[name] = session
            case let .failure(error): failures[name] = error
            }
        }
        return (sessions, failures)
    }

    static func closeAll(_ sessions: [String: AgentSession]) async {
        await withTaskGroup(of: Void.self) { group in
            for session in sessions.values { group.addTask { await session.close() } }
        }
    }

    /// Opens sessions and runs the read-only checks; returns the preflight and the sessions (to reuse).
    public func preflight() async -> (Preflight, [String: AgentSession]) {
        let (sessions, failures) = await Self.openSessions(servers, settings: settings)
        var preflight = await Preflight.run(servers, targets: targets, options: options, sessions: sessions)
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

    /// Preflight, then the run. Secrets (the admin password) come from `adminPassword` only.
    public func run(view: (([String]) -> LiveView), interrupt: OperatorInterrupt, confirmRestore: (@Sendable (String) -> Bool)?,
                    adminPassword: () throws -> Secret?) async throws -> Result {
        let (preflight, sessions) = await preflight()
        guard preflight.passed else {
            await Self.closeAll(sessions)
            return Result(status: preflight.exitStatus, text: preflight.text() + "nothing was changed\n")
        }
        let password: Secret?
        do {
            password = preflight.windowsAuthentication ? try adminPassword() : nil
        } catch {
            await Self.closeAll(sessions)
            throw error
        }
        let record = RunRecord(
            runID: RunJournal.newRunID(), createdAt: Date(), startedBy: Self.operatorName(), inventoryPath: inventory.path, limit: limit,
            servers: servers.map(\.name), targets: targets, from: preflight.from, options: options,
            partial: servers.count < inventory.servers.count, windowsAuthentication: preflight.windowsAuthentication)
        let journal = try RunJournal.create(record, stateDirectory: stateDirectory)
        try journal.append(JournalEntry(server: nil, step: "preflight", event: .finished, message: "\(servers.count) servers ready; farm on \(preflight.from ?? "?")"))
        let live = view(servers.map(\.name))
        live.note("run \(record.runID): journal in \(journal.directory)")
        let run = MoveRun(record: record, journal: journal, entries: try journal.entries(), servers: servers, sessions: sessions, view: live,
                          interrupt: interrupt, adminPassword: password, confirmRestore: confirmRestore)
        let outcome = await run.execute()
        await Self.closeAll(sessions)
        let report = MoveReport(record: record, entries: try journal.entries(), outcome: outcome)
        return Result(status: outcome.exitStatus, text: report.summary(), report: report, runDirectory: journal.directory)
    }

    /// Carries on a stopped or crashed run from its journal.
    public static func resume(runID: String, stateDirectory: String, settingsFor: (Inventory) throws -> ConnectionSettings,
                              databaseRestored: Bool, adminPasswordVariable: String?, view: (([String]) -> LiveView),
                              interrupt: OperatorInterrupt, confirmRestore: (@Sendable (String) -> Bool)?,
                              adminPassword: (String?) throws -> Secret?) async throws -> Result {
        let (journal, stored, entries) = try RunJournal.open(runID: runID, stateDirectory: stateDirectory)
        var record = stored
        if RunState(entries: entries).finished {
            let report = MoveReport(record: record, entries: entries, outcome: .completed)
            return Result(status: .success, text: "run \(runID) is already complete\n" + report.summary(), report: report, runDirectory: journal.directory)
        }
        if databaseRestored { record.options.databaseRestored = true }
        if let adminPasswordVariable { record.options.adminPasswordVariable = adminPasswordVariable }
        let (inventory, servers) = try serversOf(record)
        let settings = try settingsFor(inventory)
        let password = record.windowsAuthentication ? try adminPassword(record.options.adminPasswordVariable) : nil
        let (sessions, failures) = await openSessions(servers, settings: settings)
        guard failures.isEmpty else {
            await closeAll(sessions)
            let lines = failures.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.description)" }
            return Result(status: failures.values.contains { $0.isUnreachable } ? .unreachable : .someFailed,
                          text: "cannot resume \(runID): not every server answers\n" + lines.joined(separator: "\n") + "\n")
        }
        try journal.append(JournalEntry(server: nil, step: "resume", event: .note, message: "resumed by \(operatorName())"))
        let live = view(servers.map(\.name))
        live.note("resuming run \(runID)")
        let run = MoveRun(record: record, journal: journal, entries: try journal.entries(), servers: servers, sessions: sessions, view: live,
                          interrupt: interrupt, adminPassword: password, confirmRestore: confirmRestore)
        let outcome = await run.execute()
        await closeAll(sessions)
        let report = MoveReport(record: record, entries: try journal.entries(), outcome: outcome)
        return Result(status: outcome.exitStatus, text: report.summary(), report: report, runDirectory: journal.directory)
    }

    /// Puts back every server the run touched (limited by `limit`).
    public static func rollback(runID: String, stateDirectory: String, limit: String?, settingsFor: (Inventory) throws -> ConnectionSettings,
                                view: (([String]) -> LiveView), adminPassword: (String?) throws -> Secret?) async throws -> Result {
        let (journal, record, entries) = try RunJournal.open(runID: runID, stateDirectory: stateDirectory)
        let (inventory, all) = try serversOf(record)
        let servers: [ServerEntry]
        do {
            servers = try TargetSelector(limit).select(from: all)
        } catch {
            throw UsageProblem(error.description)
        }
        let state = RunState(entries: entries)
        let touched = servers.filter { state.stopped($0.name) || state.touched($0.name) }
        guard !touched.isEmpty else { return Result(status: .success, text: "run \(runID) changed nothing on \(servers.map(\.name).joined(separator: ", "))\n") }
        let settings = try settingsFor(inventory)
        let password = record.windowsAuthentication ? try adminPassword(record.options.adminPasswordVariable) : nil
        let (sessions, failures) = await openSessions(touched, settings: settings)
        let live = view(touched.map(\.name))
        live.note("rolling back run \(runID) on \(touched.map(\.name).joined(separator: ", "))")
        let results = await Rollback.run(record: record, state: state, servers: touched.filter { sessions[$0.name] != nil }, sessions: sessions,
                                         journal: journal, view: live, adminPassword: password)
        await closeAll(sessions)
        var table = TextTable(headers: ["SERVER", "ROLLBACK"])
        for result in results { table.add([result.server, result.error.map { "FAILED: \($0)" } ?? (result.restored ? "restored to \(record.from ?? "the old database")" : "started again")]) }
        for (name, failure) in failures.sorted(by: { $0.key < $1.key }) { table.add([name, "UNREACHABLE: \(failure.description)"]) }
        let failed = results.contains { $0.error != nil }
        let status: ExitStatus = !failures.isEmpty ? .unreachable : failed ? .someFailed : .success
        return Result(status: status, text: table.render())
    }

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
            return server
        }
        return (inventory, servers)
    }

    static func operatorName() -> String {
        let user = ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"]
            ?? getpwuid(geteuid()).flatMap { $0.pointee.pw_name.map { String(cString: $0) } } ?? "unknown"
        return "\(user)@\(ProcessInfo.processInfo.hostName)"
    }
}
