import FarmProtocol
import Foundation

/// Everything that can go wrong between the controller and a server's sshd, each with a message
/// an operator can act on.
public enum SSHError: Error, Sendable, Equatable, CustomStringConvertible {
    case resolveFailed(host: String, reason: String)
    case connectFailed(host: String, port: Int, reason: String)
    /// A phase did not finish by its deadline.
    case timedOut(phase: String, seconds: Double)
    case handshakeFailed(String)
    case hostKeyUnknown(host: String, port: Int, keyType: String, fingerprint: String, knownHosts: String)
    case hostKeyChanged(host: String, port: Int, keyType: String, fingerprint: String, knownHosts: String, lines: [Int])
    case hostKeyRevoked(host: String, port: Int, keyType: String, fingerprint: String, knownHosts: String, line: Int)
    case knownHosts(KnownHostsError)
    case keyFile(path: String, reason: String)
    case authenticationFailed(user: String, detail: String)
    /// The server refused an RSA key: libssh2 1.10 signs with ssh-rsa (SHA-1) only.
    case rsaKeyRefused(user: String, keyPath: String)
    case channelFailed(String)
    /// The channel or the session ended under a call (the agent's channel closed, a poll failed).
    case disconnected(String)
    /// The server is gone: its socket failed or closed, or it left the SSH keepalives unanswered.
    case connectionLost(String)
    case protocolLine(String)
    case cancelled

    public var description: String {
        switch self {
        case let .resolveFailed(host, reason):
            return "cannot resolve \(host): \(reason). Check the name in the inventory and this jump host's DNS"
        case let .connectFailed(host, port, reason):
            return "cannot connect to \(host):\(port): \(reason). Check the network path from this jump host to \(host) and that "
                + "sshd runs there on port \(port) (on the server: Get-Service sshd; its firewall rule must let this jump host in)"
        case let .timedOut(phase, seconds):
            let hint =
                phase.hasPrefix("TCP connect") || phase.hasPrefix("SSH handshake")
                ? ". Check the network path to the server and that its sshd answers (on the server: Get-Service sshd)" : ""
            return "\(phase) did not finish within \(Self.format(seconds)) s (deadline)" + hint
        case let .handshakeFailed(reason):
            return "SSH handshake failed: \(reason)"
        case let .hostKeyUnknown(host, port, type, fingerprint, file):
            return "host key of \(Self.name(host, port)) is not in \(file) (\(type) key \(fingerprint)); refusing before authentication. "
                + "Compare the fingerprint out of band with the server's administrator (on the server: ssh-keygen -lf "
                + "C:\\ProgramData\\ssh\\ssh_host_ed25519_key.pub), then enrol it with 'osfarm hosts enroll'"
        case let .hostKeyChanged(host, port, type, fingerprint, file, lines):
            return "HOST KEY CHANGED for \(Self.name(host, port)): it offered \(type) key \(fingerprint), which does not match "
                + "\(file) line\(lines.count == 1 ? "" : "s") \(lines.map(String.init).joined(separator: ", ")). "
                + "This can be an attack; refusing. Compare the fingerprint out of band with the server's administrator (on the server: "
                + "ssh-keygen -lf C:\\ProgramData\\ssh\\ssh_host_ed25519_key.pub); only if the server was really re-keyed, remove the old "
                + "entry by hand, then enrol the new key with 'osfarm hosts enroll'"
        case let .hostKeyRevoked(host, port, type, fingerprint, file, line):
            return "host key of \(Self.name(host, port)) (\(type) \(fingerprint)) is marked @revoked in \(file) line \(line); refusing"
        case let .knownHosts(error):
            return error.description
        case let .keyFile(path, reason):
            return "client key \(path): \(reason)"
        case let .authenticationFailed(user, detail):
            return "authentication as \(user) failed: \(detail)"
        case let .rsaKeyRefused(user, path):
            return "the server refused the RSA key \(path) for \(user): libssh2 1.10 cannot sign with rsa-sha2-256/512, "
                + "and OpenSSH 8.8 and later refuse ssh-rsa (SHA-1) signatures. Use an Ed25519 key (ssh-keygen -t ed25519)"
        case let .channelFailed(reason):
            return "cannot run the agent: \(reason)"
        case let .disconnected(reason):
            return "connection lost: \(reason)"
        case let .connectionLost(reason):
            return "connection to the server lost: \(reason)"
        case let .protocolLine(reason):
            return reason
        case .cancelled:
            return "cancelled"
        }
    }

    static func name(_ host: String, _ port: Int) -> String { port == 22 ? host : "[\(host)]:\(port)" }

    static func format(_ seconds: Double) -> String {
        Saturating.seconds(seconds)
    }
}
