import FarmController
import FarmProtocol
@testable import FarmSimulator
import Foundation
import XCTest

/// One farm, one run, at both ends; SIGTERM; a run's lifecycle; the record fixed in the journal;
/// a lost server: the CLI against simulated farms over real sshd, judged by the simulator.
final class RunSafetyTests: XCTestCase {
    private func assertOn(_ database: String, _ farm: TestFarm, file: StaticString = #filePath, line: UInt = #line) throws {
        for server in try farm.status().servers {
            XCTAssertEqual(server.database, database, server.name, file: file, line: line)
            XCTAssertTrue(server.allRunning, "\(server.name): \(server.services)", file: file, line: line)
        }
    }

    func testASecondRunResumeOrAnotherJumpHostIsRefusedWhileARunDrivesTheFarm() throws {
        let farm = try TestFarm(frontEnds: 2)
        defer { farm.shutdown() }
        var slow = FaultRequest()
        slow.lockMachineConfigSeconds = 8
        try farm.inject(slow, on: "fe1")
        let first = try BackgroundRun(farm)
        let runID = try first.waitFor(farm) { $0.server == "fe1" && $0.step == "configuration-tool" && $0.event == .started }

        let second = try farm.moveDB("run", ["--db-restored"])
        XCTAssertEqual(second.status, 2, second.stdout + second.stderr)
        XCTAssertTrue(second.stderr.contains("run \(runID) (osfarm process \(first.process.processIdentifier)"), second.stderr)
        let resume = try osfarm(["resume", runID, "--state-dir", farm.stateDirectory])
        XCTAssertEqual(resume.status, 2, resume.stdout + resume.stderr)
        XCTAssertTrue(resume.stderr.contains("is driving this farm"), resume.stderr)

        // Another jump host (its own state folder, so no shared lock): the agents refuse its changes.
        let elsewhere = try osfarm(["services", "stop", "--yes", "-i", farm.record.inventory, "--limit", "dc1"])
        XCTAssertNotEqual(elsewhere.status, 0, elsewhere.stdout)
        XCTAssertTrue((elsewhere.stdout + elsewhere.stderr).contains("run \(runID)"), elsewhere.stdout + elsewhere.stderr)

        try farm.releaseMachineConfig(on: "fe1")  // seen while the run held the farm; the rest of the lock proves nothing
        let (status, output) = first.finish()
        XCTAssertEqual(status, 0, output)
        try assertOn(farm.newDatabase, farm)
    }

    func testSIGTERMLetsTheStepInFlightFinishExits3AndNamesTheWayOut() throws {
        let farm = try TestFarm(frontEnds: 2)
        defer { farm.shutdown() }
        var slow = FaultRequest()
        slow.lockMachineConfigSeconds = 4
        try farm.inject(slow, on: "fe1")
        let run = try BackgroundRun(farm)
        let runID = try run.waitFor(farm) { $0.server == "fe1" && $0.step == "configuration-tool" && $0.event == .started }
        kill(run.process.processIdentifier, SIGTERM)
        let (status, output) = run.finish()
        XCTAssertEqual(status, 3, output)
        XCTAssertTrue(output.contains("stopped by SIGTERM"), output)
        XCTAssertTrue(output.contains("Not serving now:") && output.contains("fe2  stopped"), output)
        XCTAssertTrue(output.contains("osfarm resume \(runID)") && output.contains("osfarm rollback \(runID)"), output)
        let entries = try farm.journal(runID)
        XCTAssertTrue(entries.contains { $0.server == "fe1" && $0.step == "configuration-tool" && $0.event == .finished }, "the step in flight finished")
        XCTAssertFalse(entries.contains { $0.server == "fe2" && $0.step == "backup" }, "nothing new started")
        let truth = Dictionary(uniqueKeysWithValues: try farm.status().servers.map { ($0.name, $0) })
        XCTAssertEqual(truth["fe2"]?.database, farm.oldDatabase)

        let resumed = try osfarm(["resume", runID, "--state-dir", farm.stateDirectory])
        XCTAssertEqual(resumed.status, 0, resumed.stdout + resumed.stderr)
        try assertOn(farm.newDatabase, farm)
    }

    func testASecondSIGTERMQuitsAtOnceNamesTheWayOutAndResumeFinishes() throws {
        let farm = try TestFarm(frontEnds: 1)
        defer { farm.shutdown() }
        var slow = FaultRequest()
        slow.lockMachineConfigSeconds = 20
        try farm.inject(slow, on: "fe1")
        let run = try BackgroundRun(farm)
        let runID = try run.waitFor(farm) { $0.server == "fe1" && $0.step == "configuration-tool" && $0.event == .started }
        kill(run.process.processIdentifier, SIGTERM)
        Thread.sleep(forTimeInterval: 1)  // two signals at once would reach the handler as one
        kill(run.process.processIdentifier, SIGTERM)
        let (status, output) = run.finish()
        XCTAssertEqual(status, 3, output)
        XCTAssertTrue(output.contains("SIGTERM again: quitting at once"), output)
        XCTAssertTrue(
            output.contains("osfarm runs show \(runID)") && output.contains("osfarm resume \(runID)") && output.contains("osfarm rollback \(runID)"), output)
        // Which servers are left not serving, as every other stop says.
        XCTAssertTrue(output.contains("Not serving now:") && output.contains("  fe1  repointed"), output)
        let entries = try farm.journal(runID)
        XCTAssertFalse(entries.contains { $0.server == "fe1" && $0.step == "configuration-tool" && $0.event == .finished }, "the step was cut off")

        try farm.releaseMachineConfig(on: "fe1")  // the resume need not wait out the rest of the 20 s lock
        let resumed = try osfarm(["resume", runID, "--state-dir", farm.stateDirectory])
        XCTAssertEqual(resumed.status, 0, resumed.stdout + resumed.stderr)
        try assertOn(farm.newDatabase, farm)
    }

    /// One farm for three refusals: a move to the server the farm is on, an edited run record
    /// (refused by resume, ignored by rollback), and a rolled-back run resumed or rolled back again.
    func testAnEditedRunRecordAndARolledBackRunAreRefusedAndAMoveToTheCurrentServerIsNothingToDo() throws {
        let farm = try TestFarm(frontEnds: 1)
        defer { farm.shutdown() }
        let refused = try osfarm([
            "move-db", "run", "--yes", "-i", farm.record.inventory, "--to", farm.oldDatabase, "--db-restored",
            "--state-dir", farm.stateDirectory,
        ])
        XCTAssertEqual(refused.status, 1, refused.stdout)
        XCTAssertTrue(refused.stdout.contains("nothing to do: every server already names \(farm.oldDatabase)"), refused.stdout)
        XCTAssertTrue(try farm.status().servers.allSatisfy { $0.allRunning }, "nothing was stopped")

        // A failed run whose run.json is edited: resume refuses it naming the field; rollback works and says it ignores the edit.
        let runID = try farm.failedRun(at: "fe1")
        let path = farm.stateDirectory + "/\(runID)/run.json"
        let original = try String(contentsOfFile: path, encoding: .utf8)
        let edited = original.replacingOccurrences(of: #""host":"sql-new.farm.test""#, with: #""host":"sql-evil.farm.test""#)
        XCTAssertNotEqual(edited, original)
        try edited.write(toFile: path, atomically: true, encoding: .utf8)
        let editedResume = try osfarm(["resume", runID, "--state-dir", farm.stateDirectory])
        XCTAssertEqual(editedResume.status, 2, editedResume.stdout)
        XCTAssertTrue(
            editedResume.stderr.contains("targets.") && editedResume.stderr.contains("differs from the run's journal"), editedResume.stderr)
        let rollback = try osfarm(["rollback", "--yes", runID, "--state-dir", farm.stateDirectory])
        XCTAssertEqual(rollback.status, 0, rollback.stdout + rollback.stderr)
        XCTAssertTrue(rollback.stderr.contains("differs from the run's journal"), "the rollback says it ignores the edit: \(rollback.stderr)")
        try assertOn(farm.oldDatabase, farm)

        // The record as written again: the rolled-back run is neither resumed nor rolled back again.
        try original.write(toFile: path, atomically: true, encoding: .utf8)
        let resume = try osfarm(["resume", runID, "--state-dir", farm.stateDirectory])
        XCTAssertEqual(resume.status, 2, resume.stdout)
        XCTAssertTrue(resume.stderr.contains("is rolled-back"), resume.stderr)
        let again = try osfarm(["rollback", "--yes", runID, "--state-dir", farm.stateDirectory])
        XCTAssertEqual(again.status, 2, again.stdout)
        XCTAssertTrue(again.stderr.contains("already rolled back"), again.stderr)
        try assertOn(farm.oldDatabase, farm)
        let runs = try osfarm(["runs", "--state-dir", farm.stateDirectory])
        XCTAssertTrue(runs.stdout.contains("rolled-back"), runs.stdout)
    }

    /// The state directory fills in the middle of the stop phase (every journal write from the
    /// seventh on fails as ENOSPC, in that process only): the run stops at once with exit 3 and a
    /// line naming the journal; once there is room again, resume finishes the move. Then its journal
    /// emptied is an error to resume and rollback, not nothing done.
    func testAJournalThatFillsDuringTheStopPhaseExits3AndResumeFinishes() throws {
        let farm = try TestFarm(frontEnds: 1)
        defer { farm.shutdown() }
        var environment = ProcessInfo.processInfo.environment
        // Writes 1-4: created, preflight, run, phase:stop; 5 and 6 start both servers' stop-iis.
        environment["OSFARM_TEST_JOURNAL_FULL_FROM_ENTRY"] = "7"
        let full = try farm.moveDB("run", ["--db-restored"], environment: environment)
        let output = full.stdout + full.stderr
        XCTAssertEqual(full.status, 3, output)
        let runID = try farm.lastRunID()
        XCTAssertTrue(output.contains("cannot write the journal \(farm.stateDirectory)/\(runID)/journal.jsonl: No space left on device"), output)
        XCTAssertTrue(output.contains("osfarm resume \(runID)") && output.contains("osfarm rollback \(runID)"), output)
        XCTAssertFalse(try farm.status().servers.contains { $0.database == farm.newDatabase }, "nothing was repointed")
        let resumed = try osfarm(["resume", runID, "--state-dir", farm.stateDirectory])
        XCTAssertEqual(resumed.status, 0, resumed.stdout + resumed.stderr)
        try assertOn(farm.newDatabase, farm)

        // The finished run's journal emptied: resume and rollback refuse it as an error, not nothing done.
        try Data().write(to: URL(fileURLWithPath: farm.stateDirectory + "/\(runID)/journal.jsonl"))
        let before = try farm.status().json()
        for command in [["resume", runID], ["rollback", "--yes", runID]] {
            let result = try osfarm(command + ["--state-dir", farm.stateDirectory])
            XCTAssertEqual(result.status, 2, result.stdout)
            XCTAssertTrue(result.stderr.contains("cannot tell what this run did"), result.stderr)
        }
        XCTAssertEqual(try farm.status().json(), before, "nothing was touched")
    }

    func testAServerLostMidRunEndsWithExit4() throws {
        let farm = try TestFarm(frontEnds: 2)
        defer { farm.shutdown() }
        var slow = FaultRequest()
        slow.lockMachineConfigSeconds = 3
        try farm.inject(slow, on: "dc1")
        let run = try BackgroundRun(farm)
        _ = try run.waitFor(farm) { $0.server == "dc1" && $0.step == "configuration-tool" && $0.event == .started }
        // fe2's sshd and every session under it go away, as when the server drops off the network.
        ProcessTree.terminate(try farm.simulated("fe2").sshdPID, grace: 0)
        let (status, output) = run.finish()
        XCTAssertEqual(status, 4, output)
        XCTAssertTrue(output.contains("lost fe2"), output)
    }
}
