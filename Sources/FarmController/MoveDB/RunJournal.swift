import FarmProtocol
import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// What a run is: written once when it starts (`run.json`, and the journal's first entry, which is
/// what counts). Holds no secret.
public struct RunRecord: Codable, Sendable, Equatable {
    public static let schemaName = "osfarm.run/v2"

    public var schema = schemaName
    public var runID: String
    public var createdAt: Date
    /// user@host that started it.
    public var startedBy: String
    public var inventoryPath: String
    public var limit: String?
    /// Server names in execution order: the deployment controller first.
    public var servers: [String]
    /// Each server's role as the run saw it (a later inventory edit does not change what the run does).
    public var roles: [String: ServerRole]
    /// Each server's hooks as the run saw them (empty ones left out).
    public var hooks: [String: ServerHooks] = [:]
    /// The platform version every server reported at preflight: what the platform proof expects.
    public var platformVersion: String?
    /// Which farm this is (`FarmIdentity`): what `plan` matches earlier runs by.
    public var farmIdentity: String?
    /// Where the move takes the database sections.
    public var targets: DatabaseTargets
    /// Where the sections were before the run (what a rollback puts back and checks).
    public var origin: DatabaseTargets
    /// The platform database server before the run, for people.
    public var from: String?
    public var options: MoveOptions
    /// True when --limit left part of the farm out (with --allow-partial).
    public var partial: Bool
    /// The farm uses Windows authentication (the Configuration Tool needs the admin password).
    public var windowsAuthentication: Bool

    public init(
        runID: String, createdAt: Date, startedBy: String, inventoryPath: String, limit: String?, servers: [String],
        roles: [String: ServerRole], targets: DatabaseTargets, origin: DatabaseTargets, from: String?, options: MoveOptions, partial: Bool,
        windowsAuthentication: Bool
    ) {
        self.runID = runID
        self.createdAt = createdAt
        self.startedBy = startedBy
        self.inventoryPath = inventoryPath
        self.limit = limit
        self.servers = servers
        self.roles = roles
        self.targets = targets
        self.origin = origin
        self.from = from
        self.options = options
        self.partial = partial
        self.windowsAuthentication = windowsAuthentication
    }

    /// A server's role in the run (front-end when the record does not say).
    public func role(of server: String) -> ServerRole { roles[server] ?? .frontEnd }

    /// A server as the run's runbook sees it.
    public func server(_ name: String) -> RunServer { RunServer(name: name, role: role(of: name), hooks: hooks[name] ?? ServerHooks()) }
}

/// One line of the journal: a step of a server (or of the run) starting, ending, or a note.
public struct JournalEntry: Codable, Sendable, Equatable {
    public enum Event: String, Codable, Sendable {
        /// The first entry: the run's record, fixed for the run's life.
        case created
        case started, finished, failed, skipped, note
    }

    public var time: Date
    /// nil for run-level entries (preflight, gate, run, rollback).
    public var server: String?
    public var step: String
    public var event: Event
    public var message: String?
    public var durationMilliseconds: Double?
    /// Only in the `created` entry: the run's parameters and the SHA-256 of run.json as written.
    public var record: RunRecord?
    public var recordSHA256: String?

    public init(
        time: Date = Date(), server: String?, step: String, event: Event, message: String? = nil,
        durationMilliseconds: Double? = nil, record: RunRecord? = nil, recordSHA256: String? = nil
    ) {
        self.time = time
        self.server = server
        self.step = step
        self.event = event
        self.message = message
        self.durationMilliseconds = durationMilliseconds
        self.record = record
        self.recordSHA256 = recordSHA256
    }
}

/// Where the engine records a run: appended entry by entry, each safely stored before the step it
/// records goes on. The file journal is the real one; tests use one in memory.
public protocol JournalStore: AnyObject, Sendable {
    func append(_ entry: JournalEntry) throws
    func entries() throws -> [JournalEntry]
}

/// A run's folder under the state directory: `run.json` and an append-only `journal.jsonl`, each
/// line written and fsynced before the step it records goes on. Files 0600, folders 0700.
public final class RunJournal: JournalStore, @unchecked Sendable {
    public let directory: String
    private let lock = NSLock()
    private var descriptor: Int32 = -1
    /// Entries this process appended (for the crash-point test hook).
    private var appended = 0

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

    /// Creates the folder for a new run, writes its record and the journal's first entry.
    public static func create(_ record: RunRecord, stateDirectory: String) throws -> RunJournal {
        guard isRunID(record.runID) else { throw RunError.unknownRun(record.runID, stateDirectory) }
        let directory = stateDirectory + "/" + record.runID
        do {
            try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw RunError.damaged(stateDirectory, "cannot create the state folder: \(error.localizedDescription)")
        }
        guard mkdir(directory, 0o700) == 0 else { throw RunError.damaged(directory, "cannot create the run's folder: \(String(cString: strerror(errno)))") }
        // A run that could not be journaled never started: it leaves no folder behind (a full disk
        // refused it; `runs list` must not show it, and the next run has nothing to clean up).
        do {
            let journal = RunJournal(directory: directory)
            let data = try recordEncoder().encode(record)
            try journal.writePrivate(data, to: directory + "/run.json")
            try journal.openJournal()
            try journal.append(JournalEntry(server: nil, subject: .run, event: .created, record: record, recordSHA256: SHA256.hex(data)))
            return journal
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }

    /// Opens an existing run to read it and (`forWriting`) go on appending. The record is the
    /// journal's first entry; a run.json that disagrees with it is refused, naming the field. For
    /// writing, a torn last line (a crash in the middle of a write) is cut back to the last newline
    /// first; a reader leaves the files alone.
    public static func open(runID: String, stateDirectory: String, forWriting: Bool = true) throws -> (RunJournal, RunRecord, [JournalEntry]) {
        let opened = try open(runID: runID, stateDirectory: stateDirectory, forWriting: forWriting, strictRecord: true)
        return (opened.journal, opened.record, opened.entries)
    }

    /// As `open`; with `strictRecord` false, a run.json that disagrees with the journal is not an
    /// error but a warning (what a rollback wants: its way back must not depend on that file).
    public static func open(runID: String, stateDirectory: String, forWriting: Bool, strictRecord: Bool)
        throws -> (journal: RunJournal, record: RunRecord, entries: [JournalEntry], warning: String?)
    {
        guard isRunID(runID) else { throw RunError.unknownRun(runID, stateDirectory) }
        let directory = stateDirectory + "/" + runID
        let data = FileManager.default.contents(atPath: directory + "/run.json")
        guard data != nil || FileManager.default.fileExists(atPath: directory + "/journal.jsonl") else {
            throw RunError.unknownRun(runID, stateDirectory)
        }
        let journal = RunJournal(directory: directory)
        if forWriting { try journal.truncateTornLine() }
        let entries = try journal.entries()
        guard let first = entries.first, first.event == .created, let record = first.record else {
            throw RunError.emptyJournal(journal.journalPath)
        }
        var warning: String?
        do {
            guard let data else { throw RunError.damaged(directory + "/run.json", "missing, though the run has a journal") }
            try RecordComparison.check(runJSON: data, against: record, digest: first.recordSHA256, path: directory + "/run.json")
        } catch {
            if strictRecord { throw error }
            warning = "\(error)"
        }
        if forWriting { try journal.openJournal() }
        return (journal, record, entries, warning)
    }

    static func isRunID(_ text: String) -> Bool {
        text.count <= 64 && text.range(of: #"^[A-Za-z0-9_-]+$"#, options: .regularExpression) != nil
    }

    private init(directory: String) { self.directory = directory }

    deinit { if descriptor >= 0 { close(descriptor) } }

    public var journalPath: String { directory + "/journal.jsonl" }

    private func openJournal() throws {
        descriptor = Glibc.open(journalPath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw RunError.damaged(journalPath, String(cString: strerror(errno))) }
    }

    /// Appends one entry and waits until it is on disk. A write that fails part-way is cut back,
    /// so the journal never keeps half a line.
    public func append(_ entry: JournalEntry) throws {
        let line = try Self.recordEncoder().encode(entry) + Data("\n".utf8)
        try lock.withLock {
            appended += 1
            if CrashPoint.current?.isFull(at: appended) == true { throw RunError.journalWrite(journalPath, String(cString: strerror(ENOSPC))) }
            CrashPoint.current?.before(entry: appended, line: line, descriptor: descriptor)
            let before = lseek(descriptor, 0, SEEK_END)
            let written = line.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            guard written == line.count, fsync(descriptor) == 0 else {
                let reason = String(cString: strerror(errno))
                if before >= 0 { _ = ftruncate(descriptor, before) }
                throw RunError.journalWrite(journalPath, reason)
            }
            CrashPoint.current?.after(entry: appended)
        }
    }

    /// Every entry. A torn last line (a crash mid-write) is left out; any other bad line is an error.
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

    /// Cuts a last line without its newline (the crash of a write) back to the previous newline.
    private func truncateTornLine() throws {
        guard let data = FileManager.default.contents(atPath: journalPath), let last = data.last, last != UInt8(ascii: "\n") else { return }
        let keep = data.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
        guard truncate(journalPath, off_t(keep)) == 0 else {
            throw RunError.damaged(journalPath, "cannot cut its torn last line: \(String(cString: strerror(errno)))")
        }
    }

    /// Writes a file readable by its owner only; a failed write leaves no temporary file behind.
    public func writePrivate(_ data: Data, to path: String) throws {
        let temporary = path + ".tmp"
        let fd = Glibc.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw RunError.damaged(path, String(cString: strerror(errno))) }
        let written = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        let reason = String(cString: strerror(errno))
        close(fd)
        guard written == data.count, synced, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw RunError.damaged(path, "cannot write: \(reason)")
        }
    }

    static func recordEncoder() -> JSONEncoder {
        let encoder = WireCodec.recordEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(JournalDates.string(date))
        }
        return encoder
    }

    static func recordDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            if let date = JournalDates.date(text) { return date }
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a date: \(text)"))
        }
        return decoder
    }
}

/// The journal's times, ISO 8601 with milliseconds (times without them are read too), written by
/// `UTCTimestamp`. Reading goes through Foundation's own ISO 8601 parser first, twenty times
/// quicker than ICU's; the ICU formatters, for what it cannot read, are made once (making one costs
/// more than coding the rest of an entry) and are not safe to share between threads: a lock.
private enum JournalDates {
    private static let parser = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    private static let lock = NSLock()
    nonisolated(unsafe) private static let milliseconds: ISO8601DateFormatter = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }()
    nonisolated(unsafe) private static let seconds = ISO8601DateFormatter()

    static func string(_ date: Date) -> String { UTCTimestamp.milliseconds(date) }
    static func date(_ text: String) -> Date? {
        if let date = try? parser.parse(text) { return date }
        return lock.withLock { milliseconds.date(from: text) ?? seconds.date(from: text) }
    }
}

/// Test hooks for the crash-point sweep and a full disk: `OSFARM_TEST_CRASH_AFTER_ENTRY=N` ends the process
/// (as SIGKILL would, with no clean-up) right after this process's Nth journal entry is on disk;
/// `OSFARM_TEST_CRASH_MID_ENTRY=N` writes half of the Nth line first, as a crash in the middle of
/// a write leaves it; `OSFARM_TEST_JOURNAL_FULL_FROM_ENTRY=N` fails the Nth write and every later
/// one as a full disk does (ENOSPC), for this process only. Unset, it does nothing.
struct CrashPoint {
    var afterEntry: Int?
    var midEntry: Int?
    var fullFromEntry: Int?

    static let current: CrashPoint? = {
        let environment = ProcessInfo.processInfo.environment
        let point = CrashPoint(
            afterEntry: environment["OSFARM_TEST_CRASH_AFTER_ENTRY"].flatMap { Int($0) },
            midEntry: environment["OSFARM_TEST_CRASH_MID_ENTRY"].flatMap { Int($0) },
            fullFromEntry: environment["OSFARM_TEST_JOURNAL_FULL_FROM_ENTRY"].flatMap { Int($0) })
        return point.afterEntry == nil && point.midEntry == nil && point.fullFromEntry == nil ? nil : point
    }()

    func isFull(at entry: Int) -> Bool { fullFromEntry.map { entry >= $0 } ?? false }

    func before(entry: Int, line: Data, descriptor: Int32) {
        guard entry == midEntry else { return }
        _ = line.prefix(line.count / 2).withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        fsync(descriptor)
        _exit(137)
    }

    func after(entry: Int) {
        if entry == afterEntry { _exit(137) }
    }
}

/// A journal in memory, for the engine's unit tests: it can be told to fail from a given entry on.
public final class MemoryJournal: JournalStore, @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [JournalEntry]
    private var failFrom: Int?

    public init(_ entries: [JournalEntry] = [], failFrom: Int? = nil) {
        stored = entries
        self.failFrom = failFrom
    }

    public func append(_ entry: JournalEntry) throws {
        try lock.withLock {
            if let failFrom, stored.count >= failFrom { throw RunError.journalWrite("/state/run-1/journal.jsonl", "No space left on device") }
            stored.append(entry)
        }
    }

    public func entries() throws -> [JournalEntry] { lock.withLock { stored } }

    /// Room again (the operator freed space): appends succeed from now on.
    public func makeRoom() { lock.withLock { failFrom = nil } }
}

/// run.json against the record in the journal's first entry, which is what counts.
enum RecordComparison {
    static func check(runJSON data: Data, against record: RunRecord, digest: String?, path: String) throws {
        if let digest, SHA256.hex(data) == digest { return }
        guard let file = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let journal = try? JSONSerialization.jsonObject(with: RunJournal.recordEncoder().encode(record)) as? [String: Any]
        else {
            throw RunError.recordMismatch(path, "it is not the run's record")
        }
        guard let field = firstDifference(file, journal, path: "") else { return }
        throw RunError.recordMismatch(path, "\(field) differs from the run's journal")
    }

    /// The first key path where two JSON objects differ.
    static func firstDifference(_ a: Any?, _ b: Any?, path: String) -> String? {
        switch (a, b) {
        case let (a as [String: Any], b as [String: Any]):
            for key in Set(a.keys).union(b.keys).sorted() {
                if let found = firstDifference(a[key], b[key], path: path.isEmpty ? key : path + "." + key) { return found }
            }
            return nil
        case let (a as [Any], b as [Any]):
            guard a.count == b.count else { return path }
            for index in a.indices {
                if let found = firstDifference(a[index], b[index], path: "\(path)[\(index)]") { return found }
            }
            return nil
        case let (a as NSObject, b as NSObject):
            return a == b ? nil : path
        case (nil, nil):
            return nil
        default:
            return path
        }
    }
}

public enum RunError: Error, Sendable, CustomStringConvertible {
    case unknownRun(String, String)
    case damaged(String, String)
    /// The journal has no first entry: nothing can be known of what the run did.
    case emptyJournal(String)
    /// run.json was changed after the run started.
    case recordMismatch(String, String)
    /// An entry could not be stored: the run must stop, since it could not be resumed.
    case journalWrite(String, String)

    public var description: String {
        switch self {
        case let .unknownRun(id, directory): return "no run \"\(id)\" in \(directory) (see osfarm runs)"
        case let .damaged(path, reason): return "\(path): \(reason)"
        case let .emptyJournal(path):
            return
                "\(path) is empty or lost its first entry: osfarm cannot tell what this run did, so it will not guess. Check the servers with 'osfarm services status' and 'osfarm check'"
        case let .recordMismatch(path, detail):
            return "\(path): \(detail) (the journal's first entry is the run's record; run.json was changed after the run started)"
        case let .journalWrite(path, reason): return "cannot write the journal \(path): \(reason)"
        }
    }
}
