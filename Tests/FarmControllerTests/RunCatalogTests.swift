import FarmController
import Foundation
import XCTest

/// `osfarm runs`: every run folder is listed, a damaged one with its damage said (issue 21: one
/// with a missing run.json, a journal that is a folder or a dangling link, or an unreadable folder
/// was left out silently).
final class RunCatalogTests: XCTestCase {
    private var folder = ""

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "osfarm-catalog-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDown() {
        chmod(folder + "/20261127-010205-0005", 0o700)
        try? FileManager.default.removeItem(atPath: folder)
    }

    private func createRun(_ runID: String) throws {
        var record = ScriptedFarm(frontEnds: 1).record
        record.runID = runID
        _ = try RunJournal.create(record, stateDirectory: folder)
    }

    func testEveryRunFolderIsListedWithItsDamage() throws {
        try createRun("20261127-010201-0001")
        try createRun("20261127-010202-0002")
        try FileManager.default.removeItem(atPath: folder + "/20261127-010202-0002/run.json")
        try createRun("20261127-010203-0003")
        try FileManager.default.removeItem(atPath: folder + "/20261127-010203-0003/journal.jsonl")
        try FileManager.default.createDirectory(atPath: folder + "/20261127-010203-0003/journal.jsonl", withIntermediateDirectories: false)
        try createRun("20261127-010204-0004")
        try FileManager.default.removeItem(atPath: folder + "/20261127-010204-0004/journal.jsonl")
        try FileManager.default.createSymbolicLink(atPath: folder + "/20261127-010204-0004/journal.jsonl", withDestinationPath: "/nonexistent/journal")
        try createRun("20261127-010205-0005")
        chmod(folder + "/20261127-010205-0005", 0o000)
        try FileManager.default.createDirectory(atPath: folder + "/.locks", withIntermediateDirectories: false)

        let runs = RunCatalog.list(stateDirectory: folder)
        let byID = Dictionary(uniqueKeysWithValues: runs.map { ($0.runID, $0) })
        XCTAssertEqual(runs.count, 5, "\(runs.map(\.runID))")
        XCTAssertNil(byID["20261127-010201-0001"]?.damage)
        XCTAssertEqual(byID["20261127-010201-0001"]?.state, "planned")
        let noRecord = try XCTUnwrap(byID["20261127-010202-0002"])
        XCTAssertEqual(noRecord.state, "planned", "its journal still tells its state")
        XCTAssertTrue(noRecord.damage?.contains("run.json: missing, though the run has a journal") ?? false, "\(noRecord)")
        XCTAssertEqual(byID["20261127-010203-0003"]?.damage, "journal.jsonl is a folder, not a journal")
        XCTAssertEqual(byID["20261127-010204-0004"]?.damage, "journal.jsonl is a link to /nonexistent/journal, which does not exist")
        if getuid() != 0 {
            XCTAssertEqual(byID["20261127-010205-0005"]?.damage, "its folder cannot be read: Permission denied")
        }
        for id in ["20261127-010203-0003", "20261127-010204-0004"] { XCTAssertEqual(byID[id]?.state, "damaged") }

        let text = RunCatalog.text(runs)
        XCTAssertTrue(text.contains("20261127-010204-0004: journal.jsonl is a link to /nonexistent/journal, which does not exist\n"), text)
        XCTAssertTrue(text.contains("20261127-010203-0003: journal.jsonl is a folder, not a journal\n"), text)
        XCTAssertTrue(try RunCatalog.json(runs).contains("\"damage\""))
    }
}
