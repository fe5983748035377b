import FarmController
import FarmProtocol
import Foundation
import XCTest

/// Every command that causes downtime or removes a way back asks first, on a real
/// pseudo-terminal, and refuses unattended without --yes. No farm: the question comes before any
/// server is contacted (the inventory's servers listen nowhere).
final class ConfirmationTests: XCTestCase {
    private var directory = ""
    private var inventory: String { directory + "/farm.yaml" }
    private var stateDirectory: String { directory + "/runs" }
    private let runID = "20261204-010203-c0f1"

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "osfarm-confirm-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        // Port 1 on loopback addresses: anything that did connect would be refused at once.
        try """
        defaults:
          user: svc
          identity: ssh-agent
          port: 1
          known_hosts: \(directory)/known_hosts
        servers:
          - name: dc1
            host: 127.0.0.1
            role: deployment-controller
          - name: fe1
            host: 127.0.0.2
            role: front-end
        """.write(toFile: inventory, atomically: true, encoding: .utf8)
        // A completed run: both servers stopped, moved and serving again.
        let address = try DatabaseServerAddress(parsing: "sqlnew")
        let record = RunRecord(
            runID: runID, createdAt: Date(), startedBy: "test", inventoryPath: inventory, limit: nil, servers: ["dc1", "fe1"],
            roles: ["dc1": .deploymentController, "fe1": .frontEnd], targets: DatabaseTargets(all: DatabaseTarget(server: address)),
            origin: DatabaseTargets(all: DatabaseTarget(server: try DatabaseServerAddress(parsing: "sqlold"))), from: "sqlold",
            options: MoveOptions(), partial: false, windowsAuthentication: false)
        let journal = try RunJournal.create(record, stateDirectory: stateDirectory)
        try journal.append(JournalEntry(server: nil, step: "run", event: .started))
        for server in ["dc1", "fe1"] {
            for step in ["stop-iis", "stop-services", "verify"] {
                try journal.append(JournalEntry(server: server, step: step, event: .started))
                try journal.append(JournalEntry(server: server, step: step, event: .finished))
            }
        }
        try journal.append(JournalEntry(server: nil, step: "run", event: .finished, message: "completed"))
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private var commands: [(name: String, arguments: [String], says: String)] {
        [
            ("rollback", ["rollback", runID, "--state-dir", stateDirectory], "dc1, fe1 serving now; they stop"),
            ("services stop", ["services", "stop", "-i", inventory], "Every front-end stops: the farm stops serving."),
            (
                "backups prune", ["backups", "prune", runID, "-i", inventory, "--state-dir", stateDirectory],
                "'osfarm rollback \(runID)' can no longer put those servers back"
            ),
            // Every finished run of this farm at once: here the one completed run.
            (
                "backups prune --completed", ["backups", "prune", "--completed", "-i", inventory, "--state-dir", stateDirectory],
                "About to remove run \(runID)'s backups"
            ),
        ]
    }

    func testEachCommandShowsWhatItWillDoAndAsksForTheControllersName() throws {
        let journal = try String(contentsOfFile: stateDirectory + "/\(runID)/journal.jsonl", encoding: .utf8)
        for command in commands {
            let session = try PseudoTerminalSession(TestFarm.binary("osfarm"), command.arguments)
            let question = try session.read(until: "to go on, anything else stops: ")
            XCTAssertTrue(question.contains(command.says), "\(command.name): \(question)")
            XCTAssertTrue(question.contains("Type the deployment controller's name (dc1)"), "\(command.name): \(question)")
            // "yes" is told what to type instead of ending the command.
            session.write("yes\n")
            _ = try session.read(until: "not \"yes\": type dc1 to go on")
            session.write("fe1\n")
            let (status, output) = try session.finish()
            XCTAssertEqual(status, 3, "\(command.name): \(output)")
            XCTAssertEqual(output.components(separatedBy: "not confirmed").count - 1, 1, "\(command.name) says it once: \(output)")
            XCTAssertTrue(output.contains("not confirmed; nothing was changed"), output)
        }
        XCTAssertEqual(try String(contentsOfFile: stateDirectory + "/\(runID)/journal.jsonl", encoding: .utf8), journal, "nothing journaled")
    }

    func testUnattendedEachNeedsYesAndTakesDashY() throws {
        for command in commands {
            let refused = try osfarm(command.arguments)
            XCTAssertEqual(refused.status, 2, "\(command.name): \(refused.stdout)")
            XCTAssertTrue(refused.stderr.contains("unattended, pass --yes. Nothing was changed"), "\(command.name): \(refused.stderr)")
        }
        // -y goes on: the servers are then tried (and do not answer, exit 4), nothing asked.
        let stop = try osfarm(["services", "stop", "-y", "-i", inventory, "--timeout", "2"])
        XCTAssertEqual(stop.status, 4, stop.stdout + stop.stderr)
        XCTAssertFalse(stop.stderr.contains("to go on"), stop.stderr)
    }
}

extension ConfirmationTests {
    func testResumeAndRollbackTakeTheConnectionOptionsTheReadmePromises() throws {
        let options = ["--keepalive-interval", "5", "--keepalive-count", "2", "--host-key-policy", "accept-new", "--timeout", "3"]
        // A completed run: nothing to resume, and nothing contacted.
        let resume = try osfarm(["resume", runID, "--state-dir", stateDirectory] + options)
        XCTAssertEqual(resume.status, 0, resume.stdout + resume.stderr)
        let rollback = try osfarm(["rollback", "--yes", "20261204-000000-none", "--state-dir", stateDirectory] + options)
        XCTAssertEqual(rollback.status, 2, rollback.stdout)
        XCTAssertFalse(rollback.stderr.contains("Unknown option"), rollback.stderr)
        XCTAssertTrue(rollback.stderr.contains("20261204-000000-none"), rollback.stderr)
    }
}

extension ConfirmationTests {
    func testVerboseSaysWhatCheckAndPreflightDo() throws {
        for arguments in [["check"], ["move-db", "preflight", "--to", "sqlnew"]] {
            let quiet = try osfarm(arguments + ["-i", inventory, "--timeout", "2"])
            XCTAssertFalse(quiet.stderr.contains("cannot connect to 127.0.0.1:1"), quiet.stderr)
            let verbose = try osfarm(arguments + ["-i", inventory, "--timeout", "2", "--verbose"])
            XCTAssertEqual(verbose.status, 4, verbose.stdout + verbose.stderr)
            for (server, address) in [("dc1", "127.0.0.1:1"), ("fe1", "127.0.0.2:1")] {
                XCTAssertTrue(verbose.stderr.contains("[server=\(server)] cannot connect to \(address)"), "\(arguments): \(verbose.stderr)")
            }
        }
    }
}

extension ConfirmationTests {
    func testServicesStopWhileARunOfThisJumpHostDrivesTheFarmPointsToThatRunNotToAResume() throws {
        let state = directory + "/xdg"
        let farm = try InventoryLoader.load(path: inventory)
        let lock = try FarmLock.acquire(farm: farm.servers, stateDirectory: state + "/osfarm/runs", runID: runID, command: "move-db run")
        var environment = ProcessInfo.processInfo.environment
        environment["XDG_STATE_HOME"] = state
        let stop = try osfarm(["services", "stop", "--yes", "-i", inventory], environment: environment)
        XCTAssertEqual(stop.status, 2, stop.stdout + stop.stderr)
        XCTAssertTrue(stop.stderr.contains("run \(runID) (osfarm process \(getpid()), 'move-db run') is driving this farm"), stop.stderr)
        XCTAssertTrue(stop.stderr.contains("osfarm runs watch \(runID)") && !stop.stderr.contains("osfarm resume"), stop.stderr)
        withExtendedLifetime(lock) {}
    }

    func testRunsWatchOfAFinishedRunPrintsItsSummary() throws {
        let watched = try osfarm(["runs", "watch", runID, "--state-dir", stateDirectory])
        XCTAssertEqual(watched.status, 0, watched.stderr)
        XCTAssertTrue(watched.stdout.contains("run \(runID): completed"), watched.stdout)
    }

    func testShellCompletionsOfferRunIDsAndTheInventorysServersForLimit() throws {
        // How the generated scripts ask osfarm: ---completion, the command path, --, the argument,
        // the index of the word completed, the cursor in it, the words.
        let runs = try osfarm(["---completion", "resume", "--", "positional@0", "4", "0", "osfarm", "resume", "--state-dir", stateDirectory, ""])
        XCTAssertTrue(runs.stdout.contains(runID), runs.stdout + runs.stderr)
        let limit = try osfarm(["---completion", "check", "--", "--limit", "5", "2", "osfarm", "check", "-i", inventory, "--limit", "fe"])
        XCTAssertTrue(limit.stdout.split(separator: "\n").contains("fe1"), limit.stdout + limit.stderr)
        let list = try osfarm(["---completion", "check", "--", "--limit", "5", "6", "osfarm", "check", "-i", inventory, "--limit", "dc1,ro"])
        XCTAssertTrue(list.stdout.split(separator: "\n").contains("dc1,role:front-end"), list.stdout + list.stderr)
    }
}
