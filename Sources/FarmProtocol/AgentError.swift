/// The stable codes of errors the agent reports. Automation may match on `rawValue`;
/// they never change meaning once released.
public enum AgentErrorCode: String, Codable, Sendable, CaseIterable {
    /// The line was not JSON, or not a request object.
    case malformedRequest = "malformed_request"
    /// The request names an operation this agent does not know.
    case unknownOperation = "unknown_operation"
    /// The request line was longer than `WireCodec.maxLineBytes`.
    case oversizeRequest = "oversize_request"
    /// The request's envelope is out of its bounds: an `id` or `op` longer than
    /// `RequestEchoBounds` allows (an answer echoes them, and must fit in one line).
    case invalidRequest = "invalid_request"
    /// The operation's arguments are missing or wrong.
    case invalidArguments = "invalid_arguments"
    /// The request was made for another major protocol version.
    case versionMismatch = "version_mismatch"
    /// The operation ran and failed; the message says why.
    case operationFailed = "operation_failed"
    /// A deadline passed before the operation finished.
    case timedOut = "timed_out"
    /// Something on the server is not as the operation needs it (missing file, service, tool).
    case notFound = "not_found"
    /// The agent itself failed unexpectedly.
    case internalError = "internal_error"
    /// Another run holds the server (its run id is in the message): one run changes a server at a time.
    case serverBusy = "server_busy"
    /// The operation ran, but its answer would not fit in one protocol line (`WireCodec.maxLineBytes`).
    case oversizeResult = "oversize_result"
}

/// A typed error as it travels in a result: a stable code and a message for humans.
public struct AgentError: Error, Codable, Sendable, Equatable, CustomStringConvertible {
    public var code: AgentErrorCode
    public var message: String
    /// Supporting lines, e.g. the tail of a tool's log.
    public var detail: [String]?

    public init(_ code: AgentErrorCode, _ message: String, detail: [String]? = nil) {
        self.code = code
        self.message = message
        self.detail = detail
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
