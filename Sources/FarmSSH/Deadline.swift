import Foundation

/// A point on the monotonic clock by which something must be done.
public struct Deadline: Sendable, Comparable {
    public let uptimeNanoseconds: UInt64

    public init(uptimeNanoseconds: UInt64) { self.uptimeNanoseconds = uptimeNanoseconds }

    public static var now: Deadline { Deadline(uptimeNanoseconds: DispatchTime.now().uptimeNanoseconds) }

    /// `seconds` from now. Never traps: NaN and anything not positive is now, anything beyond
    /// `distantFuture` is `distantFuture`.
    public static func after(seconds: Double) -> Deadline {
        let now = DispatchTime.now().uptimeNanoseconds
        guard seconds > 0 else { return Deadline(uptimeNanoseconds: now) }
        let nanoseconds = seconds * 1_000_000_000
        guard now < distantFuture.uptimeNanoseconds, nanoseconds < Double(distantFuture.uptimeNanoseconds - now) else { return .distantFuture }
        return Deadline(uptimeNanoseconds: now + UInt64(nanoseconds))
    }

    /// The earlier of two deadlines.
    public func earlier(than other: Deadline) -> Deadline { Swift.min(self, other) }

    public static let distantFuture = Deadline(uptimeNanoseconds: UInt64.max / 2)

    public var hasPassed: Bool { DispatchTime.now().uptimeNanoseconds >= uptimeNanoseconds }

    /// Milliseconds left, rounded up so a poll never returns just before the deadline; 0 once passed.
    public var remainingMilliseconds: Int32 {
        let now = DispatchTime.now().uptimeNanoseconds
        guard uptimeNanoseconds > now else { return 0 }
        return Int32(min((uptimeNanoseconds - now + 999_999) / 1_000_000, UInt64(Int32.max)))
    }

    public static func < (lhs: Deadline, rhs: Deadline) -> Bool { lhs.uptimeNanoseconds < rhs.uptimeNanoseconds }
}
