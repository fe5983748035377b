/// One request from the controller. Every request carries an id that the agent echoes in the
/// progress events and the single final result it sends back.
public struct Request: Sendable, Equatable {
    public var id: String
    public var operation: AgentOperation

    public init(id: String, operation: AgentOperation) {
        self.id = id
        self.operation = operation
    }
}

/// The typed operations the agent can run. There is deliberately no "run this command".
public enum AgentOperation: Sendable, Equatable {
    /// Answer at once (or after holding `holdMilliseconds`, at most a minute: used to measure deadlines).
    case ping(PingArguments)
    /// Report what the agent can read about the server.
    case inspect
    /// Answer, then end the session.
    case shutdown

    /// The name on the wire.
    public var name: String {
        switch self {
        case .ping: return "ping"
        case .inspect: return "inspect"
        case .shutdown: return "shutdown"
        }
    }
}

public struct PingArguments: Codable, Sendable, Equatable {
    public static let maxHoldMilliseconds = 60_000
    public var holdMilliseconds: Int?

    public init(holdMilliseconds: Int? = nil) { self.holdMilliseconds = holdMilliseconds }
}
