import FarmController
import FarmProtocol
import Foundation
import XCTest

/// The controller killed after each journal entry of a whole run, and in the middle of writing
/// each one (a torn last line), then `resume` and `rollback` through the jobs the CLI runs
/// (`DatabaseMove`: the run's folder, its lock, its journal opened again for writing and its torn
/// line cut) against scripted agents on a virtual clock: every crash point, both ways, in
/// milliseconds. Each recovery must reach its end state by the model's account, never start again
/// a step the journal shows done, and never run two Configuration Tools at once on a server.
/// A step the journal shows started but not finished may or may not have reached the server, so
/// every point is recovered from both. (`make soak` sweeps the same points against real sshd and
/// the simulator: CrashSweepTests.)
final class CrashPointTests: XCTestCase {
    private enum Way: String, CaseIterable { case resume, rollback }

    private struct Point: CustomStringConvertible {
        var entries: Int
        var torn: Bool
        var reachedServer: Bool
        var description: String {
            (torn ? "in the middle of entry \(entries + 1)" : "after entry \(entries)") + (reachedServer ? ", the step in flight done" : "")
        }
    }

    private var directory = ""

    override func setUpWithError() throws {
        // The journal fsyncs every line: in memory, the sweep's thousands of lines cost nothing.
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm/" : NSTemporaryDirectory()
        directory = base + "osfarm-crash-points-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A farm whose run record names an inventory file that exists (resume and rollback read it).
    private func farm() throws -> ScriptedFarm {
        var farm = ScriptedFarm(frontEnds: 1)
        farm.inventoryPath = directory + "/farm.yaml"
        if !FileManager.default.fileExists(atPath: farm.inventoryPath) {
            try farm.inventoryText(knownHosts: directory + "/known_hosts").write(toFile: farm.inventoryPath, atomically: true, encoding: .utf8)
        }
        return farm
    }

    func testEveryCrashPointResumesAndRollsBackFromItsJournal() async throws {
        // A whole run into a real journal, as `move-db run` writes it.
        let reference = try farm()
        let referenceState = directory + "/reference"
        let journal = try RunJournal.create(reference.record, stateDirectory: referenceState)
        try journal.append(JournalEntry(server: nil, step: "preflight", event: .finished, message: "2 servers ready; farm on sqlold"))
        let outcome = try await reference.engine(journal).run()
        XCTAssertEqual(outcome, .completed)
        let runJSON = try XCTUnwrap(FileManager.default.contents(atPath: journal.directory + "/run.json"))
        let bytes = try XCTUnwrap(FileManager.default.contents(atPath: journal.journalPath))
        let lines = bytes.split(separator: UInt8(ascii: "\n")).map { Data($0) + Data("\n".utf8) }
        let entries = try journal.entries()
        XCTAssertEqual(lines.count, entries.count)
        XCTAssertGreaterThan(entries.count, 40)

        var points: [Point] = []
        for count in 1..<entries.count {
            // Whether the step in flight reached its server matters only when one was in flight.
            let prefix = entries[..<count]
            let inFlight = prefix.contains { entry in
                entry.server != nil && entry.event == .started
                    && !prefix.contains { $0.server == entry.server && $0.step == entry.step && $0.event == .finished }
            }
            for torn in [false, true] {
                for reachedServer in inFlight ? [false, true] : [false] {
                    points.append(Point(entries: count, torn: torn, reachedServer: reachedServer))
                }
            }
        }
        var recoveries = 0
        for point in points {
            for way in Way.allCases {
                try await check(point, way, runJSON: runJSON, lines: lines, entries: entries)
                recoveries += 1
            }
        }
        XCTAssertGreaterThan(points.filter(\.reachedServer).count, entries.count / 3)
        XCTAssertEqual(recoveries, points.count * 2)
        print("crash points in the engine: \(points.count) (\(entries.count - 1) after an entry, as many torn), each resumed and rolled back")
    }

    private func check(_ point: Point, _ way: Way, runJSON: Data, lines: [Data], entries: [JournalEntry]) async throws {
        let farm = try farm()
        let label = "\(way) \(point)"
        // The run's folder as the crash left it.
        let state = directory + "/\(way)-\(point.entries)-\(point.torn)-\(point.reachedServer)"
        let runDirectory = state + "/" + farm.record.runID
        try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
        try runJSON.write(to: URL(fileURLWithPath: runDirectory + "/run.json"))
        var journal = lines[..<point.entries].reduce(Data(), +)
        if point.torn { journal += lines[point.entries].prefix(lines[point.entries].count / 2) }
        try journal.write(to: URL(fileURLWithPath: runDirectory + "/journal.jsonl"))
        // The servers as the crashed run left them.
        let prefix = Array(entries[..<point.entries])
        for server in farm.servers { farm.agents[server.name]!.replay(prefix.filter { $0.server == server.name }, unfinished: point.reachedServer) }

        let interaction = RunInteraction(
            makeObserver: { _ in SilentObserver() }, interrupt: OperatorInterrupt(), confirmRestore: nil, adminPassword: { _ in nil },
            clock: farm.clock)
        let settings: (Inventory) throws -> ConnectionSettings = { ConnectionSettings(knownHostsPath: $0.knownHostsPath, timeout: 10) }
        let result: DatabaseMove.Result
        switch way {
        case .resume:
            result = try await DatabaseMove.resume(
                runID: farm.record.runID, stateDirectory: state, settingsFor: settings, databaseRestored: false, adminPasswordVariable: nil,
                interaction: interaction, connector: farm.connector)
        case .rollback:
            result = try await DatabaseMove.rollback(
                runID: farm.record.runID, stateDirectory: state, limit: nil, settingsFor: settings, interaction: interaction,
                connector: farm.connector)
        }
        XCTAssertEqual(result.status, .success, "\(label): \(result.text)")

        let after = try RunJournal.open(runID: farm.record.runID, stateDirectory: state, forWriting: false).2
        XCTAssertEqual(Array(after.prefix(prefix.count)), prefix, "\(label): the journal kept what was written before the crash")
        let doneBefore = Set(prefix.filter { $0.event == .finished && $0.server != nil }.map { "\($0.server!)/\($0.step)" })
        let repeated = after.dropFirst(prefix.count).filter { $0.event == .started && $0.server != nil && doneBefore.contains("\($0.server!)/\($0.step)") }
        XCTAssertEqual(repeated.map { "\($0.server!)/\($0.step)" }, [], "\(label): a done step started again")
        let expected = way == .resume ? "sqlnew" : "sqlold"
        for agent in farm.agents.values {
            XCTAssertEqual(agent.database, expected, "\(label): \(agent.name)")
            XCTAssertTrue(agent.servicesRunning && agent.iisRunning, "\(label): \(agent.name) not serving")
            XCTAssertEqual(agent.overlappingConfigurationTools, 0, "\(label): \(agent.name) ran two Configuration Tools at once")
        }
    }
}
