import FarmProtocol
import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// The outcome of a run for people (summary table, Markdown change record) and for automation
/// (one JSON document). Built from the run's record and journal only, so it never holds a secret.
public struct MoveReport: Sendable {
    public let record: RunRecord
    public let state: RunState
    public let entries: [JournalEntry]
    public let outcome: RunOutcome
    public let runbook: Runbook
    public let availability: Availability
    /// Set when any server is left not serving: how to end that state.
    public let wayOut: WayOut?
    /// The run's debug.log, to attach to a support case.
    public var diagnosticLog: String?

    public init(record: RunRecord, entries: [JournalEntry], outcome: RunOutcome, runbook: Runbook = .moveDatabase, now: Date = Date()) {
        self.record = record
        self.entries = entries
        self.state = RunState(entries: entries)
        self.outcome = outcome
        self.runbook = runbook
        availability = Availability(record: record, state: state, now: now)
        wayOut = WayOut(record: record, state: state, availability: availability, now: now)
    }

    private var headline: String {
        let word: String
        switch state.lifecycle {
        case .rolledBack:
            return "run \(record.runID): ROLLED BACK, back on \(record.from ?? "the old database") (the move to \(record.targets) undone)"
        case .rollingBack: word = "ROLLBACK NOT FINISHED"
        default: word = outcome == .completed ? "completed" : outcome.word.uppercased()
        }
        return "run \(record.runID): \(word), \(record.from ?? "?") → \(record.targets)"
    }

    /// What went wrong earlier in this run and no longer stands (a resume carried it on): each
    /// earlier ending and each server failure whose step later ran again. Oldest first.
    public var history: [String] {
        let formatter = ISO8601DateFormatter()
        let lastEnding = entries.lastIndex { $0.server == nil && ($0.subject == .run || $0.subject == .rollback) && $0.event != .started }
        var lines: [String] = []
        for (index, entry) in entries.enumerated() {
            let time = formatter.string(from: entry.time)
            if entry.server == nil, entry.subject == .run, entry.event == .failed || entry.event == .skipped, index != lastEnding {
                lines.append("\(time)  run \(entry.event == .failed ? "failed" : "stopped"): \(entry.message ?? "")")
            } else if let server = entry.server, entry.event == .failed,
                entries[(index + 1)...].contains(where: { $0.server == server && $0.step == entry.step && $0.event != .failed })
            {
                lines.append("\(time)  \(server) \(entry.step) failed: \(entry.message ?? "")")
            }
        }
        return lines
    }

    /// A past run as its journal has it (`osfarm runs show`).
    public static func review(runID: String, stateDirectory: String) throws -> MoveReport {
        let opened = try RunJournal.open(runID: runID, stateDirectory: stateDirectory, forWriting: false, strictRecord: false)
        let state = RunState(entries: opened.entries)
        let message = state.outcome ?? "no end recorded: the run is going on, or its controller stopped without writing one"
        let outcome: RunOutcome
        switch state.lifecycle {
        case .completed, .rolledBack: outcome = .completed
        case .failed: outcome = .failed(message)
        case .stopped, .planned, .stopping, .atGate, .applying, .rollingBack: outcome = .stopped(message)
        }
        return MoveReport(record: opened.record, entries: opened.entries, outcome: outcome)
    }

    /// The summary, then each server's steps with their outcome and duration.
    public func details() -> String {
        var text =
            "run \(record.runID), started by \(record.startedBy) at \(ISO8601DateFormatter().string(from: record.createdAt)); state \(state.lifecycle.rawValue)\n\n"
        text += summary() + "\n"
        for server in record.servers {
            let availability = availability.servers.first { $0.name == server }
            text += "\(server) (\(record.role(of: server).rawValue)): \(summary(of: server))"
            if let availability, availability.downSince != nil { text += ", down \(Availability.format(availability.downSeconds))" }
            text += "\n"
            var table = TextTable(headers: ["  STEP", "OUTCOME", "TIME"])
            for step in reportedSteps(server) {
                let status = state.status(server, step.name)
                guard status != .pending || JournalSubject(journalText: step.name, server: server).rollbackStep == nil else { continue }
                table.add(["  " + step.name, status.rawValue, state.durations[server]?[step.name].map { String(format: "%.1f s", $0 / 1000) } ?? "-"])
            }
            text += table.render()
            for action in forcedActions(server) { text += "  \(action)\n" }
            if let message = state.messages[server] { text += "  error: \(message)\n" }
        }
        return text
    }

    /// Said first when the run did not apply settings to the factory, which the article requires.
    private var applySettingsLine: String? {
        record.options.applySettings
            ? nil
            : "APPLY SETTINGS DID NOT RUN (--no-apply-settings): in Service Center, apply settings to all modules before the farm is in use."
    }

    private var partialLine: String? {
        record.partial
            ? "PARTIAL RUN: only \(record.servers.joined(separator: ", ")) were selected (--limit \(record.limit ?? "")); the rest of the farm stays on \(record.from ?? "the old database")."
            : nil
    }

    /// What a step did beyond its plan, from the journal: a stuck service's process it ended
    /// (--kill-stuck-services).
    func forcedActions(_ server: String) -> [String] {
        let marker = "ended the stuck process"
        return entries.filter { $0.server == server && $0.event == .finished }.compactMap(\.message).flatMap { message in
            // "…; ended the stuck process of X (PID n); X stopped", one such part per process.
            message.components(separatedBy: marker).dropFirst().map { marker + $0.replacingOccurrences(of: #";\s*$"#, with: "", options: .regularExpression) }
        }
    }

    func summary(of server: String) -> String {
        state.summary(record.server(server), runbook: runbook, options: record.options)
    }

    /// The server's steps as the report lists them: its forward steps, then any rollback steps run.
    func reportedSteps(_ server: String) -> [(name: String, summary: String)] {
        let forward = runbook.forwardSteps(on: record.server(server), options: record.options).map { ($0.id.rawValue, $0.summary) }
        let rollback = runbook.steps.values.filter { state.status(server, $0.id.journalNameInRollback) != .pending }
            .sorted {
                (state.startedAt[server]?[$0.id.journalNameInRollback] ?? .distantPast)
                    < (state.startedAt[server]?[$1.id.journalNameInRollback] ?? .distantPast)
            }
            .map { ($0.id.journalNameInRollback, "rollback: " + $0.summary) }
        return forward + rollback
    }

    private func phaseCount(_ server: String, _ kinds: [PhaseKind]) -> (done: Int, total: Int) {
        let steps = runbook.phases.filter { kinds.contains($0.kind) }.flatMap { runbook.steps(of: $0, on: record.server(server), options: record.options) }
        return (steps.filter { state.isDone(server, $0.id) }.count, steps.count)
    }

    private func duration(_ server: String) -> Double {
        (state.durations[server] ?? [:]).values.reduce(0, +) / 1000
    }

    public func summary() -> String {
        var text = ""
        if let partialLine { text += partialLine + "\n" }
        if let applySettingsLine { text += applySettingsLine + "\n" }
        var table = TextTable(headers: ["SERVER", "STOPPED", "APPLIED", "STATE", "TIME", "DOWN"])
        for (server, availability) in zip(record.servers, availability.servers) {
            let stopped = phaseCount(server, [.stop]), applied = phaseCount(server, [.apply])
            table.add([
                server, "\(stopped.done)/\(stopped.total)", "\(applied.done)/\(applied.total)", summary(of: server),
                String(format: "%.1f s", duration(server)),
                availability.downSince == nil ? "-" : Availability.format(availability.downSeconds) + (availability.condition == .serving ? "" : " (still)"),
            ])
        }
        text += table.render()
        for server in record.servers { if let message = state.messages[server] { text += "\(server): \(message)\n" } }
        text += "farm downtime (no front-end served): \(Availability.format(availability.farmDownSeconds))\(farmStill)\n"
        if !history.isEmpty {
            text += "\nHistory (earlier in this run, since carried on; not the run's state):\n" + history.map { "  " + $0 + "\n" }.joined()
        }
        text += "\n" + headline + "\n"
        if outcome != .completed { text += outcome.message + "\n" }
        if let wayOut { text += "\n" + wayOut.lines(record: record).joined(separator: "\n") + "\n" }
        return text
    }

    private var farmStill: String { availability.farmStillDown && availability.farmDownSeconds > 0 ? " (still)" : "" }

    public struct Document: Codable {
        public struct Step: Codable {
            var step: String
            var status: RunState.StepStatus
            var durationMilliseconds: Double?
        }

        public struct Server: Codable {
            var name: String
            var role: ServerRole
            var state: String
            var steps: [Step]
            var error: String?
        }

        var schema = "osfarm.move-db/v1"
        var runID: String
        var osfarmVersion = OsfarmVersion.current
        var startedBy: String
        var startedAt: Date
        var from: String?
        var to: DatabaseTargets
        var origin: DatabaseTargets
        var partial: Bool
        var lifecycle: RunLifecycle
        var outcome: String
        var message: String
        var exitCode: Int32
        var servers: [Server]
        var manualSteps: [String]
        var rollbackCommand: String
        var downtime: Downtime
        /// Present when a server is left not serving.
        var wayOut: WayOut?
        /// Earlier failures and stops of this run that a resume carried on (not its state).
        var history: [String]
    }

    public struct Downtime: Codable {
        var farmSeconds: Double
        var servers: [Availability.Server]
    }

    public func document() -> Document {
        Document(
            runID: record.runID, startedBy: record.startedBy, startedAt: record.createdAt, from: record.from, to: record.targets,
            origin: record.origin, partial: record.partial, lifecycle: state.lifecycle, outcome: outcome.word,
            message: outcome.message, exitCode: outcome.exitStatus.rawValue,
            servers: record.servers.map { server in
                Document.Server(
                    name: server, role: record.role(of: server), state: summary(of: server),
                    steps: reportedSteps(server).map { step in
                        Document.Step(step: step.name, status: state.status(server, step.name), durationMilliseconds: state.durations[server]?[step.name])
                    }, error: state.messages[server])
            },
            manualSteps: MovePlan.manualSteps(
                from: record.from, targets: record.targets, applied: record.options.applySettings,
                controller: record.servers.first, runID: record.runID),
            rollbackCommand: "osfarm rollback \(record.runID)",
            downtime: Downtime(farmSeconds: availability.farmDownSeconds, servers: availability.servers), wayOut: wayOut,
            history: history)
    }

    public func json() throws -> String {
        String(decoding: try RunJournal.recordEncoder().encodePretty(document()), as: UTF8.self) + "\n"
    }

    /// The change record for the change board.
    public func markdown() -> String {
        let formatter = ISO8601DateFormatter()
        var text = "# Change record: OutSystems database move \(record.runID)\n\n"
        if let partialLine { text += "**\(partialLine)**\n\n" }
        if let applySettingsLine { text += "**\(applySettingsLine)**\n\n" }
        text += "| | |\n|---|---|\n"
        text += "| Run | `\(record.runID)` |\n"
        text += "| Started by | \(record.startedBy) |\n"
        text += "| Started at | \(formatter.string(from: record.createdAt)) |\n"
        if let finished = entries.last?.time { text += "| Last step at | \(formatter.string(from: finished)) |\n" }
        text += "| From | \(record.from ?? "unknown") |\n"
        text += "| To | \(record.targets) |\n"
        text += "| Servers | \(record.servers.joined(separator: ", ")) |\n"
        text += "| Outcome | \(outcome == .completed ? "completed" : outcome.message) |\n"
        text += "| Exit code | \(outcome.exitStatus.rawValue) (\(outcome.exitStatus.meaning)) |\n"
        text += "| Farm downtime (no front-end served) | \(Availability.format(availability.farmDownSeconds))\(farmStill) |\n"
        if let diagnosticLog { text += "| Diagnostic log | `\(diagnosticLog)` |\n" }
        text += "\n"
        if let wayOut {
            text += "## Not serving when this record was written\n\n" + wayOut.lines(record: record).map { "    " + $0 }.joined(separator: "\n") + "\n\n"
        }
        text += "## Servers\n\n"
        for server in record.servers {
            let down = availability.servers.first { $0.name == server }
            text += "### \(server): \(summary(of: server))\n\n"
            if let down, down.downSince != nil {
                text += "Down \(Availability.format(down.downSeconds))\(down.condition == .serving ? "" : " and still not serving").\n\n"
            }
            text += "| step | outcome | duration |\n|---|---|---|\n"
            for step in reportedSteps(server) {
                let duration = state.durations[server]?[step.name].map { String(format: "%.1f s", $0 / 1000) } ?? "-"
                text += "| \(step.summary) | \(state.status(server, step.name).rawValue) | \(duration) |\n"
            }
            for action in forcedActions(server) { text += "\nForced: \(action)\n" }
            if let message = state.messages[server] { text += "\nError: \(message)\n" }
            text += "\n"
        }
        if !history.isEmpty {
            text += "## History (earlier in this run, since carried on; not the run's state)\n\n" + history.map { "- " + $0 + "\n" }.joined() + "\n"
        }
        text += "## Left to do by hand\n\n"
        for (index, step) in MovePlan.manualSteps(
            from: record.from, targets: record.targets, applied: record.options.applySettings,
            controller: record.servers.first, runID: record.runID
        ).enumerated() {
            text += "\(index + 1). \(step)\n"
        }
        text +=
            "\n## If it must be undone\n\n`osfarm rollback \(record.runID)` restores every touched server's server.hsconf and private.key from this run's backups (SHA-256 checked), reruns the Configuration Tool and restarts the services against \(record.from ?? "the old database").\n"
        return text
    }
}

/// The runs under a state directory, newest first: every run folder, a damaged one too, with its
/// damage said (a run whose files cannot be read may still be down, or still hold backups).
public enum RunCatalog {
    public struct Entry: Codable, Sendable {
        public var runID: String
        public var startedAt: Date?
        public var startedBy: String?
        public var to: String?
        public var from: String?
        /// The run's lifecycle, or "damaged" when its journal cannot be read.
        public var state: String
        public var moved: Int?
        public var servers: Int?
        /// What is wrong with the run's folder; nil when nothing is.
        public var damage: String?
        /// The process driving the run now (it holds the farm's lock); nil when none does.
        public var controllerProcess: Int32?
    }

    /// A run's state with whether a controller drives it: an open state without one was left by
    /// a controller that stopped or died, and is resumable.
    static func stateText(_ lifecycle: RunLifecycle, controller: Int32?) -> String {
        guard lifecycle.isOpen else { return lifecycle.rawValue }
        if let controller { return "\(lifecycle.rawValue) (controller running, process \(controller))" }
        return lifecycle == .rollingBack
            ? "rolling-back, no controller: run rollback again"
            : "\(lifecycle.rawValue), no controller: stopped, resumable"
    }

    public static func list(stateDirectory: String) -> [Entry] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: stateDirectory)) ?? []
        let held = FarmLock.heldRuns(stateDirectory: stateDirectory)
        return names.filter { !$0.hasPrefix(".") }.compactMap { entry(name: $0, stateDirectory: stateDirectory, held: held) }
            .sorted { ($0.startedAt ?? .distantPast, $0.runID) > ($1.startedAt ?? .distantPast, $1.runID) }
    }

    private static func entry(name: String, stateDirectory: String, held: [String: Int32]) -> Entry? {
        let directory = stateDirectory + "/" + name
        var status = stat()
        guard lstat(directory, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else { return nil }
        let modified = Date(timeIntervalSince1970: Double(status.st_mtim.tv_sec))
        func damaged(_ damage: String) -> Entry {
            Entry(runID: name, startedAt: modified, state: "damaged", damage: damage)
        }
        guard access(directory, R_OK | X_OK) == 0 else { return damaged("its folder cannot be read: \(String(cString: strerror(errno)))") }
        if let damage = journalDamage(directory) { return damaged(damage) }
        do {
            let opened = try RunJournal.open(runID: name, stateDirectory: stateDirectory, forWriting: false, strictRecord: false)
            let record = opened.record
            let report = MoveReport(record: record, entries: opened.entries, outcome: .completed)
            return Entry(
                runID: record.runID, startedAt: record.createdAt, startedBy: record.startedBy, to: record.targets.description,
                from: record.from, state: report.state.lifecycle.rawValue,
                moved: record.servers.filter { report.summary(of: $0) == "moved" }.count, servers: record.servers.count,
                damage: opened.warning, controllerProcess: held[record.runID])
        } catch RunError.unknownRun {
            return damaged("holds neither run.json nor journal.jsonl")
        } catch {
            return damaged("\(error)")
        }
    }

    /// What is wrong with the journal file itself, before it is read: not a file, or a link to nothing.
    private static func journalDamage(_ directory: String) -> String? {
        let path = directory + "/journal.jsonl"
        var status = stat()
        guard lstat(path, &status) == 0 else {
            return FileManager.default.fileExists(atPath: directory + "/run.json") ? "journal.jsonl is missing; run.json is there" : nil
        }
        switch status.st_mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: return "journal.jsonl is a folder, not a journal"
        case S_IFLNK:
            var target = stat()
            guard stat(path, &target) == 0 else {
                let destination = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?"
                return "journal.jsonl is a link to \(destination), which does not exist"
            }
            return target.st_mode & S_IFMT == S_IFREG ? nil : "journal.jsonl is a link to something that is not a file"
        default: return "journal.jsonl is not a regular file"
        }
    }

    public static func text(_ runs: [Entry]) -> String {
        guard !runs.isEmpty else { return "no runs\n" }
        var table = TextTable(headers: ["RUN", "STARTED", "FROM", "TO", "MOVED", "STATE"])
        let formatter = ISO8601DateFormatter()
        for run in runs {
            table.add([
                run.runID, run.startedBy == nil ? "?" : run.startedAt.map(formatter.string) ?? "?", run.from ?? "?", run.to ?? "?",
                run.servers.map { "\(run.moved ?? 0)/\($0)" } ?? "?",
                RunLifecycle(rawValue: run.state).map { stateText($0, controller: run.controllerProcess) } ?? run.state,
            ])
        }
        var text = table.render()
        for run in runs { if let damage = run.damage { text += "\(run.runID): \(damage)\n" } }
        return text
    }

    public static func json(_ runs: [Entry]) throws -> String {
        struct Document: Codable {
            var schema = "osfarm.runs/v1"
            var runs: [Entry]
        }
        return String(decoding: try RunJournal.recordEncoder().encodePretty(Document(runs: runs)), as: UTF8.self) + "\n"
    }
}
