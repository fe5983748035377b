import FarmController
import FarmProtocol
import Foundation
import XCTest

final class MaintenanceWindowTests: XCTestCase {
    private let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    private func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    func testISOWindow() throws {
        let window = try MaintenanceWindow.parse("2026-11-28T22:00:00Z/2026-11-29T02:00:00Z")
        XCTAssertEqual(window.start, date("2026-11-28T22:00:00Z"))
        XCTAssertEqual(window.end, date("2026-11-29T02:00:00Z"))
        XCTAssertEqual(window.remaining(at: date("2026-11-29T01:00:00Z")), 3600)
        XCTAssertTrue(window.hasEnded(at: date("2026-11-29T02:00:00Z")))
    }

    func testClockWindowIsTheNextOneAndCrossesMidnight() throws {
        let now = date("2026-11-27T10:00:00Z")
        let evening = try MaintenanceWindow.parse("22:00/02:00", now: now, calendar: utc)
        XCTAssertEqual(evening.start, date("2026-11-27T22:00:00Z"))
        XCTAssertEqual(evening.end, date("2026-11-28T02:00:00Z"))
        // A window already open keeps today's start.
        let open = try MaintenanceWindow.parse("09:30/11:00", now: now, calendar: utc)
        XCTAssertEqual(open.start, date("2026-11-27T09:30:00Z"))
        XCTAssertEqual(open.end, date("2026-11-27T11:00:00Z"))
    }

    func testBadWindowsAreClearErrors() {
        for text in ["22:00", "25:00/26:00", "tonight/tomorrow", "2026-11-29T02:00:00Z/2026-11-28T22:00:00Z"] {
            XCTAssertThrowsError(try MaintenanceWindow.parse(text)) {
                XCTAssertTrue("\($0)".contains(text.components(separatedBy: "/").first!) || "\($0)".contains("--window"), "\($0)")
            }
        }
        XCTAssertThrowsError(try MaintenanceWindow.parseInstant("soon", option: "--deadline")) {
            XCTAssertEqual("\($0)", "--deadline \"soon\": use an ISO 8601 date-time or HH:MM")
        }
    }
}

final class RunJournalTests: XCTestCase {
    func testEntriesRoundTripAndATornLastLineIsIgnored() throws {
        let folder = NSTemporaryDirectory() + "osfarm-journal-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let targets = DatabaseTargets(all: DatabaseTarget(server: try DatabaseServerAddress(host: "new")))
        let record = RunRecord(
            runID: "run-1", createdAt: Date(), startedBy: "ops@jump", inventoryPath: "/farm.yaml", limit: nil,
            servers: ["dc1", "fe1"], roles: ["dc1": .deploymentController, "fe1": .frontEnd], targets: targets,
            origin: DatabaseTargets(all: DatabaseTarget(server: try DatabaseServerAddress(host: "old"))), from: "old",
            options: MoveOptions(), partial: false, windowsAuthentication: false)
        let journal = try RunJournal.create(record, stateDirectory: folder)
        try journal.append(JournalEntry(server: "dc1", step: "stop-iis", event: .started))
        try journal.append(JournalEntry(server: "dc1", step: "stop-iis", event: .finished, durationMilliseconds: 12))
        try journal.append(JournalEntry(server: nil, step: "gate", event: .finished))
        // A crash in the middle of a write.
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: folder + "/run-1/journal.jsonl"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"event":"star"#.utf8))
        try handle.close()

        let (_, reopened, entries) = try RunJournal.open(runID: "run-1", stateDirectory: folder)
        XCTAssertEqual(reopened.servers, ["dc1", "fe1"])
        XCTAssertEqual(entries.count, 4, "the record, three steps")
        let state = RunState(entries: entries)
        XCTAssertTrue(state.isDone("dc1", .stopIIS))
        XCTAssertTrue(state.gatePassed)
        XCTAssertEqual(state.status("fe1", .stopIIS), .pending)
        XCTAssertEqual(state.summary(RunServer(name: "fe1", role: .frontEnd), runbook: .moveDatabase, options: MoveOptions()), "not started")
        let attributes = try FileManager.default.attributesOfItem(atPath: folder + "/run-1/run.json")
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        XCTAssertThrowsError(try RunJournal.open(runID: "../etc", stateDirectory: folder))
    }
}
