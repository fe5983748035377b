import Foundation

/// Beats every `interval` seconds on a thread of its own until stopped: while a long operation
/// runs, the controller hears that the agent is alive, so its deadline can be "no news for T
/// seconds" rather than a guess at how long the operation may take.
final class Heartbeat: @unchecked Sendable {
    private let condition = NSCondition()
    private var stopped = false

    init(interval: Double, beat: @escaping @Sendable () -> Void) {
        let thread = Thread { [self] in
            condition.lock()
            defer { condition.unlock() }
            while !stopped {
                // A wake-up before the interval is a stop (or spurious): check again.
                if !condition.wait(until: Date().addingTimeInterval(interval)), !stopped {
                    condition.unlock()
                    beat()
                    condition.lock()
                }
            }
        }
        thread.name = "osfarm-heartbeat"
        thread.start()
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }
}
