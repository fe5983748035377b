import FarmController
import FarmProtocol
@testable import FarmSimulator
import Foundation
import XCTest

/// The controller killed at a journal entry of a whole run (after it, or in the middle of its
/// write), then `resume` on one farm and `rollback` on another, over real sshd and the simulator:
/// each must reach its end state by the simulator's own account, never start again a step the
/// journal shows done, and never run two Configuration Tools at once on a server.
/// `CrashPointTests` sweeps every point of the engine in milliseconds; `make test` runs a handful
/// of real points here, and `make soak` every one (`CrashSweepSoakTests`).
struct CrashSweep {
    struct Point: CustomStringConvertible, Sendable {
        var entry: Int
        var midWrite: Bool
        /// A step ("server/step") the journal must show done when the controller dies.
        var expectDone: String? = nil
        var description: String { midWrite ? "in the middle of entry \(entry)" : "after entry \(entry)" }
        var environment: [String: String] {
            var environment = ProcessInfo.processInfo.environment
            environment[midWrite ? "OSFARM_TEST_CRASH_MID_ENTRY" : "OSFARM_TEST_CRASH_AFTER_ENTRY"] = String(entry)
            return environment
        }
    }

    enum Way: String, Sendable { case resume, rollback }

    final class Findings: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var problems: [String] = []
        private(set) var checked = 0
        func add(_ problem: String) { lock.withLock { problems.append(problem) } }
        func count() { lock.withLock { checked += 1 } }
    }

    /// A whole run's journal (to number its entries).
    static func referenceJournal() throws -> [JournalEntry] {
        let reference = try TestFarm(frontEnds: 1)
        defer { reference.shutdown() }
        let full = try reference.moveDB("run", ["--db-restored"])
        XCTAssertEqual(full.status, 0, full.stdout + full.stderr)
        return try reference.journal(try reference.lastRunID())
    }

    /// Each point resumed on one farm and rolled back on another, four at a time; the problems found.
    static func sweep(_ points: [Point]) -> (problems: [String], recoveries: Int, checked: Int) {
        let work = points.flatMap { point in [(point, Way.resume), (point, Way.rollback)] }
        let findings = Findings()
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 4
        for (point, way) in work {
            queue.addOperation {
                do {
                    try check(point, way, findings)
                } catch {
                    findings.add("\(way) \(point): \(error)")
                }
                findings.count()
            }
        }
        queue.waitUntilAllOperationsAreFinished()
        return (findings.problems, work.count, findings.checked)
    }

    static func check(_ point: Point, _ way: Way, _ findings: Findings) throws {
        let farm = try TestFarm(frontEnds: 1)
        defer { farm.shutdown() }
        let original = try farm.configurationFiles()
        let crashed = try osfarm(
            [
                "move-db", "run", "--yes", "-i", farm.record.inventory, "--to", farm.newDatabase, "--db-restored",
                "--state-dir", farm.stateDirectory,
            ], environment: point.environment)
        guard crashed.status == 137 || crashed.status == -9 || crashed.status > 128 else {
            return findings.add("\(way) \(point): the controller was not killed (exit \(crashed.status)): \(crashed.stderr.suffix(300))")
        }
        guard let runID = try? farm.lastRunID() else { return }  // killed before the run's folder existed: nothing to recover
        let before = try farm.journal(runID)
        let doneBefore = Set(before.filter { $0.event == .finished && $0.server != nil }.map { "\($0.server!)/\($0.step)" })
        if let expected = point.expectDone, !doneBefore.contains(expected) { findings.add("\(way) \(point): \(expected) was not done when it died") }
        // Unattended: a rollback needs --yes (its confirmation is tested on a pseudo-terminal).
        let recovery = try osfarm([way.rawValue, runID, "--state-dir", farm.stateDirectory] + (way == .rollback ? ["--yes"] : []))
        guard recovery.status == 0 else {
            return findings.add("\(way) \(point): exit \(recovery.status): \(recovery.stdout.suffix(600)) \(recovery.stderr.suffix(300))")
        }
        let after = try farm.journal(runID).dropFirst(before.count)
        let repeated = after.filter { $0.event == .started && $0.server != nil && doneBefore.contains("\($0.server!)/\($0.step)") }
        if !repeated.isEmpty { findings.add("\(way) \(point): started again: \(repeated.map { "\($0.server!)/\($0.step)" })") }
        for server in try farm.status().servers {
            let expected = way == .resume ? farm.newDatabase : farm.oldDatabase
            if server.database != expected || !server.allRunning {
                findings.add("\(way) \(point): \(server.name) on \(server.database ?? "?"), services \(server.services)")
            }
            let tools = ToolRunLog.concurrency(serverDirectory: try farm.simulated(server.name).directory)
            if tools.maximum > 1 { findings.add("\(way) \(point): \(server.name) ran \(tools.maximum) Configuration Tools at once") }
        }
        if way == .rollback, try farm.configurationFiles() != original {
            findings.add("\(way) \(point): the files are not back byte for byte")
        }
        if way == .resume {
            let runs = try osfarm(["runs", "--state-dir", farm.stateDirectory])
            if !(runs.stdout.contains(runID) && runs.stdout.contains("completed")) { findings.add("\(way) \(point): runs shows \(runs.stdout)") }
        }
    }
}

/// Three real crash points, one of each kind, in `make test`.
final class CrashSweepTests: XCTestCase {
    func testAHandfulOfRealCrashPointsAreResumableAndRollBack() throws {
        let entries = try CrashSweep.referenceJournal()
        func entry(_ server: String, _ step: String, _ event: JournalEntry.Event) throws -> Int {
            // Entry numbers count from 1, as the crash hook counts them.
            try XCTUnwrap(entries.firstIndex { $0.server == server && $0.step == step && $0.event == event }, "\(server) \(step) \(event)") + 1
        }
        let points = [
            // A stop in flight: its effect on the server unknown to the journal.
            CrashSweep.Point(entry: try entry("fe1", "stop-services", .started), midWrite: false),
            // The controller's repoint done on the server, its record torn.
            CrashSweep.Point(entry: try entry("dc1", "repoint", .finished), midWrite: true),
            // A Configuration Tool in flight: resume must not run a second one beside it.
            // (MoveDBTests' killed controller: SIGKILLed once fe1's apply began, the controller's done.)
            CrashSweep.Point(entry: try entry("fe1", "configuration-tool", .started), midWrite: false, expectDone: "dc1/verify"),
        ]
        let (problems, recoveries, checked) = CrashSweep.sweep(points)
        XCTAssertEqual(problems, [])
        XCTAssertEqual(checked, recoveries)
        XCTAssertEqual(recoveries, 6)
    }
}

/// Every crash point of a whole run against real sshd: `make soak` (about four minutes on two
/// cores), not `make test`; CI runs it once per change to the engine or the journal.
final class CrashSweepSoakTests: XCTestCase {
    func testEveryCrashPointIsResumableAndRollsBack() throws {
        let entries = try CrashSweep.referenceJournal().count
        XCTAssertGreaterThan(entries, 30)
        var points = (1..<entries).map { CrashSweep.Point(entry: $0, midWrite: false) }
        points.append(CrashSweep.Point(entry: entries / 2, midWrite: true))
        let (problems, recoveries, checked) = CrashSweep.sweep(points)
        XCTAssertEqual(problems, [])
        XCTAssertEqual(checked, recoveries)
        print(
            "crash-point sweep: \(points.count) crash points (\(entries - 1) after an entry, 1 mid-write), each resumed and rolled back: \(recoveries) recoveries"
        )
    }
}
