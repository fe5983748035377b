import FarmController
import FarmProtocol
@testable import FarmSimulator
import Foundation
import XCTest

/// The controller killed after each journal entry of a whole run (and once in the middle of a
/// write), then `resume` on one farm and `rollback` on another: each must reach its end state by
/// the simulator's own account, never start again a step the journal shows done, and never run two
/// Configuration Tools at once on a server.
final class CrashSweepTests: XCTestCase {
    private struct Point: CustomStringConvertible, Sendable {
        var entry: Int
        var midWrite: Bool
        var description: String { midWrite ? "in the middle of entry \(entry)" : "after entry \(entry)" }
        var environment: [String: String] {
            var environment = ProcessInfo.processInfo.environment
            environment[midWrite ? "OSFARM_TEST_CRASH_MID_ENTRY" : "OSFARM_TEST_CRASH_AFTER_ENTRY"] = String(entry)
            return environment
        }
    }

    private enum Way: String, Sendable { case resume, rollback }

    private final class Findings: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var problems: [String] = []
        private(set) var checked = 0
        func add(_ problem: String) { lock.withLock { problems.append(problem) } }
        func count() { lock.withLock { checked += 1 } }
    }

    func testEveryCrashPointIsResumableAndRollsBack() throws {
        // A whole run, to count its journal entries.
        let reference = try TestFarm(frontEnds: 1)
        let full = try reference.moveDB("run", ["--db-restored"])
        XCTAssertEqual(full.status, 0, full.stdout + full.stderr)
        let entries = try reference.journal(try reference.lastRunID()).count
        reference.shutdown()
        XCTAssertGreaterThan(entries, 30)

        var points = (1..<entries).map { Point(entry: $0, midWrite: false) }
        points.append(Point(entry: entries / 2, midWrite: true))
        let work = points.flatMap { point in [(point, Way.resume), (point, Way.rollback)] }
        let findings = Findings()
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 4
        for (point, way) in work {
            queue.addOperation {
                do {
                    try Self.check(point, way, findings)
                } catch {
                    findings.add("\(way) \(point): \(error)")
                }
                findings.count()
            }
        }
        queue.waitUntilAllOperationsAreFinished()
        XCTAssertEqual(findings.problems, [])
        XCTAssertEqual(findings.checked, work.count)
        print(
            "crash-point sweep: \(points.count) crash points (\(entries - 1) after an entry, 1 mid-write), each resumed and rolled back: \(work.count) recoveries"
        )
    }

    private static func check(_ point: Point, _ way: Way, _ findings: Findings) throws {
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
    }
}
