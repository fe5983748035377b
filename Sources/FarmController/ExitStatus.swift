#if canImport(Glibc)
    @preconcurrency import Glibc
#endif

/// osfarm's exit codes, one meaning each.
public enum ExitStatus: Int32, Sendable, CaseIterable {
    /// Everything asked for was done on every selected server.
    case success = 0
    /// Some servers were reached but failed (an agent error, a failed step).
    case someFailed = 1
    /// Bad command line, inventory, or configuration; nothing was attempted.
    case usage = 2
    /// Stopped by the maintenance window or by the operator.
    case stopped = 3
    /// At least one server could not be reached or trusted (network, host key, authentication).
    case unreachable = 4

    public var meaning: String {
        switch self {
        case .success: return "all done"
        case .someFailed: return "some servers failed"
        case .usage: return "usage or configuration error"
        case .stopped: return "stopped by the maintenance window or the operator"
        case .unreachable: return "some servers unreachable"
        }
    }
}

extension ExitStatus {
    /// Ends osfarm with this status once stdout and stderr are flushed, without the C library's
    /// exit handlers. libssh2's libcrypto registers a cleanup that frees its locks at exit; an SSH
    /// session thread still ending (its libcrypto thread state released as the thread goes) can
    /// then take a freed lock and crash the process after its output, with a signal's exit code
    /// in place of this one. Everything osfarm keeps (journal, debug.log, change record) is written
    /// with plain system calls before this point, so nothing waits on those handlers.
    ///
    /// Only stdout and stderr are flushed: `fflush(NULL)` would also wait for stdin's lock, which a
    /// prompt's read holds while it blocks, so a Ctrl-C at a prompt would wait for Enter.
    public func endProcess() -> Never {
        fflush(stdout)  // print's buffer above all
        fflush(stderr)
        _exit(rawValue)
    }
}
