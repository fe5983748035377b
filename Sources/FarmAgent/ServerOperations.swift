import FarmProtocol
import Foundation

/// The typed operations the agent performs on the server it runs on.
public struct ServerOperations: Sendable {
    public typealias ProgressSink = (ProgressEvent) -> Void

    private let facts: @Sendable () -> HostFacts

    public init(facts: @escaping @Sendable () -> HostFacts = HostFactsReader.read) {
        self.facts = facts
    }

    public func hello() -> Hello { Hello(host: facts()) }

    public func perform(_ operation: AgentOperation, progress: ProgressSink) -> Outcome {
        switch operation {
        case let .ping(arguments):
            let hold = arguments.holdMilliseconds ?? 0
            guard (0...PingArguments.maxHoldMilliseconds).contains(hold) else {
                return .failure(AgentError(.invalidArguments, "holdMilliseconds must be 0…\(PingArguments.maxHoldMilliseconds), not \(hold)"))
            }
            if hold > 0 {
                progress(ProgressEvent(step: "ping", message: "holding the answer for \(hold) ms"))
                Thread.sleep(forTimeInterval: Double(hold) / 1000)
            }
            return .ok(.pong(Pong(agentTimeMilliseconds: Int64(Date().timeIntervalSince1970 * 1000))))
        case .inspect:
            return .ok(.inspection(ServerInspection(host: facts())))
        case .shutdown:
            return .ok(.shutdown)
        }
    }
}
