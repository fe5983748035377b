import CLibSSH2
import FarmProtocol
import Foundation

/// One SSH connection to a server, with at most one exec channel: the shape osfarm needs
/// (one connection and one agent process per server per run).
///
/// Every method is async and runs its libssh2 calls on the connection's own thread, each bounded
/// by a deadline. `close()` always returns within the close timeout.
public final class SSHConnection: @unchecked Sendable {
    public let endpoint: SSHEndpoint
    /// The key the server presented and known_hosts vouched for.
    public let hostKey: HostKey
    /// Negotiated key exchange, host key, cipher and MAC, for the record.
    public let negotiatedAlgorithms: String

    private let core: SessionCore
    private let thread: SessionThread
    private var channel: ChannelCore?
    private let stateLock = NSLock()
    private var closed = false

    private init(core: SessionCore, thread: SessionThread) {
        self.core = core
        self.thread = thread
        endpoint = core.endpoint
        hostKey = core.hostKey!
        negotiatedAlgorithms = core.negotiatedAlgorithms
    }

    /// Connects, checks the host key, authenticates. Throws `SSHError`.
    public static func connect(to endpoint: SSHEndpoint, options: SSHOptions) async throws -> SSHConnection {
        let thread = SessionThread(name: "osfarm-ssh \(endpoint.host):\(endpoint.port)")
        let core = SessionCore(endpoint: endpoint, options: options, thread: thread)
        do {
            try await thread.run { try core.establish() }
        } catch {
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                thread.submit {
                    core.teardown(channel: nil, deadline: .after(seconds: 0.2))
                    done.resume()
                }
            }
            thread.stop()
            throw error
        }
        return SSHConnection(core: core, thread: thread)
    }

    /// The host key a server presents, read without authenticating and without judging it
    /// (for enrolment: the caller shows it and decides).
    public static func scanHostKey(of endpoint: SSHEndpoint, timeouts: SSHTimeouts) async throws -> HostKey {
        let thread = SessionThread(name: "osfarm-scan \(endpoint.host):\(endpoint.port)")
        let options = SSHOptions(knownHostsPath: "/dev/null", authentication: .agent, timeouts: timeouts)
        let core = SessionCore(endpoint: endpoint, options: options, thread: thread)
        defer { thread.stop() }
        do {
            let key = try await thread.run { try core.scanHostKey() }
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                thread.submit {
                    core.teardown(channel: nil, deadline: .after(seconds: timeouts.close))
                    done.resume()
                }
            }
            return key
        } catch {
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                thread.submit {
                    core.teardown(channel: nil, deadline: .after(seconds: 0.2))
                    done.resume()
                }
            }
            throw error
        }
    }

    /// Starts `command` on the server and returns its channel. The command is a fixed string from
    /// configuration (the agent path), never built from user input.
    public func exec(_ command: String) async throws -> ExecChannel {
        let core = self.core
        let opened: ChannelCore = try await thread.run {
            var phase = PhaseClock(logger: core.logger)
            let seconds = core.options.timeouts.channelOpen
            let deadline = Deadline.after(seconds: seconds)
            var raw: OpaquePointer?
            while raw == nil {
                raw = osfarm_channel_open_session(core.session)
                if raw == nil {
                    guard core.lastErrno == LIBSSH2_ERROR_EAGAIN else {
                        throw SSHError.channelFailed("the server refused a session channel: \(core.lastError())")
                    }
                    try core.waitForSession(deadline: deadline, phase: "opening a channel", seconds: seconds)
                }
            }
            let channel = ChannelCore(channel: raw!)
            let rc = try core.retry("starting the agent", seconds, deadline) { osfarm_channel_exec(raw, command) }
            guard rc == 0 else {
                channel.free()
                throw SSHError.channelFailed("the server refused to run the agent: \(core.lastError())")
            }
            phase.done("exec channel open, agent command sent: \(command)")
            return channel
        }
        stateLock.withLock { channel = opened }
        // While nobody awaits a line, keep draining the channel and sending keepalives.
        thread.setIdleHandler { [core] in
            _ = try? opened.pump(core: core, readStdout: true)
            core.idleWait(milliseconds: 500)
        }
        return ExecChannel(core: core, channel: opened, thread: thread)
    }

    /// Closes the channel and the connection; returns within the close timeout.
    public func close() async {
        let channel: ChannelCore?? = stateLock.withLock {
            if closed { return .none }
            closed = true
            return .some(self.channel)
        }
        guard let channel else { return }
        thread.setIdleHandler(nil)
        let core = self.core
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            thread.submit {
                core.teardown(channel: channel, deadline: .after(seconds: core.options.timeouts.close))
                done.resume()
            }
        }
        thread.stop()
    }

    deinit {
        thread.stop()
    }
}

/// A running remote command: its stdin, its stdout as protocol lines, its stderr as a tail.
public final class ExecChannel: @unchecked Sendable {
    private let core: SessionCore
    private let channel: ChannelCore
    private let thread: SessionThread

    init(core: SessionCore, channel: ChannelCore, thread: SessionThread) {
        self.core = core
        self.channel = channel
        self.thread = thread
    }

    /// Writes all of `bytes` to the command's stdin by the deadline.
    public func write(_ bytes: [UInt8], deadline: Deadline, seconds: Double) async throws {
        let core = self.core, channel = self.channel
        try await thread.run { try channel.write(bytes, core: core, deadline: deadline, seconds: seconds) }
    }

    /// The next stdout line (or oversize marker), or nil once stdout has ended.
    /// Throws `SSHError.timedOut` when nothing complete arrives by the deadline.
    public func readLine(deadline: Deadline, seconds: Double, phase: String) async throws -> LineFramer.Item? {
        let core = self.core, channel = self.channel
        return try await thread.run { () throws -> LineFramer.Item? in
            while true {
                if let item = channel.popItem() { return item }
                if channel.stdoutEnded { return channel.finishStdout() }
                if try channel.pump(core: core) {
                    // Data is flowing (stderr, or a line still without its newline): the deadline
                    // holds all the same.
                    if deadline.hasPassed { throw SSHError.timedOut(phase: phase, seconds: seconds) }
                    continue
                }
                try core.waitForSession(deadline: deadline, phase: phase, seconds: seconds)
            }
        }
    }

    public struct Exit: Sendable, Equatable {
        /// The exit status libssh2 reports: 0 also when none arrived, so never proof of success.
        public var status: Int32
        /// The signal that ended the command, when sshd reported one.
        public var signal: String?
    }

    /// Sends EOF, waits for the command to end and returns how it ended.
    public func finish(deadline: Deadline, seconds: Double) async throws -> Exit {
        let core = self.core, channel = self.channel
        let info = try await thread.run { try channel.finish(core: core, deadline: deadline, seconds: seconds) }
        return Exit(status: info.status, signal: info.signal)
    }

    /// How many bytes of stderr came so far.
    public var stderrBytes: Int { channel.stderrTotalBytes }

    /// The last 64 KiB of the command's stderr and the total byte count.
    public var stderr: (tail: String, totalBytes: Int) {
        let snapshot = channel.stderrSnapshot
        return (snapshot.tail, snapshot.total)
    }
}
