import FarmProtocol
import Foundation

/// Whether each server serves, and for how long it did not, read from the journal alone: the
/// figure operators are asked for after a window, and what the last lines of every stop say.
public struct Availability: Sendable {
    public enum Condition: String, Codable, Sendable {
        /// Never stopped by the run, or back (moved and verified, or rolled back).
        case serving
        /// IIS and the services stopped; server.hsconf as before the run.
        case stopped
        /// server.hsconf changed (or being changed) but the server not yet verified.
        case repointed
    }

    public struct Server: Codable, Sendable {
        public var name: String
        public var condition: Condition
        /// When its IIS was stopped, if it was.
        public var downSince: Date?
        /// When it served again (verified, or started again by a rollback), if it did.
        public var servingSince: Date?
        /// Seconds it could not serve: from its IIS stop to its verify, or to `now`.
        public var downSeconds: Double
    }

    public var servers: [Server]
    /// Seconds during which no front-end served (no server at all on a farm without front-ends).
    public var farmDownSeconds: Double
    /// No counted server (front-end, or any server on a farm without front-ends) serves now.
    public var farmStillDown: Bool
    /// Since when, while the farm is still down.
    public var farmDownSince: Date?

    public var notServing: [Server] { servers.filter { $0.condition != .serving } }

    public init(record: RunRecord, state: RunState, now: Date) {
        let measured = record.servers.map { name in Self.server(name, state: state, now: now) }
        servers = measured.map(\.server)
        let frontEnds = measured.filter { record.role(of: $0.server.name) == .frontEnd }
        let counted = frontEnds.isEmpty ? measured : frontEnds
        // The farm served no one while every counted server was down: the intersection of their
        // down intervals (a server has two when a rollback stopped it after the move had served).
        var common = counted.first?.intervals ?? []
        for server in counted.dropFirst() { common = Self.intersection(common, server.intervals) }
        farmDownSeconds = common.reduce(0) { $0 + max(0, $1.end.timeIntervalSince($1.start)) }
        farmStillDown = !counted.isEmpty && counted.allSatisfy { $0.server.condition != .serving }
        farmDownSince = farmStillDown ? common.map(\.start).max() : nil
    }

    private typealias Interval = (start: Date, end: Date)

    private static func intersection(_ a: [Interval], _ b: [Interval]) -> [Interval] {
        var result: [Interval] = []
        for x in a {
            for y in b {
                let start = max(x.start, y.start), end = min(x.end, y.end)
                if start < end { result.append((start, end)) }
            }
        }
        return result
    }

    private static func server(_ name: String, state: RunState, now: Date) -> (server: Server, intervals: [Interval]) {
        let started = state.startedAt[name] ?? [:], ended = state.endedAt[name] ?? [:]
        // A stop the agent refused (another run's claim) did not stop anything.
        func stopped(_ step: StepID) -> Date? { state.started(name, step) ? started[step.rawValue] : nil }
        guard let down = stopped(.stopIIS) ?? stopped(.stopServices) else {
            return (Server(name: name, condition: .serving, downSince: nil, servingSince: nil, downSeconds: 0), [])
        }
        let verified = state.isDone(name, .verify) ? ended[StepID.verify.rawValue] : nil
        let rolledBack = [StepID.startIIS, .waitReady, .verify].compactMap { step -> Date? in
            state.isDoneInRollback(name, step) ? ended[step.journalNameInRollback] : nil
        }.max()
        let rollbackPending = (state.steps[name] ?? [:]).contains {
            JournalSubject(journalText: $0.key, server: name).rollbackStep != nil && $0.value != .done
        }
        let back = rollbackPending ? nil : (rolledBack ?? verified)
        let condition: Condition
        if back != nil {
            condition = .serving
        } else if state.started(name, .repoint) && state.status(name, StepID.restore.journalNameInRollback) != .done {
            condition = .repointed
        } else {
            condition = .stopped
        }
        // A rollback after the move had served stops the server a second time; in between it served.
        var intervals: [Interval]
        let rollbackDown = [StepID.stopIIS, .stopServices].compactMap { started[$0.journalNameInRollback] }.min()
        if let verified, let rollbackDown, rollbackDown >= verified {
            intervals = [(down, verified), (rollbackDown, back ?? now)]
        } else {
            intervals = [(down, back ?? now)]
        }
        intervals = intervals.filter { $0.end > $0.start }
        let seconds = intervals.reduce(0) { $0 + $1.end.timeIntervalSince($1.start) }
        return (Server(name: name, condition: condition, downSince: down, servingSince: back, downSeconds: seconds), intervals)
    }

    /// "4 min 12 s", "38 s".
    public static func format(_ seconds: Double) -> String {
        let whole = Int(max(0, seconds.rounded()))
        if whole >= 3600 { return "\(whole / 3600) h \(whole / 60 % 60) min" }
        if whole >= 60 { return "\(whole / 60) min \(whole % 60) s" }
        return "\(whole) s"
    }
}

/// The way out of a run that left servers not serving: what each is, how long it has been down,
/// and the two commands that end that state.
public struct WayOut: Codable, Sendable {
    public struct Server: Codable, Sendable {
        public var name: String
        public var state: String
        public var downSeconds: Double
    }

    public var servers: [Server]
    public var resume: String?
    public var rollback: String

    /// Nil when every server serves.
    public init?(record: RunRecord, state: RunState, availability: Availability, now: Date = Date()) {
        let down = availability.notServing
        guard !down.isEmpty else { return nil }
        servers = down.map { Server(name: $0.name, state: $0.condition.rawValue, downSeconds: $0.downSeconds) }
        // The restore still to confirm: the gate not passed, and either never confirmed or its probe
        // of the new database failed (which asks for --db-restored once the restore is checked).
        let restoreToConfirm =
            !state.gatePassed && (!record.options.databaseRestored || record.servers.contains { state.started($0, .probeDatabase) })
        // A run the window ended keeps its window: resuming it needs a new one, or none.
        let windowOver =
            record.options.window?.hasEnded(at: now) == true || state.outcome.map(MaintenanceWindow.isWindowReason) == true
        resume =
            state.lifecycle.admits(.resume, runID: record.runID) == .allowed
            ? "osfarm resume \(record.runID)" + (restoreToConfirm ? " --db-restored" : "")
                + (state.messages.values.contains { $0.contains(MoveOptions.killStuckServicesOption) }
                    ? " " + MoveOptions.killStuckServicesOption : "")
                + (windowOver ? " " + MaintenanceWindow.resumeOptions : "")
            : nil
        rollback = "osfarm rollback \(record.runID)"
    }

    public func lines(record: RunRecord) -> [String] {
        var lines = ["Not serving now:"]
        let width = servers.map(\.name.count).max() ?? 0
        for server in servers {
            lines.append(
                "  \(server.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(server.state.padding(toLength: 9, withPad: " ", startingAt: 0))  down \(Availability.format(server.downSeconds))"
            )
        }
        lines.append("To end this state, either:")
        let commandWidth = max(resume?.count ?? 0, rollback.count)
        func command(_ text: String) -> String { "  " + text.padding(toLength: commandWidth, withPad: " ", startingAt: 0) + "  " }
        if let resume {
            let restored =
                resume.contains("--db-restored") ? " once the database is restored on \(record.targets.platform?.server.description ?? "the new server")" : ""
            lines.append(command(resume) + "carry the move on\(restored) (every server onto \(record.targets))")
        }
        lines.append(command(rollback) + "put every touched server back on \(record.from ?? "the old database") and start it")
        return lines
    }
}
