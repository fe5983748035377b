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
