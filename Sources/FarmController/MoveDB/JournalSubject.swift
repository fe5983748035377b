import Foundation

/// What a journal entry is about: the run, its preflight, a resume, the restore gate, a rollback,
/// a phase, one step on a server (forward or in a rollback), or a hook outside the table's steps.
/// The journal stores it as the entry's `step` text ("run", "phase:stop", "repoint",
/// "rollback:repoint", "hook:on-failure"); it is read back here, in one place, and nowhere else.
public enum JournalSubject: Sendable, Hashable, CustomStringConvertible {
    /// The run as a whole: created, started, and how it ended.
    case run
    case preflight
    /// A resume of the run began (a note).
    case resume
    /// The restore gate: waiting for the database restore, then past it.
    case gate
    /// A rollback as a whole.
    case rollback
    /// A phase of the runbook began.
    case phase(PhaseKind)
    /// One step on one server, on the way forward or in a rollback.
    case step(StepID, RunDirection)
    /// A hook run outside the table's steps: the on-failure hook, after a step failed.
    case hook(HookEvent)
    /// A run-level subject this osfarm does not know (a journal from a later version): kept, not acted on.
    case other(String)

    private static let phasePrefix = RunState.phasePrefix
    private static let hookPrefix = "hook:"

    /// Reads an entry's `step` text; `server` is the entry's (nil for run-level entries).
    public init(journalText text: String, server: String?) {
        if server != nil {
            if text.hasPrefix(Self.hookPrefix), let event = HookEvent(rawValue: String(text.dropFirst(Self.hookPrefix.count))), event == .onFailure {
                self = .hook(event)
            } else if text.hasPrefix(StepID.rollbackPrefix) {
                self = .step(StepID(rawValue: String(text.dropFirst(StepID.rollbackPrefix.count))), .rollback)
            } else {
                self = .step(StepID(rawValue: text), .forward)
            }
            return
        }
        switch text {
        case "run": self = .run
        case "preflight": self = .preflight
        case "resume": self = .resume
        case "gate": self = .gate
        case "rollback": self = .rollback
        default:
            if text.hasPrefix(Self.phasePrefix), let kind = PhaseKind(rawValue: String(text.dropFirst(Self.phasePrefix.count))) {
                self = .phase(kind)
            } else {
                self = .other(text)
            }
        }
    }

    /// The entry's `step` text.
    public var journalText: String {
        switch self {
        case .run: return "run"
        case .preflight: return "preflight"
        case .resume: return "resume"
        case .gate: return "gate"
        case .rollback: return "rollback"
        case let .phase(kind): return Self.phasePrefix + kind.rawValue
        case let .step(id, .forward): return id.rawValue
        case let .step(id, .rollback): return id.journalNameInRollback
        case let .hook(event): return Self.hookPrefix + event.rawValue
        case let .other(text): return text
        }
    }

    public var description: String { journalText }

    /// The step a rollback entry is about, nil for anything else.
    public var rollbackStep: StepID? {
        if case let .step(id, .rollback) = self { return id }
        return nil
    }
}

extension JournalEntry {
    public init(
        time: Date = Date(), server: String?, subject: JournalSubject, event: Event, message: String? = nil,
        durationMilliseconds: Double? = nil, record: RunRecord? = nil, recordSHA256: String? = nil
    ) {
        self.init(
            time: time, server: server, step: subject.journalText, event: event, message: message, durationMilliseconds: durationMilliseconds,
            record: record, recordSHA256: recordSHA256)
    }

    /// What the entry is about, read from its `step` text.
    public var subject: JournalSubject { JournalSubject(journalText: step, server: server) }
}
