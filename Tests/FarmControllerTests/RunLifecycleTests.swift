import FarmController
import XCTest

/// Every command that acts on an existing run, from every state a journal can leave it in.
final class RunLifecycleTests: XCTestCase {
    private static let runID = "20261127-010203-abcd"

    /// The run-level journal entries that leave a run in each state.
    private static let journals: [RunLifecycle: [JournalEntry]] = {
        func run(_ event: JournalEntry.Event) -> JournalEntry { JournalEntry(server: nil, subject: .run, event: event) }
        func phase(_ kind: PhaseKind) -> JournalEntry { JournalEntry(server: nil, subject: .phase(kind), event: .started) }
        func rollback(_ event: JournalEntry.Event) -> JournalEntry { JournalEntry(server: nil, subject: .rollback, event: event) }
        let started = [run(.started)]
        return [
            .planned: started,
            .stopping: started + [phase(.stop)],
            .atGate: started + [phase(.stop), phase(.gate)],
            .applying: started + [phase(.stop), phase(.gate), phase(.apply)],
            .completed: started + [phase(.stop), phase(.apply), run(.finished)],
            .failed: started + [phase(.stop), run(.failed)],
            .stopped: started + [phase(.stop), run(.skipped)],
            .rollingBack: started + [run(.failed), rollback(.started)],
            .rolledBack: started + [run(.failed), rollback(.started), rollback(.finished)],
        ]
    }()

    /// allowed / nothing to do / refused, per command, per state.
    private static let expected: [RunCommand: [RunLifecycle: String]] = [
        .resume: [
            .planned: "allowed", .stopping: "allowed", .atGate: "allowed", .applying: "allowed", .completed: "nothing",
            .failed: "allowed", .stopped: "allowed", .rollingBack: "refused", .rolledBack: "refused",
        ],
        .rollback: [
            .planned: "allowed", .stopping: "allowed", .atGate: "allowed", .applying: "allowed", .completed: "allowed",
            .failed: "allowed", .stopped: "allowed", .rollingBack: "allowed", .rolledBack: "refused",
        ],
        .pruneBackups: [
            .planned: "refused", .stopping: "refused", .atGate: "refused", .applying: "refused", .completed: "allowed",
            .failed: "refused", .stopped: "refused", .rollingBack: "refused", .rolledBack: "allowed",
        ],
    ]

    func testEveryStateIsReachedByItsJournal() {
        XCTAssertEqual(Set(Self.journals.keys), Set(RunLifecycle.allCases), "a journal for every state")
        for (lifecycle, entries) in Self.journals {
            XCTAssertEqual(RunState(entries: entries).lifecycle, lifecycle, "\(entries.map { "\($0.step) \($0.event)" })")
        }
    }

    func testEveryCommandFromEveryState() {
        for command in RunCommand.allCases {
            for lifecycle in RunLifecycle.allCases {
                let admission = RunState(entries: Self.journals[lifecycle] ?? []).lifecycle.admits(command, runID: Self.runID)
                let kind: String
                switch admission {
                case .allowed: kind = "allowed"
                case let .nothingToDo(reason):
                    kind = "nothing"
                    XCTAssertTrue(reason.contains(Self.runID), reason)
                case let .refused(reason):
                    kind = "refused"
                    // A refusal names the run and what to do instead.
                    XCTAssertTrue(reason.contains("run \(Self.runID)") && reason.contains("osfarm "), reason)
                }
                XCTAssertEqual(kind, Self.expected[command]?[lifecycle], "\(command.rawValue) from \(lifecycle.rawValue)")
            }
        }
    }
}
