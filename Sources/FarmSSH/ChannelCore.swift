import CLibSSH2
import FarmProtocol
import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// The state of one exec channel, used only on its session's thread.
///
/// Both stdout and stderr are read on every pump: libssh2 counts both against one channel window,
/// so an unread stderr would stall stdout. Stdout is framed into protocol lines; stderr is kept as
/// a bounded tail for diagnostics (and counted).
final class ChannelCore: @unchecked Sendable {
    static let stderrTailLimit = 64 * 1024
    /// Lines buffered while nobody is reading; beyond this the idle pump stops reading stdout and
    /// the channel window pushes back on the agent.
    static let idleBufferLimit = 4 * WireCodec.maxLineBytes

    private(set) var channel: OpaquePointer?
    /// Reports a line over the limit as soon as it passes it: an agent that never sends a newline
    /// fails its request at once instead of filling memory.
    private var framer = LineFramer(reportsOversizeAtLimit: true)
    private var items: [LineFramer.Item] = []
    private var itemHead = 0
    private var bufferedBytes = 0
    private(set) var stdoutEnded = false
    private var freed = false
    private let stderrLock = NSLock()
    private var stderrTail: [UInt8] = []
    private var stderrTotal = 0
    /// One read's worth. Kept small: every server's channel has one for the whole run (128 of
    /// them at 32 KiB were 4 MiB of the controller's peak); the pump reads it in rounds.
    private var buffer = [CChar](repeating: 0, count: ChannelCore.readBytes)
    private static let readBytes = 8 * 1024
    /// What one pump reads of each stream at most, in `readBytes` rounds, before its caller
    /// checks the deadline again. At least a channel window's worth of stderr, so the stderr an
    /// agent wrote before its answer has been counted when the answer is read.
    private static let roundsPerPump = (2 * 1024 * 1024) / readBytes  // LIBSSH2_CHANNEL_WINDOW_DEFAULT

    init(channel: OpaquePointer) { self.channel = channel }

    var stderrSnapshot: (tail: String, total: Int) {
        stderrLock.lock()
        defer { stderrLock.unlock() }
        return (String(decoding: stderrTail, as: UTF8.self), stderrTotal)
    }

    /// How many stderr bytes came so far (without decoding the tail).
    var stderrTotalBytes: Int {
        stderrLock.lock()
        defer { stderrLock.unlock() }
        return stderrTotal
    }

    func popItem() -> LineFramer.Item? {
        guard itemHead < items.count else { return nil }
        let item = items[itemHead]
        itemHead += 1
        if case let .line(bytes) = item { bufferedBytes -= bytes.count }
        if itemHead > 64 && itemHead * 2 > items.count {
            items.removeFirst(itemHead)
            itemHead = 0
        }
        return item
    }

    /// The unterminated rest of stdout once it has ended.
    func finishStdout() -> LineFramer.Item? { framer.finish() }

    /// Reads what is available without blocking, a bounded amount per call (so a caller checks
    /// its deadline between calls however fast the agent writes). Returns true if anything was read.
    func pump(core: SessionCore, readStdout: Bool = true) throws -> Bool {
        guard let channel else { return false }
        var progressed = false
        // stderr first, every time: it is never allowed to hold the window.
        var stderrRounds = 0
        while stderrRounds < Self.roundsPerPump {
            stderrRounds += 1
            let n = buffer.withUnsafeMutableBufferPointer { osfarm_channel_read_stderr(channel, $0.baseAddress, $0.count) }
            if n > 0 {
                progressed = true
                appendStderr(Int(n))
                continue
            }
            if n == 0 || Int32(n) == LIBSSH2_ERROR_EAGAIN { break }
            throw core.failure("reading the agent's stderr")
        }
        if readStdout && !stdoutEnded {
            var rounds = 0
            while rounds < Self.roundsPerPump && bufferedBytes < Self.idleBufferLimit {
                rounds += 1
                let n = buffer.withUnsafeMutableBufferPointer { osfarm_channel_read_stdout(channel, $0.baseAddress, $0.count) }
                if n > 0 {
                    progressed = true
                    let fed = buffer.withUnsafeBufferPointer { read in
                        read.withMemoryRebound(to: UInt8.self) { framer.feed(contiguous: UnsafeBufferPointer(rebasing: $0[0..<Int(n)])) }
                    }
                    for item in fed {
                        items.append(item)
                        if case let .line(line) = item { bufferedBytes += line.count }
                    }
                    continue
                }
                if Int32(n) == LIBSSH2_ERROR_EAGAIN { break }
                if n == 0 {
                    if libssh2_channel_eof(channel) != 0 {
                        stdoutEnded = true
                        progressed = true
                    }
                    break
                }
                throw core.failure("reading the agent's output")
            }
        }
        return progressed
    }

    private func appendStderr(_ count: Int) {
        stderrLock.lock()
        defer { stderrLock.unlock() }
        stderrTotal += count
        stderrTail.append(contentsOf: buffer[0..<count].map { UInt8(bitPattern: $0) })
        if stderrTail.count > Self.stderrTailLimit * 2 {
            stderrTail.removeFirst(stderrTail.count - Self.stderrTailLimit)
        }
    }

    /// Writes all of `bytes`, pumping reads while the window is full so neither side can deadlock.
    func write(_ bytes: [UInt8], core: SessionCore, deadline: Deadline, seconds: Double) throws {
        guard let channel else { throw SSHError.disconnected("the channel is closed") }
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBufferPointer { pointer in
                pointer.withMemoryRebound(to: CChar.self) { osfarm_channel_write_stdin(channel, $0.baseAddress, $0.count) }
            }
            if n > 0 {
                offset += Int(n)
                continue
            }
            guard Int32(n) == LIBSSH2_ERROR_EAGAIN else {
                throw core.failure("writing to the agent")
            }
            if try pump(core: core) {
                if deadline.hasPassed { throw SSHError.timedOut(phase: "sending to the agent", seconds: seconds) }
                continue
            }
            try core.waitForSession(deadline: deadline, phase: "sending to the agent", seconds: seconds)
        }
    }

    struct ExitInfo: Sendable {
        var status: Int32
        var signal: String?
    }

    /// Sends EOF, reads to the end, waits for the close and reads the exit status; bounded by `deadline`.
    func finish(core: SessionCore, deadline: Deadline, seconds: Double) throws -> ExitInfo {
        guard let channel else { throw SSHError.disconnected("the channel is closed") }
        try core.retry("closing the agent's input", seconds, deadline) { libssh2_channel_send_eof(channel) }
        while !stdoutEnded {
            // Nobody reads these lines any more: drop them, so an agent that keeps talking cannot
            // fill memory while it is asked to end.
            while popItem() != nil {}
            if try pump(core: core) {
                if deadline.hasPassed { throw SSHError.timedOut(phase: "waiting for the agent to end", seconds: seconds) }
                continue
            }
            try core.waitForSession(deadline: deadline, phase: "waiting for the agent to end", seconds: seconds)
        }
        try core.retry("waiting for the channel to close", seconds, deadline) { libssh2_channel_wait_closed(channel) }
        var signalName: UnsafeMutablePointer<CChar>?
        var signalLength = 0
        libssh2_channel_get_exit_signal(channel, &signalName, &signalLength, nil, nil, nil, nil)
        let signal = signalName.map { String(cString: $0) }
        if let signalName { Glibc.free(signalName) }
        return ExitInfo(status: libssh2_channel_get_exit_status(channel), signal: signal)
    }

    /// Closes politely within the deadline; gives up silently after it.
    func close(core: SessionCore, deadline: Deadline) {
        guard let channel, !freed else { return }
        _ = try? core.retry("closing the channel", core.options.timeouts.close, deadline) { libssh2_channel_close(channel) }
    }

    func free() {
        guard let channel, !freed else { return }
        freed = true
        // After teardown shut the socket down this returns at once (no EAGAIN is possible).
        var attempts = 0
        while libssh2_channel_free(channel) == LIBSSH2_ERROR_EAGAIN && attempts < 3 { attempts += 1 }
        self.channel = nil
    }
}
