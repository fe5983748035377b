import FarmProtocol
import Foundation
import Logging

/// The agent's log: timestamped lines on stderr, which the controller drains, keeps a tail of and
/// writes to the run's debug.log. A thin face over swift-log, so the agent's own code stays short.
/// Never give it a secret; requests are logged by operation name only.
public struct AgentLog: Sendable {
    private let logger: Logger

    public init(write: @escaping @Sendable (String) -> Void = AgentLog.standardError, level: Logger.Level = .info) {
        var logger = Logger(label: "osfarm-agent") { _ in AgentLogLine(write: write) }
        logger.logLevel = level
        self.logger = logger
    }

    public func debug(_ message: String) { logger.debug("\(message)") }
    public func info(_ message: String) { logger.info("\(message)") }
    public func warning(_ message: String) { logger.warning("\(message)") }

    @Sendable public static func standardError(_ line: String) {
        try? FileHandle.standardError.write(contentsOf: Data(line.utf8))
    }
}

/// `2026-11-27T16:52:24.123Z osfarm-agent info: message`, one per line.
struct AgentLogLine: LogHandler {
    let write: @Sendable (String) -> Void
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
        let stamp = UTCTimestamp.milliseconds(Date())
        write("\(stamp) osfarm-agent \(level): \(message)\n")
    }
}
