import FarmProtocol
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a run is: written once when it starts (`run.json`). Holds no secret.
public struct RunRecord: Codable, Sendable {
    public static let schemaName = "osfarm.run/v1"

    public var schema = schemaName
    public var runID: String
    public var createdAt: Date
    /// user@host that started it.
    public var startedBy: String
    public var inventoryPath: String
    public var limit: String?
    /// Server names in execution order: the deployment controller first.
    public var servers: [String]
    public var targets: MoveTargets
    /// The database server the farm pointed at before the run.
    public var from: String?
    public var options: MoveOptions
    /// True when --limit left part of the farm out (with --allow-partial).
    public var partial: Bool
    /// The farm uses Windows authentication (the Configuration Tool needs the admin password).
    public var windowsAuthentication: Bool

    public init(runID: String, createdAt: Date, startedBy: String, inventoryPath: String, limit: String?, servers: [String],
                targets: MoveTargets, from: String?, options: MoveOptions, partial: Bool, windowsAuthentication: Bool) {
        self.runID = runID
        self.createdAt = createdAt
        self.startedBy = startedBy
        self.inventoryPath = inventoryPath
        self.limit = limit
        self.servers = servers
        self.targets = targets
        self.from = from
        self.options = options
        self.partial = partial
        self.windowsAuthentication = windowsAuthentication
    }
}

/// One line of the journal: a step of a server (or of the run) starting, ending, or a note.
public struct JournalEntry: Codable, Sendable, Equatable {
    public enum Event: String, Codable, Sendable {
        case started, finished, failed, skipped, note
    }

    public var time: Date
    /// nil for run-level entries (preflight, gate, run).
    public var server: String?
    public var step: String
    public var event: Event
    public var message: String?
    public var durationMilliseconds: Double?

    public init(time: Date = Date(), server: String?, step: String, event: Event, message: String? = nil, durationMilliseconds: Double? = nil) {
        self.time = time
        self.server = server
        self.step = step
        self.event = event
        self.message = message
        self.durationMilliseconds = durationMilliseconds
    }
}

/// A run's folder under the state directory: `run.json` and an append-only `journal.jsonl`,
/// each line written and fsynced before the step it records goes on. Files 0600, folders 0700.
public final class RunJournal: @unchecked Sendable {
    public let directory: String
    private let lock = NSLock()
    private var descriptor: Int32 = -1

    public static func defaultStateDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let state = environment["XDG_STATE_HOME"], !state.isEmpty { return state + "/osfarm/runs" }
        return NSString(string: "~/.local/state/osfarm/runs").expandingTildeInPath
    }

    public static func newRunID(now: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: now) + "-" + String(format: "%04x", Int.random(in: 0..<0x10000))
    }

    /// Creates the folder for a new run and writes its record.
    public static func create(_ record: RunRecord, stateDirectory: String) throws -> RunJournal {
        let directory = stateDirectory + "/" + record.runID
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let journal = RunJournal(directory: directory)
        try journal.writePrivate(try recordEncoder().encode(record), to: directory + "/run.json")
        try journal.openJournal()
        return journal
    }

    /// Opens an existing run to read it and go on appending.
    public static func open(runID: String, stateDirectory: String) throws -> (RunJournal, RunRecord, [JournalEntry]) {
        guard runID.range(of: #"^[A-Za-z0-9_-]+$"#, options: .regularExpression) != nil else {
            throw RunError.unknownRun(runID, stateDirectory)
        }
        let directory = stateDirectory + "/" + runID
        guard let data = FileManager.default.contents(atPath: directory + "/run.json") else { throw RunError.unknownRun(runID, stateDirectory) }
        let record: RunRecord
        do {
            record = try recordDecoder().decode(RunRecord.self, from: data)
        } catch {
            throw RunError.damaged(directory + "/run.json", "\(error)")
        }
        let journal = RunJournal(directory: directory)
        let entries = try journal.entries()
        try journal.openJournal()
        return (journal, record, entries)
    }

    private init(directory: String) { self.directory = directory }

    deinit { if descriptor >= 0 { close(descriptor) } }

    private var journalPath: String { directory + "/journal.jsonl" }

    private func openJournal() throws {
        descriptor = Glibc.open(journalPath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw RunError.damaged(journalPath, String(cString: strerror(errno))) }
    }

    /// Appends one entry and waits until it is on disk.
    public func append(_ entry: JournalEntry) throws {
        let line = try Self.recordEncoder().encode(entry) + Data("\n".utf8)
        try lock.withLock {
            let written = line.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            guard written == line.count, fsync(descriptor) == 0 else {
                throw RunError.damaged(journalPath, "cannot write the journal: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Every entry so far. A torn last line (a crash mid-write) is ignored; any other bad line is an error.
    public func entries() throws -> [JournalEntry] {
        guard let data = FileManager.default.contents(atPath: journalPath) else { return [] }
        let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        var entries: [JournalEntry] = []
        for (index, line) in lines.enumerated() where !line.isEmpty {
            do {
                entries.append(try Self.recordDecoder().decode(JournalEntry.self, from: Data(line)))
            } catch {
                if index == lines.count - 1 { break }
                throw RunError.damaged(journalPath, "line \(index + 1) is not a journal entry")
            }
        }
        return entries
    }

    /// Writes a file readable by its owner only.
    public func writePrivate(_ data: Data, to path: String) throws {
        let fd = Glibc.open(path + ".tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw RunError.damaged(path, String(cString: strerror(errno))) }
        let written = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        fsync(fd)
        close(fd)
        guard written == data.count, rename(path + ".tmp", path) == 0 else { throw RunError.damaged(path, "cannot write") }
    }

    static func recordEncoder() -> JSONEncoder {
        let encoder = WireCodec.recordEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            var container = encoder.singleValueContainer()
            try container.encode(formatter.string(from: date))
        }
        return encoder
    }

    static func recordDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            if let date = formatter.date(from: text) ?? ISO8601DateFormatter().date(from: text) { return date }
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a date: \(text)"))
        }
        return decoder
    }
}

public enum RunError: Error, Sendable, CustomStringConvertible {
    case unknownRun(String, String)
    case damaged(String, String)

    public var description: String {
        switch self {
        case let .unknownRun(id, directory): return "no run \"\(id)\" in \(directory) (see osfarm runs)"
        case let .damaged(path, reason): return "\(path): \(reason)"
        }
    }
}

/// The state of a run, replayed from its journal.
public struct RunState: Sendable {
    public enum StepStatus: String, Codable, Sendable {
        case pending, running, done, failed, skipped
    }

    public var steps: [String: [MoveStep: StepStatus]] = [:]
    public var messages: [String: String] = [:]
    public var durations: [String: [MoveStep: Double]] = [:]
    public var gatePassed = false
    public var finished = false
    public var outcome: String?

    public init(entries: [JournalEntry]) {
        for entry in entries {
            guard let server = entry.server else {
                if entry.step == "gate" && entry.event == .finished { gatePassed = true }
                if entry.step == "run" && entry.event != .started && entry.event != .note {
                    finished = entry.event == .finished
                    outcome = entry.message
                }
                continue
            }
            guard let step = MoveStep(rawValue: entry.step) else { continue }
            let status: StepStatus
            switch entry.event {
            case .started: status = .running
            case .finished: status = .done
            case .failed: status = .failed
            case .skipped: status = .skipped
            case .note: continue
            }
            steps[server, default: [:]][step] = status
            if let duration = entry.durationMilliseconds { durations[server, default: [:]][step] = duration }
            if entry.event == .failed, let message = entry.message { messages[server] = message }
        }
    }

    public func status(_ server: String, _ step: MoveStep) -> StepStatus { steps[server]?[step] ?? .pending }

    public func isDone(_ server: String, _ step: MoveStep) -> Bool { status(server, step) == .done }

    /// A server whose files were changed by the run (backed up at least): rollback must restore it.
    public func touched(_ server: String) -> Bool {
        [MoveStep.backup, .repoint, .configurationTool].contains { status(server, $0) != .pending }
    }

    public func stopped(_ server: String) -> Bool { status(server, .stopIIS) != .pending || status(server, .stopServices) != .pending }

    /// "done", "failed at STEP", "stopped", "not started" and so on, for reports.
    public func summary(_ server: String, includesApplySettings: Bool = false) -> String {
        if let failed = MoveStep.allCases.first(where: { status(server, $0) == .failed }) { return "failed at \(failed.rawValue)" }
        if MoveStep.applyPhase.allSatisfy({ isDone(server, $0) }) { return "moved" }
        if let running = MoveStep.allCases.first(where: { status(server, $0) == .running }) { return "interrupted at \(running.rawValue)" }
        if let last = MoveStep.applyPhase.last(where: { isDone(server, $0) }) { return "stopped after \(last.rawValue)" }
        if MoveStep.stopPhase.allSatisfy({ isDone(server, $0) }) { return "services stopped, not moved" }
        if stopped(server) { return "partly stopped" }
        return "not started"
    }
}
