import Foundation

/// The simulated durations a server imposes (a service's pending state and initialisation, an
/// iisreset, a Configuration Tool run), one JSON line each in `delays.jsonl` in the server's folder.
/// They let a benchmark tell the time a run spent waiting on the simulated Windows from the time it
/// spent around it. Nothing is written for zero durations (the instant profile).
public struct SimulatedDelay: Codable, Sendable, Equatable {
    public var what: String
    /// Seconds since 1970.
    public var start: Double
    public var seconds: Double

    public static let fileName = "delays.jsonl"

    /// Every delay a server recorded, in order (ground truth for tests and benchmarks).
    public static func read(serverDirectory: String) throws -> [SimulatedDelay] {
        guard let text = try? String(contentsOfFile: serverDirectory + "/" + fileName, encoding: .utf8) else { return [] }
        return try text.split(separator: "\n").map { try JSONDecoder().decode(SimulatedDelay.self, from: Data($0.utf8)) }
    }

    /// Appends one delay; a failure to write is ignored (the log is for measurement only).
    static func record(_ what: String, start: Double = Date().timeIntervalSince1970, seconds: Double, serverDirectory: String) {
        guard seconds > 0 else { return }
        // Written by hand (PlainJSON): JSONEncoder's first use is a cost at every emulated program's start.
        LineLog.append(
            .sortedObject([("what", .string(what)), ("start", .number(start)), ("seconds", .number(seconds))]), to: serverDirectory + "/" + fileName)
    }
}
