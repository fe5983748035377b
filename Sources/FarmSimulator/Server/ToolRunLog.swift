import Foundation

/// Each Configuration Tool run on a simulated server, as a start and an end line in
/// `configuration-tool-runs.jsonl` (appended with O_APPEND, so concurrent runs interleave whole
/// lines). Ground truth for the rule that two runs never overlap on a server.
public enum ToolRunLog {
    static let fileName = "configuration-tool-runs.jsonl"

    struct Line: Codable {
        var pid: Int32
        var event: String
        var time: Double
    }

    static func record(_ event: String, serverDirectory: String) {
        // Written by hand (PlainJSON): JSONEncoder's first use is a cost at every emulated program's start.
        let fields: [(String, PlainJSON?)] = [
            ("pid", .number(Double(getpid()))), ("event", .string(event)), ("time", .number(Date().timeIntervalSince1970)),
        ]
        LineLog.append(.sortedObject(fields), to: serverDirectory + "/" + fileName)
    }

    /// The most runs that were ever going at once on the server, and how many runs there were.
    public static func concurrency(serverDirectory: String) -> (maximum: Int, runs: Int) {
        guard let text = try? String(contentsOfFile: serverDirectory + "/" + fileName, encoding: .utf8) else { return (0, 0) }
        var running = 0, maximum = 0, runs = 0
        for line in text.split(separator: "\n") {
            guard let entry = try? JSONDecoder().decode(Line.self, from: Data(line.utf8)) else { continue }
            if entry.event == "start" {
                running += 1
                runs += 1
                maximum = max(maximum, running)
            } else {
                running -= 1
            }
        }
        return (maximum, runs)
    }
}
