import Foundation

/// What the restore gate asks the operator, and the downtime it shows while it waits: the farm is
/// down the whole time the DBA restores, so the question keeps that time in view.
public struct RestoreGateQuestion: Sendable, Equatable {
    /// The new database server, as the operator types it to confirm.
    public var target: String
    /// Since when no front-end has served (nil when some front-end still serves).
    public var farmDownSince: Date?

    public init(target: String, farmDownSince: Date?) {
        self.target = target
        self.farmDownSince = farmDownSince
    }

    /// The counter line shown above the question, as it reads at `now`.
    public func downtimeLine(at now: Date) -> String? {
        guard let since = farmDownSince else { return nil }
        let formatter = DateFormatter()
        formatter.dateFormat = "HH:mm:ss"
        return "farm down \(LiveView.clock(now.timeIntervalSince(since))) (no front-end has served since \(formatter.string(from: since)))"
    }
}
