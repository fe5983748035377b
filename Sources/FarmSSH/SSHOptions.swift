import FarmProtocol

/// Where to connect and as whom.
public struct SSHEndpoint: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var user: String

    public init(host: String, port: Int = 22, user: String) {
        self.host = host
        self.port = port
        self.user = user
    }
}

/// How the client proves who it is. Passwords are not offered: keys or ssh-agent only.
public enum SSHAuthentication: Sendable, Equatable {
    /// A private key file; the passphrase, when the key has one, comes from the environment or a prompt.
    case keyFile(path: String, passphrase: Secret?)
    /// The keys offered by the ssh-agent at SSH_AUTH_SOCK.
    case agent
}

/// What to do with a host key that known_hosts does not list.
public enum HostKeyPolicy: String, Sendable, CaseIterable {
    /// Refuse it, before authenticating (the default).
    case strict
    /// Accept it and append it to known_hosts. A changed key is still refused.
    case acceptNew = "accept-new"
}

/// Deadlines of the connection phases, in seconds.
public struct SSHTimeouts: Sendable, Equatable {
    public var connect: Double
    public var handshake: Double
    public var authentication: Double
    public var channelOpen: Double
    /// Bound on a graceful close; after it the socket is dropped.
    public var close: Double
    /// How often, in seconds, a waiting session sends an SSH keepalive (1…3600, `Bounds.keepaliveIntervalSeconds`).
    public var keepaliveInterval: Int
    /// Keepalives in a row the server may leave unanswered (each given a full interval) before the
    /// connection is declared lost, whatever the deadline of the request that waits (1…100,
    /// `Bounds.keepaliveCount`); as OpenSSH's ServerAliveCountMax.
    public var keepaliveCountMax: Int

    public init(
        connect: Double = 10, handshake: Double = 10, authentication: Double = 10, channelOpen: Double = 10,
        close: Double = 2, keepaliveInterval: Int = 15, keepaliveCountMax: Int = 3
    ) {
        self.connect = connect
        self.handshake = handshake
        self.authentication = authentication
        self.channelOpen = channelOpen
        self.close = close
        self.keepaliveInterval = keepaliveInterval
        self.keepaliveCountMax = keepaliveCountMax
    }

    /// Every phase bounded by the same number of seconds.
    public static func uniform(_ seconds: Double, keepaliveInterval: Int = 15, keepaliveCountMax: Int = 3) -> SSHTimeouts {
        SSHTimeouts(
            connect: seconds, handshake: seconds, authentication: seconds, channelOpen: seconds,
            keepaliveInterval: keepaliveInterval, keepaliveCountMax: keepaliveCountMax)
    }

    /// The keepalive settings inside their documented ranges (values from elsewhere are clamped,
    /// never trusted to fit a libssh2 argument).
    var keepalive: (interval: Int, countMax: Int) {
        (Bounds.keepaliveIntervalSeconds.range.clamp(keepaliveInterval), Bounds.keepaliveCount.range.clamp(keepaliveCountMax))
    }
}

public struct SSHOptions: Sendable {
    public var knownHostsPath: String
    public var hostKeyPolicy: HostKeyPolicy
    public var authentication: SSHAuthentication
    public var timeouts: SSHTimeouts

    public init(
        knownHostsPath: String, hostKeyPolicy: HostKeyPolicy = .strict, authentication: SSHAuthentication,
        timeouts: SSHTimeouts = SSHTimeouts()
    ) {
        self.knownHostsPath = knownHostsPath
        self.hostKeyPolicy = hostKeyPolicy
        self.authentication = authentication
        self.timeouts = timeouts
    }
}

extension ClosedRange {
    fileprivate func clamp(_ value: Bound) -> Bound { Swift.min(Swift.max(value, lowerBound), upperBound) }
}
