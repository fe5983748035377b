import FarmProtocol
import Foundation

/// What `rollback` is about to do, shown before it asks to go on: which servers stop, and whether
/// the farm serves now (a rollback of a completed run takes a serving farm down).
public struct RollbackSummary: Sendable {
    public var runID: String
    public var lifecycle: RunLifecycle
    public var servers: [String]
    /// The run's deployment controller: what the operator types to go on.
    public var controller: String
    public var from: String?
    public var targets: DatabaseTargets
    /// Servers serving now, of those the rollback stops.
    public var serving: [String]

    public var text: String {
        let now =
            serving.isEmpty
            ? "not serving (the run left them stopped or repointed)"
            : "\(serving.joined(separator: ", ")) serving now; \(serving.count == 1 ? "it stops" : "they stop")"
        return """
            About to roll back run \(runID) (\(lifecycle.rawValue)). IIS and the platform services stop on every server below at once,
            then each is put back on \(from ?? "the old database") and started again.
              servers   \(servers.joined(separator: ", "))
              back      \(targets) → \(from ?? "?")
              now       \(now)

            """
    }
}
