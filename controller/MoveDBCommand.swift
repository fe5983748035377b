import ArgumentParser
import FarmController
import FarmProtocol
import FarmSSH
import Foundation
#if canImport(Glibc)
    import Glibc
#endif

extension Osfarm {
    struct MoveDB: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "move-db",
            abstract: "Move the farm's platform, session and logging databases to another DB server.",
            discussion: """
                Exit codes: 0 done; 1 some servers failed; 2 usage or configuration; 3 stopped (window, operator, waiting for the restore); 4 unreachable.
                """,
            subcommands: [Plan.self, Preflight.self, Run.self, Rehearse.self])
    }
}

/// Where the databases go, and what the farm must look like now: plan, preflight and run share these.
struct MoveTargetOptions: ParsableArguments {
    @Option(help: "The new database server: host, host\\INSTANCE, host,port or host\\INSTANCE,port. Every section on the platform's server now moves there.")
    var to: String
    @Option(help: "The session database's new server (default: --to when the session section is on the platform's server now, else it stays).")
    var sessionTo: String?
    @Option(help: "The logging database's new server (default: --to when the logging section is on the platform's server now, else it stays).")
    var loggingTo: String?
    @Option(help: "New platform catalog (default: unchanged).") var catalog: String?
    @Option(help: "New session catalog (default: unchanged).") var sessionCatalog: String?
    @Option(help: "New logging catalog (default: unchanged).") var loggingCatalog: String?
    @Option(help: "Refuse unless every server now points at this server.") var expectFrom: String?
    @Flag(help: "Go on although the servers point at different databases, or already at the new one.") var force = false
    @Flag(help: "Allow a --limit that leaves part of the farm on the old database.") var allowPartial = false

    /// What the operator asked, typed; a malformed address is a usage error naming the option and value.
    func request() throws -> MoveRequest {
        MoveRequest(
            to: try Self.address(to, "--to"), sessionTo: try sessionTo.map { try Self.address($0, "--session-to") },
            loggingTo: try loggingTo.map { try Self.address($0, "--logging-to") },
            platformCatalog: catalog, sessionCatalog: sessionCatalog, loggingCatalog: loggingCatalog)
    }

    static func address(_ text: String, _ option: String) throws -> DatabaseServerAddress {
        do {
            return try DatabaseServerAddress(parsing: text)
        } catch {
            throw failUsage("\(option) \"\(text)\" is not a database server: \(error); use host, host\\INSTANCE, host,port or host\\INSTANCE,port")
        }
    }

    func apply(to options: inout MoveOptions) throws {
        options.expectFrom = try expectFrom.map { try Self.address($0, "--expect-from") }
        options.force = force
        options.allowPartial = allowPartial
    }
}

/// How the run goes: plan shows these, run uses them.
struct MoveRunOptions: ParsableArguments {
    @Option(help: "Front-ends applied at once (1…256).") var parallel: Int = 1
    @Option(help: "Front-end failures tolerated before no new front-end starts.") var maxFailures: Int = 0
    @Flag(help: "The database restore is already done: do not wait for it.") var dbRestored = false
    @Flag(
        inversion: .prefixedNo,
        help:
            "Log in to the new database as every user server.hsconf names, at the gate (and in preflight once the restore is done); off, a refused login shows only after the repoint."
    )
    var loginCheck = true
    @Flag(inversion: .prefixedNo, help: "Run ConfigurationTool.com /ApplySettingsFactory on the deployment controller at the end (the article's last step).")
    var applySettings = true
    @Flag(help: "End a platform service's process when it is still stopping at its deadline (the Scheduler is known for it).")
    var killStuckServices = false
    @Option(help: "Environment variable with the admin password (farms on Windows authentication).") var adminPasswordEnv: String?
    @Option(help: "Maintenance window START/END: ISO 8601 date-times or HH:MM/HH:MM local time.") var window: String?
    @Option(help: "Do not start before this time (ISO 8601 or HH:MM).") var notBefore: String?
    @Option(help: "Start nothing new after this time (ISO 8601 or HH:MM).") var deadline: String?
    @Option(help: "Seconds one server's apply is expected to take (default: learnt from the servers done so far, 300 before).") var serverBudget: Double?
    @Option(help: "Seconds each service may take to stop or start.") var serviceTimeout: Double = 180
    @Option(help: "Seconds a Configuration Tool run may take.") var configToolTimeout: Double = 1800
    @Option(help: "Seconds to wait for the services' ports after a start.") var readinessTimeout: Double = 300
    @Option(help: "Seconds any step that drives services may take in all.") var stepTimeout: Double = 3600

    func validate() throws {
        guard window == nil || (notBefore == nil && deadline == nil) else { throw ValidationError("use --window or --not-before/--deadline, not both") }
    }

    func apply(to options: inout MoveOptions) throws {
        options.parallel = parallel
        options.maxFailures = maxFailures
        options.databaseRestored = dbRestored
        options.loginCheck = loginCheck ? nil : false
        options.applySettings = applySettings
        options.killStuckServices = killStuckServices
        options.serverBudget = serverBudget
        options.serviceTimeout = serviceTimeout
        options.configurationToolTimeout = configToolTimeout
        options.readinessTimeout = readinessTimeout
        options.stepTimeout = stepTimeout
        options.adminPasswordVariable = adminPasswordEnv
        do {
            if let window { options.window = try MaintenanceWindow.parse(window) }
            if notBefore != nil || deadline != nil {
                options.window = MaintenanceWindow(
                    start: try notBefore.map { try MaintenanceWindow.parseInstant($0, option: "--not-before") },
                    end: try deadline.map { try MaintenanceWindow.parseInstant($0, option: "--deadline") })
            }
        } catch {
            throw failUsage(error)
        }
    }
}

/// Where runs are journaled and what is printed.
struct RunOutputOptions: ParsableArguments {
    @Option(help: "Where runs are journaled (default: $XDG_STATE_HOME/osfarm/runs).") var stateDir: String?
    @Flag(help: "Print one JSON document instead of text.") var json = false

    var stateDirectory: String { stateDir ?? RunJournal.defaultStateDirectory() }
}

/// The pieces every move-db subcommand puts together.
private func prepareMove(
    _ connection: ConnectionOptions, _ target: MoveTargetOptions, _ run: MoveRunOptions?, _ output: RunOutputOptions,
    connects: Bool
) throws -> DatabaseMove {
    let request = try target.request()
    var options = MoveOptions()
    options.timeout = connection.reach.timeout
    try target.apply(to: &options)
    try run?.apply(to: &options)
    do {
        let inventory = try InventoryLoader.load(path: connection.inventory)
        // Passphrases are read only for the servers the move selects, and only when it connects.
        var settings = try connection.reach.settings(for: inventory, servers: [])
        var move = try DatabaseMove.prepare(
            inventory: inventory, limit: connection.limit, request: request, options: options, settings: settings,
            stateDirectory: output.stateDirectory)
        if connects {
            try settings.resolvePassphrases(for: move.servers, variable: connection.reach.passphraseEnv)
            move.settings = settings
        }
        return move
    } catch {
        throw failUsage(error)
    }
}

extension Osfarm.MoveDB {
    struct Plan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print what run would do, phase by phase and server by server; connects nowhere and changes nothing.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var target: MoveTargetOptions
        @OptionGroup var run: MoveRunOptions
        @OptionGroup var output: RunOutputOptions

        func run() async throws {
            let plan = try prepareMove(connection, target, run, output, connects: false).plan()
            print(output.json ? try plan.json() : plan.text(), terminator: "")
        }
    }

    struct Preflight: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read-only checks on every server: agent, role, current database, Configuration Tool, new database reachable, room for backups.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var target: MoveTargetOptions
        @OptionGroup var output: RunOutputOptions
        @Flag(help: "The new database is restored (a rehearsal restore): also log in to it as every user server.hsconf names, from each server.")
        var dbRestored = false
        @Flag(inversion: .prefixedNo, help: "With --db-restored, check the logins (the default).") var loginCheck = true

        func run() async throws {
            var move = try prepareMove(connection, target, nil, output, connects: true)
            move.options.databaseRestored = dbRestored
            move.options.loginCheck = loginCheck ? nil : false
            let (preflight, sessions) = await move.preflight()
            for session in sessions.values { await session.close() }
            print(output.json ? try preflight.json() : preflight.text(), terminator: "")
            throw OsfarmExit(status: preflight.exitStatus)
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Preflight, then: stop everywhere; wait for the restore; apply on the deployment controller, then the front-ends; after-steps.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var target: MoveTargetOptions
        @OptionGroup var run: MoveRunOptions
        @OptionGroup var output: RunOutputOptions
        @Option(help: "Write a Markdown change record here.") var report: String?
        @Flag(name: [.short, .long], help: "Do not ask before stopping the servers (unattended runs; without a terminal it is required).")
        var yes = false

        func run() async throws {
            try Confirmation.required(yes: yes, "move-db run stops every selected server")
            let move = try prepareMove(connection, target, run, output, connects: true)
            var interaction = Terminal.interaction(stopping: "stopping after the steps in flight (again to quit at once; the run can be resumed)")
            if !yes {
                let interrupt = interaction.interrupt
                interaction.confirmStart = { summary in interrupt.asking(.watched) { Terminal.startConfirmation(summary, interrupt: interrupt) } }
            }
            let result: DatabaseMove.Result
            do {
                result = try await move.run(interaction)
            } catch let problem as UsageProblem {
                throw failUsage(problem)
            }
            try finish(result, json: output.json, reportPath: report)
        }
    }
}

extension Osfarm.MoveDB {
    /// One command rather than a recipe: it is `run` with the window's options, but it refuses any
    /// inventory that is not a replica's, needs no confirmation or restore question (the replica's
    /// new database is restored already), and ends with what only a rehearsal can say.
    struct Rehearse: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The window's move-db run, on a replica (osfarm-sim farm up --from): its change record, its downtime, the estimate for the real window.",
            discussion: """
                Give the replica's inventory and the same options move-db run will get in the window. Rehearse prints what \
                preflight says of the real farm as the snapshot recorded it, then runs the move on the replica as run would \
                (--yes and --db-restored implied), and ends with the change record, the downtime it measured and the estimate \
                for the real window: the replica's downtime scaled by the snapshot's step durations.
                """)
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var target: MoveTargetOptions
        @OptionGroup var run: MoveRunOptions
        @Option(help: "Where runs are journaled (default: $XDG_STATE_HOME/osfarm/runs).") var stateDir: String?
        @Option(help: "Write the rehearsal's change record here (default: rehearsal-RUN-ID.md next to the replica's inventory).")
        var report: String?

        func run() async throws {
            let output = try RunOutputOptions.parse(stateDir.map { ["--state-dir", $0] } ?? [])
            var move = try prepareMove(connection, target, run, output, connects: true)
            let snapshotPath: String
            let snapshot: FarmSnapshot
            do {
                snapshotPath = try Rehearsal.snapshotPath(of: move.inventory)
                snapshot = try FarmSnapshotFile.read(path: snapshotPath)
            } catch {
                throw failUsage(error)
            }
            move.options.databaseRestored = true
            let recorded = Rehearsal.recordedPreflight(snapshot, servers: move.servers, request: move.request, options: move.options)
            print("rehearsal on the replica of \(snapshotPath) (snapshot taken \(ISO8601DateFormatter().string(from: snapshot.takenAt)))\n")
            print("what preflight says of the real farm, as the snapshot recorded it:")
            print(recorded.text())
            let result: DatabaseMove.Result
            do {
                result = try await move.run(Terminal.interaction(stopping: "stopping the rehearsal after the steps in flight"))
            } catch let problem as UsageProblem {
                throw failUsage(problem)
            }
            print(result.text, terminator: "")
            guard let report = result.report else { throw OsfarmExit(status: result.status) }
            if let log = report.diagnosticLog { print("diagnostic log: \(log)") }
            let recordPath =
                self.report
                ?? URL(fileURLWithPath: move.inventory.path).deletingLastPathComponent().appendingPathComponent("rehearsal-\(report.record.runID).md").path
            do {
                try ChangeRecords.write(report, to: recordPath, runDirectory: result.runDirectory)
                // Never to be taken for the record of the real change.
                let written = try String(contentsOfFile: recordPath, encoding: .utf8)
                try ("> REHEARSAL on a replica built from \(snapshotPath), not a change of the real farm.\n\n" + written)
                    .write(toFile: recordPath, atomically: true, encoding: .utf8)
                print("change record: \(recordPath)")
            } catch {
                FileHandle.standardError.write(Data("osfarm: cannot write the change record \(recordPath): \(error.localizedDescription)\n".utf8))
            }
            print("")
            print(Rehearsal.estimate(report, snapshot: snapshot, servers: move.servers, options: move.options).text, terminator: "")
            let findings = recorded.findings.count
            print(
                findings == 0
                    ? "preflight findings the real farm would raise: none (as recorded; the probes and logins ran on the replica)"
                    : "preflight findings the real farm would raise: \(findings) (above); fix them before the window")
            throw OsfarmExit(status: result.status)
        }
    }
}

extension Osfarm {
    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Carry on a stopped or crashed run from its journal; steps already done are not run again.")
        @Argument(help: "The run id (see osfarm runs).", completion: Completions.runIDs) var runID: String
        @Option(help: "Where runs are journaled.") var stateDir: String?
        @Flag(help: "The database restore is done (when the run stopped at the gate).") var dbRestored = false
        @Option(
            help: "Carry on only these of the run's servers (the others must be stopped already; the after-steps wait for all).",
            completion: Completions.limit)
        var limit: String?
        @Option(help: "Environment variable with the admin password (farms on Windows authentication).") var adminPasswordEnv: String?
        @Option(help: "A new maintenance window START/END for the rest of the run (one the window ended needs it).") var window: String?
        @Option(help: "A new time after which nothing new starts (ISO 8601 or HH:MM), instead of the run's window.") var deadline: String?
        @Flag(help: "Carry the run on without a maintenance window.") var noWindow = false
        @Flag(help: "End a platform service's process when it is still stopping at its deadline (what a stuck service's failure asks for).")
        var killStuckServices = false
        @OptionGroup var reach: ReachOptions
        @Flag(help: "Print one JSON document instead of text.") var json = false
        @Option(help: "Write a Markdown change record here.") var report: String?

        func validate() throws {
            guard [window != nil, deadline != nil, noWindow].filter({ $0 }).count <= 1 else {
                throw ValidationError("use one of --window, --deadline and --no-window")
            }
        }

        /// The window the rest of the run keeps to.
        func resumeWindow() throws -> DatabaseMove.ResumeWindow {
            do {
                if let window { return .replace(try MaintenanceWindow.parse(window)) }
                if let deadline { return .replace(MaintenanceWindow(start: nil, end: try MaintenanceWindow.parseInstant(deadline, option: "--deadline"))) }
            } catch {
                throw failUsage(error)
            }
            return noWindow ? .none : .keep
        }

        func run() async throws {
            let result: DatabaseMove.Result
            let window = try resumeWindow()
            do {
                result = try await DatabaseMove.resume(
                    runID: runID, stateDirectory: stateDir ?? RunJournal.defaultStateDirectory(), settingsFor: { try reach.settings(for: $0) },
                    databaseRestored: dbRestored, adminPasswordVariable: adminPasswordEnv, window: window, killStuckServices: killStuckServices,
                    interaction: Terminal.interaction(stopping: "stopping after the steps in flight"), limit: limit)
            } catch let error as UsageProblem {
                throw failUsage(error)
            } catch let error as RunError {
                throw failUsage(error)
            }
            try finish(result, json: json, reportPath: report)
        }
    }

    struct Rollback: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put every server a run touched back on its backed-up server.hsconf and the old database; run again to finish a rollback that stopped.")
        @Argument(help: "The run id.", completion: Completions.runIDs) var runID: String
        @Option(help: "Which of the run's servers.") var limit: String?
        @Option(help: "Where runs are journaled.") var stateDir: String?
        @Option(help: "Environment variable with the admin password (farms on Windows authentication).") var adminPasswordEnv: String?
        @Flag(help: "End a platform service's process when it is still stopping at its deadline.") var killStuckServices = false
        @OptionGroup var reach: ReachOptions
        @Flag(help: "Print one JSON document instead of text.") var json = false
        @Option(help: "Write a Markdown change record here.") var report: String?
        @Flag(name: [.short, .long], help: "Do not ask before stopping the servers (unattended rollbacks; without a terminal it is required).")
        var yes = false

        func run() async throws {
            try Confirmation.required(yes: yes, "rollback stops every server the run touched")
            let result: DatabaseMove.Result
            do {
                var interaction = Terminal.interaction(stopping: "stopping the rollback after the steps in flight (run rollback again to finish it)")
                let variable = adminPasswordEnv
                let interrupt = interaction.interrupt
                if !yes {
                    interaction.confirmRollback = { summary in
                        interrupt.asking(.watched) { Confirmation.ask(summary.text, answer: summary.controller, interrupt: interrupt) }
                    }
                }
                interaction.adminPassword = { asked in try interrupt.asking(.blocking) { try Terminal.adminPassword(variable: variable ?? asked) } }
                result = try await DatabaseMove.rollback(
                    runID: runID, stateDirectory: stateDir ?? RunJournal.defaultStateDirectory(), limit: limit, settingsFor: { try reach.settings(for: $0) },
                    killStuckServices: killStuckServices, interaction: interaction)
            } catch let error as UsageProblem {
                throw failUsage(error)
            } catch let error as RunError {
                throw failUsage(error)
            }
            try finish(result, json: json, reportPath: report)
        }
    }
}

/// Prints a run's result, writes its change record, ends with its exit status.
func finish(_ result: DatabaseMove.Result, json: Bool, reportPath: String?) throws -> Never {
    if json, let report = result.report {
        print(try report.json(), terminator: "")
    } else {
        print(result.text, terminator: "")
    }
    if !json, let log = result.report?.diagnosticLog { print("diagnostic log: \(log)") }
    if let report = result.report, let runDirectory = result.runDirectory {
        let standardized = reportPath.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        for path in ChangeRecords.refresh(report, runDirectory: runDirectory) where path != standardized && !json {
            print("change record rewritten with the run's state now: \(path)")
        }
    }
    if let reportPath, let report = result.report {
        do {
            try ChangeRecords.write(report, to: reportPath, runDirectory: result.runDirectory)
            if !json { print("change record: \(reportPath)") }
        } catch {
            FileHandle.standardError.write(Data("osfarm: cannot write the change record \(reportPath): \(error.localizedDescription)\n".utf8))
        }
    }
    throw OsfarmExit(status: result.status)
}

/// The live view of the run, once there is one: where notes about signals go.
final class ShownView: @unchecked Sendable {
    private let lock = NSLock()
    private var current: LiveView?

    var view: LiveView? {
        get { lock.withLock { current } }
        set { lock.withLock { current = newValue } }
    }

    func note(_ message: String) {
        if let view { view.note(message) } else { FileHandle.standardError.write(Data("\n\(message)\n".utf8)) }
    }
}

/// Questions to the operator on the terminal; none when osfarm runs unattended.
enum Terminal {
    static var interactive: Bool { isatty(STDIN_FILENO) == 1 }

    /// The live view, Ctrl-C/SIGTERM handling, the restore question and the password source.
    static func interaction(stopping message: String) -> RunInteraction {
        let interrupt = OperatorInterrupt()
        let shown = ShownView()
        // Through the live view, which clears its block first: a block drawn twice otherwise.
        interrupt.install { signal in shown.note("osfarm: \(signal): \(message)") }
        let arguments = CommandLine.arguments
        let verbose = arguments.contains("--verbose") || arguments.contains("--debug")
        return RunInteraction(
            makeObserver: { servers in
                let view = LiveView(servers: servers, verbose: verbose)
                shown.view = view
                return view
            }, interrupt: interrupt, confirmRestore: restoreConfirmation(interrupt: interrupt),
            adminPassword: { variable in try interrupt.asking(.blocking) { try adminPassword(variable: variable) } })
    }

    /// One line typed on the terminal; nil at its end or once Ctrl-C asked to stop (checked ten
    /// times a second, so a Ctrl-C ends the question without waiting for Enter).
    /// `tick` runs between those checks (the restore question's downtime counter).
    static func answer(interrupt: OperatorInterrupt, tick: (() -> Void)? = nil) -> String? {
        var bytes: [UInt8] = []
        while !interrupt.isRequested {
            var descriptor = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, 100)
            if ready < 0 && errno != EINTR { return nil }
            guard ready > 0 else {
                tick?()
                continue
            }
            var byte: UInt8 = 0
            guard read(STDIN_FILENO, &byte, 1) == 1 else { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
            if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
        return nil
    }

    /// Shows what the run is about to do and asks for the deployment controller's name (the
    /// run says "not confirmed" when it is not).
    static func startConfirmation(_ summary: StartSummary, interrupt: OperatorInterrupt) -> Bool {
        Confirmation.ask(summary.text, answer: summary.controller, interrupt: interrupt)
    }

    /// The Windows-authentication admin password: from the named variable, else asked on the terminal.
    static func adminPassword(variable: String?) throws -> Secret? {
        if let variable {
            guard let value = ProcessInfo.processInfo.environment[variable], !value.isEmpty else {
                throw UsageProblem("--admin-password-env \(variable): the variable is not set")
            }
            return Secret(value)
        }
        guard interactive, let typed = getpass("Admin password for the Configuration Tool (Windows authentication): ") else {
            throw UsageProblem("the farm uses Windows authentication: the Configuration Tool needs the admin password; pass --admin-password-env VAR")
        }
        return Secret(String(cString: typed))
    }
}

extension Osfarm.MoveDB.Run: WritesRunDebugLog {}
extension Osfarm.MoveDB.Rehearse: WritesRunDebugLog {}
extension Osfarm.Resume: WritesRunDebugLog {}
extension Osfarm.Rollback: WritesRunDebugLog {}
