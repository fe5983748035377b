import FarmProtocol
import Foundation

/// How long the controller waits for one request: `silence` without any message from the agent,
/// `total` in all, whichever comes first.
public struct RequestDeadline: Sendable, Equatable {
    public var silence: Double
    public var total: Double

    public init(silence: Double, total: Double) {
        self.silence = silence
        self.total = total
    }
}

/// The controller's view of one server's agent: what the runbook engine talks to. `AgentSession`
/// is the real one (SSH and the agent binary); the engine's unit tests use a scripted one.
public protocol AgentClient: AnyObject, Sendable {
    /// The agent's heartbeat interval from its hello, nil when it sends none.
    var heartbeatSeconds: Double? { get }

    /// Sends one request (of `context`'s run and step) and waits for its result, passing progress events on.
    func perform(
        _ operation: AgentOperation, context: RequestContext?, deadline: RequestDeadline,
        progress: @escaping @Sendable (ProgressEvent) -> Void
    ) async throws(AgentSessionError) -> ResultData

    /// Ends the agent and the connection.
    func close() async
}

extension AgentClient {
    /// One request outside a run (no run or step to name), its progress events dropped.
    public func perform(_ operation: AgentOperation, deadline: RequestDeadline) async throws(AgentSessionError) -> ResultData {
        try await perform(operation, context: nil, deadline: deadline) { _ in }
    }
}

extension AgentSession: AgentClient {
    public var heartbeatSeconds: Double? { hello.heartbeatSeconds }

    public func perform(
        _ operation: AgentOperation, context: RequestContext?, deadline: RequestDeadline,
        progress: @escaping @Sendable (ProgressEvent) -> Void
    ) async throws(AgentSessionError) -> ResultData {
        try await perform(operation, context: context, timeout: deadline.silence, overall: deadline.total, progress: progress)
    }
}
