import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// The dedicated thread that owns one libssh2 session.
///
/// libssh2 lets one thread at a time use a session and its channels, and its calls must never run
/// on Swift's cooperative pool (two threads here: two parked calls would freeze every task). So each
/// connection gets this thread: async callers hand it jobs and await their results, and between
/// jobs it runs an idle handler (pump the channel, send keepalives) that waits in poll() with a
/// wake-up pipe, so a new job or a cancellation interrupts it at once.
final class SessionThread: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [() -> Void] = []
    private var stopping = false
    private var idleHandler: (() -> Void)?
    private var cancelled = false
    let wake = WakePipe()

    init(name: String) {
        let thread = Thread { [self] in loop() }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Runs `body` on the session thread and returns its result.
    func run<T: Sendable>(_ body: @escaping () throws -> T) async throws -> T {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
                submit { continuation.resume(with: Result { try body() }) }
            }
        } onCancel: {
            cancel()
        }
    }

    func submit(_ job: @escaping () -> Void) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
        wake.signal()
    }

    /// Called on the session thread whenever no job is queued; it must return within about a second.
    func setIdleHandler(_ handler: (() -> Void)?) {
        condition.lock()
        idleHandler = handler
        condition.signal()
        condition.unlock()
    }

    /// Makes the current and every later wait fail with `SSHError.cancelled`.
    func cancel() {
        condition.lock()
        cancelled = true
        condition.unlock()
        wake.signal()
    }

    var isCancelled: Bool {
        condition.lock()
        defer { condition.unlock() }
        return cancelled
    }

    /// Ends the thread once the queued jobs have run.
    func stop() {
        condition.lock()
        stopping = true
        idleHandler = nil
        condition.signal()
        condition.unlock()
        wake.signal()
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping && idleHandler == nil { condition.wait() }
            if !jobs.isEmpty {
                let job = jobs.removeFirst()
                condition.unlock()
                job()
                continue
            }
            if stopping {
                condition.unlock()
                wake.close()
                return
            }
            let idle = idleHandler
            condition.unlock()
            idle?()
        }
    }
}

/// A self-pipe that wakes a poll() on another thread.
final class WakePipe: @unchecked Sendable {
    let readEnd: Int32
    private let writeEnd: Int32
    private let lock = NSLock()
    private var closed = false

    init() {
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) != 0 { fatalError("pipe failed: \(errno)") }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        readEnd = fds[0]
        writeEnd = fds[1]
    }

    func signal() {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return }
        var byte: UInt8 = 1
        _ = Glibc.write(writeEnd, &byte, 1)
    }

    func drain() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while Glibc.read(readEnd, &buffer, buffer.count) > 0 {}
    }

    func close() {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return }
        closed = true
        _ = Glibc.close(readEnd)
        _ = Glibc.close(writeEnd)
    }
}
