import FarmController
import FarmProtocol
import Foundation

/// `osfarm move-db run` in the background.
final class BackgroundRun {
    let process = Process()
    let log: String

    init(_ farm: TestFarm, _ extra: [String] = []) throws {
        log = farm.directory + "/background-\(UUID().uuidString.prefix(6)).log"
        FileManager.default.createFile(atPath: log, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.executableURL = URL(fileURLWithPath: TestFarm.binary("osfarm"))
        process.arguments =
            [
                "move-db", "run", "--yes", "-i", farm.record.inventory, "--to", farm.newDatabase, "--db-restored",
                "--state-dir", farm.stateDirectory,
            ] + extra
        process.standardOutput = output
        process.standardError = output
        try process.run()
    }

    /// Waits until the run's journal shows an entry that satisfies `condition`; its run id.
    func waitFor(_ farm: TestFarm, seconds: Double = 60, _ condition: (JournalEntry) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let id = try? farm.lastRunID(), let entries = try? farm.journal(id), entries.contains(where: condition) { return id }
            guard process.isRunning else { break }
            usleep(20_000)
        }
        throw NeverGotThere(log: (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    func finish() -> (status: Int32, output: String) {
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }
}

struct NeverGotThere: Error, CustomStringConvertible {
    var log: String
    var description: String { "the run never got there: \(log)" }
}
