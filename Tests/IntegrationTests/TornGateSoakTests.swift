import FarmController
import FarmProtocol
@testable import FarmSimulator
import Foundation
import XCTest

/// The controller killed in the middle of its journal write at the restore gate (a torn last line),
/// then `resume`, then `rollback`, on a loaded machine: several farms at once on the same cores.
/// Each round is judged by the simulator: on the new database with everything running after the
/// resume, on the old one with the files back byte for byte after the rollback. `make soak` runs it
/// OSFARM_SOAK_ROUNDS times (default 1), OSFARM_SOAK_FARMS farms at once (default 1); `make test`
/// leaves it to the soak.
final class TornGateSoakTests: XCTestCase {
    private final class Findings: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var problems: [String] = []
        private(set) var rounds = 0
        func add(_ problem: String) { lock.withLock { problems.append(problem) } }
        func count() { lock.withLock { rounds += 1 } }
    }

    func testATornLineAtTheGateResumesThenRollsBackUnderLoad() throws {
        let environment = ProcessInfo.processInfo.environment
        let rounds = max(1, Int(environment["OSFARM_SOAK_ROUNDS"] ?? "") ?? 1)
        let farms = max(1, Int(environment["OSFARM_SOAK_FARMS"] ?? "") ?? 1)
        let findings = Findings()
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = farms
        for round in 1...rounds {
            queue.addOperation {
                do {
                    try Self.round(round, findings)
                } catch {
                    findings.add("round \(round): \(error)")
                }
                findings.count()
            }
        }
        queue.waitUntilAllOperationsAreFinished()
        XCTAssertEqual(findings.problems, [])
        XCTAssertEqual(findings.rounds, rounds)
        print("torn line at the gate, resume then rollback: \(rounds) rounds, \(farms) farms at once, \(findings.problems.count) failed")
    }

    private static func round(_ round: Int, _ findings: Findings) throws {
        let farm = try TestFarm(frontEnds: 1)
        defer { farm.shutdown() }
        let original = try farm.configurationFiles()
        // This process's journal writes: created, preflight, run, phase:stop, four per server in the
        // stop phase, phase:gate, the probe started and finished; the next is "gate finished".
        let gateFinished = 4 + 4 * farm.record.servers.count + 3 + 1
        var environment = ProcessInfo.processInfo.environment
        environment["OSFARM_TEST_CRASH_MID_ENTRY"] = String(gateFinished)
        let crashed = try osfarm(
            [
                "move-db", "run", "--yes", "-i", farm.record.inventory, "--to", farm.newDatabase, "--db-restored",
                "--state-dir", farm.stateDirectory,
            ], environment: environment)
        guard crashed.status == 137 || crashed.status > 128 || crashed.status < 0 else {
            return findings.add("round \(round): the controller was not killed (exit \(crashed.status)): \(crashed.stderr.suffix(300))")
        }
        let runID = try farm.lastRunID()
        let left = try farm.journal(runID)
        guard let last = left.last, last.server == "dc1", last.step == "probe-database", last.event == .finished else {
            return findings.add("round \(round): the torn line was not the gate's: the journal ends \(left.suffix(2).map { "\($0.step) \($0.event)" })")
        }
        let resumed = try osfarm(["resume", runID, "--state-dir", farm.stateDirectory])
        guard resumed.status == 0 else {
            return findings.add("round \(round): resume exit \(resumed.status): \(resumed.stdout.suffix(600)) \(resumed.stderr.suffix(300))")
        }
        for server in try farm.status().servers where server.database != farm.newDatabase || !server.allRunning {
            findings.add("round \(round): after the resume \(server.name) on \(server.database ?? "?"), services \(server.services)")
        }
        let rolledBack = try osfarm(["rollback", runID, "--yes", "--state-dir", farm.stateDirectory])
        guard rolledBack.status == 0 else {
            return findings.add("round \(round): rollback exit \(rolledBack.status): \(rolledBack.stdout.suffix(600)) \(rolledBack.stderr.suffix(300))")
        }
        for server in try farm.status().servers where server.database != farm.oldDatabase || !server.allRunning {
            findings.add("round \(round): after the rollback \(server.name) on \(server.database ?? "?"), services \(server.services)")
        }
        if try farm.configurationFiles() != original { findings.add("round \(round): the files are not back byte for byte") }
    }
}
