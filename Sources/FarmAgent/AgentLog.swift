import Foundation

/// The agent's log: timestamped lines on stderr, which the controller drains and keeps a tail of.
/// Never give it a secret; requests are logged by operation name only.
public struct AgentLog: Sendable {
    private let write: @Sendable (String) -> Void

    public init(write: @escaping @Sendable (String) -> Void = AgentLog.standardError) {
        self.write = write
    }

    public func info(_ message: String) { emit("info", message) }
    public func warning(_ message: String) { emit("warning", message) }

    private func emit(_ level: String, _ message: String) {
        let stamp = ISO8601DateFormatter.string(from: Date(), timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withInternetDateTime, .withFractionalSeconds])
        write("\(stamp) osfarm-agent \(level): \(message)\n")
    }

    @Sendable public static func standardError(_ line: String) {
        try? FileHandle.standardError.write(contentsOf: Data(line.utf8))
    }
}
