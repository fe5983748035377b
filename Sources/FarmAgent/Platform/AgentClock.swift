import Foundation

/// The time the agent's waits read and sleep on: the wall clock on a server, a virtual one in
/// tests, so a wait of minutes (a stuck service, a locked machine.config, a platform slow to
/// initialise) is checked in milliseconds, poll by poll.
public protocol AgentClock: Sendable {
    var now: Date { get }
    func sleep(seconds: Double)
}

/// The wall clock.
public struct SystemClock: AgentClock {
    public init() {}
    public var now: Date { Date() }
    public func sleep(seconds: Double) { Thread.sleep(forTimeInterval: seconds) }
}
