import FarmController
import FarmProtocol
@testable import FarmSimulator
import Foundation
import XCTest

/// The operator at a terminal (a real pseudo-terminal): the confirmation before anything stops,
/// the way out named after every stop, past runs at hand, downtime on the record.
final class OperatorTests: XCTestCase {
    private func run(_ farm: TestFarm, _ extra: [String] = []) throws -> PseudoTerminalSession {
        try PseudoTerminalSession(
            TestFarm.binary("osfarm"),
            [
                "move-db", "run", "-i", farm.record.inventory, "--to", farm.newDatabase,
                "--state-dir", farm.stateDirectory,
            ] + extra)
    }

    func testTheRunAsksForTheControllersNameBeforeStoppingAnything() throws {
        let farm = try TestFarm(frontEnds: 1)
        defer { farm.shutdown() }
        let before = try farm.status().json()

        // A wrong name: nothing changes.
        let wrong = try run(farm, ["--db-restored"])
        let summary = try wrong.read(until: "to go on")
        XCTAssertTrue(summary.contains("servers   dc1 (deployment controller), fe1 (front-ends)"), summary)
        XCTAssertTrue(summary.contains("from      \(farm.oldDatabase) → \(farm.newDatabase)"), summary)
        XCTAssertTrue(summary.contains("downtime  unknown (no earlier run"), summary)
        // "yes" is told what to type; a wrong name stops, said once.
        wrong.write("yes\n")
        _ = try wrong.read(until: "not \"yes\": type dc1 to go on")
        wrong.write("fe1\n")
        let (declined, said) = try wrong.finish()
        XCTAssertEqual(declined, 3, said)
        XCTAssertTrue(said.contains("not confirmed; nothing was changed"), said)
        XCTAssertEqual(said.components(separatedBy: "not confirmed").count - 1, 1, said)

        // Ctrl-C at the prompt ends osfarm at once (issue 21: it printed "stopping after the steps in
        // flight" and waited for Enter, holding the farm's lock).
        let interrupted = try run(farm, ["--db-restored"])
        _ = try interrupted.read(until: "to go on")
        let asked = Date()
        interrupted.signal(SIGINT)
        let (quit, quitSaid) = try interrupted.finish(timeout: 10)
        XCTAssertEqual(quit, 3, quitSaid)
        XCTAssertLessThan(Date().timeIntervalSince(asked), 5, "without Enter")
        XCTAssertTrue(quitSaid.contains("Ctrl-C (SIGINT) at the prompt: not confirmed; nothing was changed"), quitSaid)
        XCTAssertFalse(quitSaid.contains("stopping after the steps in flight"), quitSaid)
        XCTAssertEqual(try farm.status().json(), before, "nothing was stopped")
        let runs = (try? FileManager.default.contentsOfDirectory(atPath: farm.stateDirectory)) ?? []
        XCTAssertEqual(runs.filter { !$0.hasPrefix(".") }, [], "no run was created")

        // The right name: the run goes on (so no lock was left behind either).
        let right = try run(farm, ["--db-restored"])
        _ = try right.read(until: "to go on")
        right.write("dc1\n")
        let (status, output) = try right.finish(timeout: 90)
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(try farm.status().servers.allSatisfy { $0.database == farm.newDatabase })
        try assertRunsShowRetellsACompletedRun(farm)

        // Without a terminal and without --yes: refused, exit 2, nothing attempted.
        let unattended = try osfarm([
            "move-db", "run", "-i", farm.record.inventory, "--to", farm.oldDatabase, "--db-restored",
            "--state-dir", farm.stateDirectory,
        ])
        XCTAssertEqual(unattended.status, 2, unattended.stdout)
        XCTAssertTrue(unattended.stderr.contains("pass --yes"), unattended.stderr)

        // Now an earlier run exists: the summary estimates the downtime from it.
        let estimated = try PseudoTerminalSession(
            TestFarm.binary("osfarm"),
            [
                "move-db", "run", "-i", farm.record.inventory, "--to", farm.oldDatabase, "--db-restored", "--state-dir", farm.stateDirectory,
            ])
        let text = try estimated.read(until: "to go on")
        XCTAssertTrue(text.contains("with no front-end serving") && text.contains("from run "), text)
        estimated.write("no\n")
        XCTAssertEqual(try estimated.finish().0, 3)

        // With --yes on a terminal: no question.
        let yes = try run(farm, ["--db-restored", "--yes", "--to", farm.oldDatabase])
        let (yesStatus, yesOutput) = try yes.finish(timeout: 90)
        XCTAssertEqual(yesStatus, 0, yesOutput)
        XCTAssertFalse(yesOutput.contains("to go on"), yesOutput)
    }

    func testAStopAtTheRestoreGateNamesBothWaysOut() throws {
        let farm = try TestFarm(frontEnds: 1)
        defer { farm.shutdown() }
        let session = try run(farm, ["--yes"])
        let question = try session.read(until: "(or 'stop' to stop here)", timeout: 60)
        // While the DBA restores, the farm's downtime counts on above the question, each second.
        let counter = try XCTUnwrap(question.range(of: "farm down ", options: .backwards), question)
        XCTAssertTrue(question[counter.upperBound...].contains("(no front-end has served since "), question)
        let first = String(question[counter.upperBound...].prefix(5))
        let redrawn = try session.read(until: "\u{1B}8", timeout: 5)
        let later = try XCTUnwrap(redrawn.range(of: "farm down ", options: .backwards), redrawn)
        XCTAssertNotEqual(String(redrawn[later.upperBound...].prefix(5)), first, redrawn)
        XCTAssertTrue(redrawn.contains("\u{1B}7\u{1B}[1A"), "redrawn above the question, the cursor kept: \(redrawn)")
        session.write("stop\n")
        let (status, output) = try session.finish()
        XCTAssertEqual(status, 3, output)
        let runID = try farm.lastRunID()
        XCTAssertTrue(output.contains("Not serving now:"), output)
        XCTAssertTrue(output.contains("dc1  stopped") && output.contains("fe1  stopped"), output)
        XCTAssertTrue(output.contains("osfarm resume \(runID) --db-restored") && output.contains("osfarm rollback \(runID)"), output)
        // runs show retells the stopped run from its journal, with the same way out.
        let stoppedShown = try osfarm(["runs", "show", runID, "--state-dir", farm.stateDirectory])
        XCTAssertTrue(
            stoppedShown.stdout.contains("state stopped") && stoppedShown.stdout.contains("osfarm resume \(runID) --db-restored"),
            stoppedShown.stdout)
        // What it says is true: rollback starts everything again on the old database.
        let rollback = try osfarm(["rollback", "--yes", runID, "--state-dir", farm.stateDirectory])
        XCTAssertEqual(rollback.status, 0, rollback.stdout + rollback.stderr)
        XCTAssertTrue(try farm.status().servers.allSatisfy { $0.database == farm.oldDatabase && $0.allRunning })
    }

    /// Ctrl-C while the live view is drawn: its message goes through the view, which clears its
    /// block first, so the terminal shows each server once (before, the block was drawn twice).
    func testCtrlCDuringARunLeavesEachServerOnceOnTheScreen() throws {
        let farm = try TestFarm(frontEnds: 2, profile: .fast)
        defer { farm.shutdown() }
        var slow = FaultRequest()
        slow.lockMachineConfigSeconds = 4
        try farm.inject(slow, on: "fe1")
        let session = try run(farm, ["--yes", "--db-restored"])
        _ = try session.read(until: "configuration-tool", timeout: 60)
        Thread.sleep(forTimeInterval: 1.5)  // the live view has redrawn its block since
        session.signal(SIGINT)
        let (status, output) = try session.finish(timeout: 60)
        XCTAssertEqual(status, 3, output)
        XCTAssertTrue(output.contains("Ctrl-C"), output)
        let screen = TerminalScreen(output).lines
        // The live view's rows (the summary's rows start with counts such as "dc1     2/2").
        for server in ["dc1", "fe1", "fe2"] {
            let rows = screen.filter { $0.hasPrefix(server + " ") && !$0.dropFirst(server.count).trimmingCharacters(in: .whitespaces).first!.isNumber }
            XCTAssertEqual(rows.count, 1, "\(server) on the screen:\n" + screen.joined(separator: "\n"))
        }
    }

    /// A failure names the way out on the terminal, and `runs show` retells the failed run. (A window
    /// that ends mid-run is MoveDBTests' window test, end to end; its wording is RunEngineTests'.)
    func testAFailureNamesTheWayOutOnTheTerminalAndRunsShowRetellsIt() throws {
        let farm = try TestFarm(frontEnds: 2)
        defer { farm.shutdown() }
        var fault = FaultRequest()
        fault.configurationToolFailure = "Service Center installation failed."
        try farm.inject(fault, on: "fe1")
        let failing = try run(farm, ["--yes", "--db-restored"])
        let (failed, failure) = try failing.finish(timeout: 90)
        XCTAssertEqual(failed, 1, failure)
        let runID = try farm.lastRunID()
        XCTAssertTrue(failure.contains("fe1  repointed") && failure.contains("fe2  stopped"), failure)
        XCTAssertTrue(failure.contains("osfarm resume \(runID)") && failure.contains("osfarm rollback \(runID)"), failure)
        let failedShown = try osfarm(["runs", "show", runID, "--state-dir", farm.stateDirectory])
        XCTAssertTrue(failedShown.stdout.contains("state failed") && failedShown.stdout.contains("failed at configuration-tool"), failedShown.stdout)
        XCTAssertTrue(failedShown.stdout.contains("osfarm rollback \(runID)"), failedShown.stdout)
        var clear = FaultRequest()
        clear.clear = true
        try farm.inject(clear, on: "fe1")
        XCTAssertEqual(try osfarm(["rollback", "--yes", runID, "--state-dir", farm.stateDirectory]).status, 0)
        XCTAssertTrue(try farm.status().servers.allSatisfy { $0.database == farm.oldDatabase && $0.allRunning })
    }

    /// `runs show` on a completed run: every step of fe1, the lifecycle in --json, the change record again.
    private func assertRunsShowRetellsACompletedRun(_ farm: TestFarm, file: StaticString = #filePath, line: UInt = #line) throws {
        let completed = try farm.lastRunID()
        let shown = try osfarm(["runs", "show", completed, "--state-dir", farm.stateDirectory])
        XCTAssertEqual(shown.status, 0, shown.stderr, file: file, line: line)
        XCTAssertTrue(shown.stdout.contains("state completed"), shown.stdout, file: file, line: line)
        for entry in try farm.journal(completed) where entry.event == .finished && entry.server == "fe1" {
            XCTAssertTrue(shown.stdout.contains("  \(entry.step) "), "\(entry.step) missing:\n\(shown.stdout)", file: file, line: line)
        }
        XCTAssertFalse(shown.stdout.contains("Not serving now"), shown.stdout, file: file, line: line)
        let json = try osfarm(["runs", "show", completed, "--json", "--state-dir", farm.stateDirectory])
        let document = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], file: file, line: line)
        XCTAssertEqual(document["lifecycle"] as? String, "completed", file: file, line: line)
        let report = farm.directory + "/again.md"
        XCTAssertEqual(try osfarm(["runs", "show", completed, "--report", report, "--state-dir", farm.stateDirectory]).status, 0, file: file, line: line)
        XCTAssertTrue(
            try String(contentsOfFile: report, encoding: .utf8).contains("# Change record: OutSystems database move \(completed)"), file: file, line: line)
    }

    func testTheDowntimeOnRecordAgreesWithWhenTheSimulatorStoppedAndStartedIIS() throws {
        let farm = try TestFarm(frontEnds: 2, profile: .fast)
        defer { farm.shutdown() }
        let result = try farm.moveDB("run", ["--db-restored", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let document = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let downtime = try XCTUnwrap(document["downtime"] as? [String: Any])
        let servers = try XCTUnwrap(downtime["servers"] as? [[String: Any]])
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for server in servers {
            let name = try XCTUnwrap(server["name"] as? String)
            let since = try XCTUnwrap((server["downSince"] as? String).flatMap(formatter.date))
            let back = try XCTUnwrap((server["servingSince"] as? String).flatMap(formatter.date))
            let iis = try SimulatedDelay.read(serverDirectory: try farm.simulated(name).directory).filter { $0.what.hasPrefix("iisreset") }
            let stop = try XCTUnwrap(iis.first { $0.what.contains("/stop") }, "\(name): \(iis)")
            let start = try XCTUnwrap(iis.last { $0.what.contains("/start") }, "\(name): \(iis)")
            XCTAssertLessThanOrEqual(since.timeIntervalSince1970, stop.start + 0.05, "\(name): down from before its IIS stopped")
            XCTAssertGreaterThan(stop.start - since.timeIntervalSince1970, -0.05)
            XCTAssertLessThan(stop.start - since.timeIntervalSince1970, 2, "\(name): the record's stop is the simulator's")
            XCTAssertGreaterThanOrEqual(back.timeIntervalSince1970, start.start + start.seconds, "\(name): back only after IIS started")
            XCTAssertEqual(server["downSeconds"] as? Double ?? 0, back.timeIntervalSince(since), accuracy: 0.01)
        }
        let farmDown = try XCTUnwrap(downtime["farmSeconds"] as? Double)
        XCTAssertGreaterThan(farmDown, 0)
        XCTAssertTrue(result.stderr.isEmpty || !result.stdout.contains("Not serving"), "everything serves at the end")
    }
}
