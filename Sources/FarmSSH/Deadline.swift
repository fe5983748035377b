import Foundation

/// A point on the monotonic clock by which something must be done.
public struct Deadline: Sendable, Comparable {
    public let uptimeNanoseconds: UInt64

    public init(uptimeNanoseconds: UInt64) { self.uptimeNanoseconds = uptimeNanoseconds }

    public static var now: Deadline { Deadline(uptimeNanoseconds: DispatchTime.now().uptimeNanoseconds) }

    public static func after(seconds: Double) -> Deadline {
        Deadline(uptimeNanoseconds: DispatchTime.now().uptimeNanoseconds &+ UInt64(max(0, seconds) * 1_000_000_000))
    }

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
