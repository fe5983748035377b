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
    /// How often an idle or waiting session sends an SSH keepalive.
    public var keepaliveInterval: Int

    public init(connect: Double = 10, handshake: Double = 10, authentication: Double = 10, channelOpen: Double = 10,
                close: Double = 2, keepaliveInterval: Int = 15) {
        self.connect = connect
        self.handshake = handshake
        self.authentication = authentication
        self.channelOpen = channelOpen
        self.close = close
        self.keepaliveInterval = keepaliveInterval
    }

    /// Every phase bounded by the same number of seconds.
    public static func uniform(_ seconds: Double) -> SSHTimeouts {
        SSHTimeouts(connect: seconds, handshake: seconds, authentication: seconds, channelOpen: seconds)
    }
}

public struct SSHOptions: Sendable {
    public var knownHostsPath: String
    public var hostKeyPolicy: HostKeyPolicy
    public var authentication: SSHAuthentication
    public var timeouts: SSHTimeouts

    public init(knownHostsPath: String, hostKeyPolicy: HostKeyPolicy = .strict, authentication: SSHAuthentication,
                timeouts: SSHTimeouts = SSHTimeouts()) {
        self.knownHostsPath = knownHostsPath
        self.hostKeyPolicy = hostKeyPolicy
        self.authentication = authentication
        self.timeouts = timeouts
    }
}
