import FarmProtocol

/// What the controller makes of the lines an agent writes: its hello first, then, for the request
/// being waited on, zero or more progress events and exactly one result.
///
/// It does no I/O and reads no clock (the session enforces the deadlines), so every hostile
/// sequence of lines can be fed to it in a test: each line is accepted or refused with a typed
/// `AgentSessionError`, never a crash.
///
/// A request given up on (its deadline passed) is remembered for a while: its late progress and
/// result are skipped, not taken for the next request's. Anything else out of place (a result for
/// a request never sent or already answered, a second hello, a line that is not a message) is a
/// protocol violation.
public struct AgentReplyReader: Sendable {
    public enum Reply: Sendable, Equatable {
        case progress(ProgressEvent)
        case result(ResultData)
    }

    /// How many given-up requests are remembered.
    public static let abandonedLimit = 64

    private var pending: (id: String, operation: String)?
    private var abandoned: [String] = []

    public init() {}

    /// The id of the request being waited on.
    public var pendingRequest: String? { pending?.id }

    /// The agent's first line, which must be its hello.
    public static func hello(from item: LineFramer.Item) throws(AgentSessionError) -> Hello {
        guard case let .hello(hello) = try decode(item) else {
            throw .protocolViolation("the agent's first message was not hello")
        }
        return hello
    }

    /// A request was sent; its answer is what `read` looks for from now on.
    public mutating func begin(id: String, operation: String) {
        if let pending { remember(pending.id) }
        pending = (id, operation)
    }

    /// The request waited on was given up: whatever still comes for it will be skipped.
    public mutating func abandonPending() {
        guard let pending else { return }
        remember(pending.id)
        self.pending = nil
    }

    private mutating func remember(_ id: String) {
        abandoned.append(id)
        if abandoned.count > Self.abandonedLimit { abandoned.removeFirst(abandoned.count - Self.abandonedLimit) }
    }

    /// Reads one line. nil when it belonged to a request given up on earlier. Throws
    /// `agentFailed` for the agent's typed error (the stream is still in step after it) and
    /// `protocolViolation` for anything out of place.
    public mutating func read(_ item: LineFramer.Item) throws(AgentSessionError) -> Reply? {
        let message = try Self.decode(item)
        guard let pending else {
            throw .protocolViolation("the agent spoke while no request was waiting")
        }
        let request = "request \(pending.id) (\(pending.operation))"
        switch message {
        case .hello:
            throw .protocolViolation("a second hello while waiting for \(request)")
        case let .progress(id, event):
            if id == pending.id { return .progress(event) }
            if abandoned.contains(id) { return nil }
            throw .protocolViolation("progress for request \(Self.shown(id)) while waiting for \(request)")
        case let .result(id?, outcome) where id == pending.id:
            self.pending = nil
            switch outcome {
            case let .ok(data):
                guard data.operationName == pending.operation else {
                    throw .protocolViolation("the result for \(pending.operation) carries data for \(data.operationName)")
                }
                return .result(data)
            case let .failure(error):
                throw .agentFailed(operation: pending.operation, error)
            }
        case let .result(id?, _):
            if let index = abandoned.firstIndex(of: id) {
                abandoned.remove(at: index)
                return nil
            }
            throw .protocolViolation(
                "a result for request \(Self.shown(id)), which is not waiting (never sent, or already answered), while waiting for \(request)")
        case let .result(nil, .failure(error)):
            throw .protocolViolation("the agent could not read \(request): \(error)")
        case .result(nil, .ok):
            throw .protocolViolation("a result without a request id while waiting for \(request)")
        }
    }

    private static func decode(_ item: LineFramer.Item) throws(AgentSessionError) -> AgentMessage {
        switch item {
        case let .oversize(count):
            throw .protocolViolation(WireError.oversizeLine(byteCount: count).description)
        case let .line(bytes):
            do {
                return try WireCodec.decodeAgentMessage(bytes)
            } catch {
                throw .protocolViolation(error.description)
            }
        }
    }

    /// An id as the agent sent it, cut short for messages.
    private static func shown(_ id: String) -> String {
        id.count > 40 ? "\"\(id.prefix(40))…\"" : "\"\(id)\""
    }
}
