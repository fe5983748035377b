import Foundation

/// The engine's time: the system's in a real run, a virtual one in the engine's unit tests, so a
/// maintenance window of an hour is tested in milliseconds.
public protocol RunClock: Sendable {
    func now() -> Date
    /// Waits (or, on a virtual clock, lets that much time pass).
    func sleep(seconds: Double) async
}

public struct SystemClock: RunClock {
    public init() {}
    public func now() -> Date { Date() }
    public func sleep(seconds: Double) async {
        guard seconds > 0, seconds.isFinite else { return }
        try? await Task.sleep(nanoseconds: UInt64(min(seconds, 86_400) * 1_000_000_000))
    }
}

/// Lets one holder at a time through: the Configuration Tool's turn, so two servers never run it at
/// once. Of the servers waiting, the one with the highest priority goes next, the first to arrive
/// among equals (see `RunEngine.turnPriority`).
actor AsyncTurn {
    private var busy = false
    private var waiting: [(priority: Int, waiter: CheckedContinuation<Void, Never>)] = []

    func acquire(priority: Int = 0) async {
        guard busy else {
            busy = true
            return
        }
        await withCheckedContinuation { waiting.append((priority, $0)) }
    }

    /// How many wait for the turn now (for tests).
    var waitingCount: Int { waiting.count }

    /// Takes the turn only if nobody holds it; false (and nothing taken) otherwise.
    func tryAcquire() -> Bool {
        guard !busy else { return false }
        busy = true
        return true
    }

    func release() {
        guard let highest = waiting.map(\.priority).max(), let next = waiting.firstIndex(where: { $0.priority == highest }) else {
            busy = false
            return
        }
        waiting.remove(at: next).waiter.resume()
    }
}
