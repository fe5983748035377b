/// Everything the agent writes on stdout, one per line.
public enum AgentMessage: Sendable, Equatable {
    /// Sent once, first.
    case hello(Hello)
    /// Zero or more per request, before its result.
    case progress(requestID: String, ProgressEvent)
    /// Exactly one per request. `requestID` is nil only when the request line was too broken to carry one.
    case result(requestID: String?, Outcome)
}
