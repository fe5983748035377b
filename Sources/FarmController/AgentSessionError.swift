import FarmProtocol
import FarmSSH

/// Why a conversation with a server's agent failed.
public enum AgentSessionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No trusted, authenticated SSH session could be made (network, handshake deadline, host key, auth).
    case unreachable(SSHError)
    /// The transport failed once connected (a deadline, the channel closing under a call).
    case ssh(SSHError)
    /// The server stopped answering once connected (its socket failed or closed, or it left the
    /// SSH keepalives unanswered): like `unreachable`, not a failure of the agent.
    case connectionLost(SSHError)
    /// Nothing at all came from the server for `seconds` while a request waited for its answer:
    /// no answer, no progress, not the heartbeat the agent sends every few seconds while it works,
    /// not a byte of stderr. The connection may still be open, but the server stopped answering
    /// (frozen, or its agent hung): like `connectionLost`, not an answer with a failure.
    case stoppedAnswering(request: String, seconds: Double, heartbeatSeconds: Double)
    /// The agent speaks another major protocol version.
    case versionMismatch(agent: ProtocolVersion, agentVersion: String)
    /// The agent's output ended before it said hello.
    case endedBeforeHello(exit: String, stderrTail: String)
    /// The shell printed something other than the agent's hello first, more than
    /// `ShellPreamble.byteLimit` or with no hello after it (`ended` says how it ended: the
    /// output's end, or the hello's deadline; nil when the limit was passed).
    case shellOutputBeforeHello(printed: String, byteCount: Int, ended: String?)
    /// The agent's output ended while a request waited for its result. Whatever the exit status
    /// says (libssh2 1.10 reports 0 when none arrived), the request did not succeed.
    case endedWithoutResult(request: String, exit: String, stderrTail: String)
    /// The agent broke the protocol: a line that is not a message, too long, or out of place.
    case protocolViolation(String)
    /// The agent answered the request with a typed error.
    case agentFailed(operation: String, AgentError)

    public var description: String {
        switch self {
        case let .unreachable(error), let .ssh(error), let .connectionLost(error):
            return error.description
        case let .stoppedAnswering(request, seconds, heartbeat):
            return
                "the server stopped answering: nothing came for \(Saturating.seconds(seconds)) s while waiting for the answer to \(request), not even the agent's heartbeat (every \(Saturating.seconds(heartbeat)) s); the connection is open but the server or its agent is frozen"
        case let .versionMismatch(agent, version):
            return "agent \(version) speaks protocol \(agent); this osfarm speaks \(ProtocolVersion.current). Update the agent (osfarm agent push)"
        case let .endedBeforeHello(exit, tail):
            return "agent ended before saying hello (\(exit))" + Self.tail(tail)
        case let .shellOutputBeforeHello(printed, count, ended):
            let how = ended.map { "then \($0), without the agent's hello" } ?? "more than the \(ShellPreamble.byteLimit / 1024) KiB osfarm skips"
            return "the server's shell printed \(count) bytes before the agent's hello (\(how)): \"\(printed)\". \(ShellPreamble.sources)"
        case let .endedWithoutResult(request, exit, tail):
            return "agent ended without a result for \(request) (\(exit))" + Self.tail(tail)
        case let .protocolViolation(detail):
            return "protocol violation: \(detail)"
        case let .agentFailed(operation, error):
            return "\(operation) failed: \(error.message) [\(error.code.rawValue)]"
        }
    }

    /// True when the server could not be reached or trusted, or stopped answering once reached,
    /// as opposed to failing while it answered (exit code 4 rather than 1).
    public var isUnreachable: Bool {
        switch self {
        case .unreachable, .connectionLost, .stoppedAnswering: return true
        default: return false
        }
    }

    /// True when the server stopped answering during the session.
    public var isConnectionLost: Bool {
        if case .connectionLost = self { return true }
        return false
    }

    /// True when the server itself is gone for this run (unreachable, its connection lost or
    /// dropped), as opposed to the agent answering with an error or staying silent on a live
    /// connection: a run reports it as unreachable (exit 4).
    public var isServerLost: Bool {
        switch self {
        case .unreachable, .connectionLost, .stoppedAnswering: return true
        case let .ssh(error):
            switch error {
            case .disconnected, .channelFailed: return true
            default: return false
            }
        case .versionMismatch, .endedBeforeHello, .shellOutputBeforeHello, .endedWithoutResult, .protocolViolation, .agentFailed: return false
        }
    }

    /// A short stable code for JSON documents.
    public var code: String {
        switch self {
        case let .unreachable(error), let .ssh(error):
            switch error {
            case .timedOut: return "timed_out"
            case .hostKeyUnknown, .hostKeyChanged, .hostKeyRevoked, .knownHosts: return "host_key"
            case .authenticationFailed, .rsaKeyRefused, .keyFile: return "authentication"
            case .resolveFailed, .connectFailed, .handshakeFailed: return "unreachable"
            case .channelFailed, .disconnected, .protocolLine, .cancelled: return "connection"
            case .connectionLost: return "connection_lost"
            }
        case .connectionLost: return "connection_lost"
        case .stoppedAnswering: return "stopped_answering"
        case .versionMismatch: return "version_mismatch"
        case .endedBeforeHello, .endedWithoutResult: return "agent_ended"
        case .shellOutputBeforeHello: return "shell_output"
        case .protocolViolation: return "protocol_violation"
        case let .agentFailed(_, error): return error.code.rawValue
        }
    }

    private static func tail(_ text: String) -> String {
        let lines = text.split(separator: "\n").suffix(3).joined(separator: " | ")
        return lines.isEmpty ? "" : "; its last stderr: \(lines.suffix(300))"
    }
}

extension AgentSessionError {
    /// Any error from a session call, as an AgentSessionError.
    public static func wrap(_ error: Error) -> AgentSessionError {
        switch error {
        case let error as AgentSessionError: return error
        case let error as SSHError:
            if case .connectionLost = error { return .connectionLost(error) }
            return .ssh(error)
        case let error as WireError: return .protocolViolation(error.description)
        default: return .protocolViolation("\(error)")
        }
    }
}
