import Foundation

/// A phase's `--parallel` places. A server holds one while it works through its steps, gives it
/// back while it waits for a turn another server holds (the next server prepares meanwhile), and
/// takes one again after its turn, ahead of servers that have not started: it is down in the
/// middle of its apply, and bringing it back to serving comes first.
actor PhaseSlots {
    /// Who asks for a place.
    enum Claim {
        /// A server that has not started the phase.
        case start
        /// A server coming back from its turn to finish.
        case finish
    }

    private var free: Int
    private var finishing: [CheckedContinuation<Void, Never>] = []
    private var starting: [CheckedContinuation<Void, Never>] = []

    init(_ count: Int) { free = max(1, count) }

    func acquire(_ claim: Claim) async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiter in
            switch claim {
            case .start: starting.append(waiter)
            case .finish: finishing.append(waiter)
            }
        }
    }

    /// Hands the place on: to a finishing server first, then to the next one to start.
    func release() {
        if !finishing.isEmpty {
            finishing.removeFirst().resume()
        } else if !starting.isEmpty {
            starting.removeFirst().resume()
        } else {
            free += 1
        }
    }
}

/// What a phase's servers have come to so far, shared by the servers' tasks and the loop that
/// starts them: failures are counted as they happen, so a server about to take its turn sees a
/// failure that happened during its wait.
final class PhaseProgress: @unchecked Sendable {
    private let lock = NSLock()
    private var failuresSoFar: [(server: String, message: String)] = []
    private var firstStopReason: String?
    private var held: [String] = []

    var failures: [(server: String, message: String)] { lock.withLock { failuresSoFar } }
    var failureCount: Int { lock.withLock { failuresSoFar.count } }
    var stopReason: String? { lock.withLock { firstStopReason } }
    /// Servers that prepared, waited for their turn, and did not take it (a stop, the window, failures).
    var heldBeforeTurn: [String] { lock.withLock { held } }

    func fail(_ server: String, _ message: String) { lock.withLock { failuresSoFar.append((server, message)) } }
    func stop(_ reason: String) { lock.withLock { firstStopReason = firstStopReason ?? reason } }
    func holdBeforeTurn(_ server: String) { lock.withLock { held.append(server) } }
}
