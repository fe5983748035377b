import FarmProtocol
import FarmSSH

/// The farm as the operator described it: every server osfarm may touch and how to reach it.
public struct Inventory: Sendable {
    /// The file it was read from, for messages.
    public var path: String
    public var knownHostsPath: String
    public var servers: [ServerEntry]
    /// A replica's inventory (`replica.snapshot`): the snapshot it was built from. Its servers are
    /// all loopback addresses (the loader refuses any other).
    public var replicaOf: String?

    public init(path: String, knownHostsPath: String, servers: [ServerEntry]) {
        self.path = path
        self.knownHostsPath = knownHostsPath
        self.servers = servers
    }
}

/// One server of the inventory, defaults applied.
public struct ServerEntry: Sendable, Equatable {
    public var name: String
    public var host: String
    public var port: Int
    public var user: String
    /// A private key file, or nil to use ssh-agent.
    public var identity: String?
    public var role: ServerRole
    public var tags: [String]
    /// The command that starts the agent (on Windows an absolute path; ideally also forced by authorized_keys).
    public var agentCommand: String
    /// The inventory line that declared it.
    public var line: Int
    /// What runs on the jump host around this server's steps (load balancer, notifications).
    public var hooks: ServerHooks
    /// How the agent reaches Service Center on the server (`service-center`): nil, SetupTools' way.
    public var serviceCenter: ServiceCenterAccess?

    public init(
        name: String, host: String, port: Int = 22, user: String, identity: String?, role: ServerRole, tags: [String] = [],
        agentCommand: String = InventoryLoader.defaultAgentCommand, line: Int = 0, hooks: ServerHooks = ServerHooks(),
        serviceCenter: ServiceCenterAccess? = nil
    ) {
        self.serviceCenter = serviceCenter
        self.name = name
        self.host = host
        self.port = port
        self.user = user
        self.identity = identity
        self.role = role
        self.tags = tags
        self.agentCommand = agentCommand
        self.line = line
        self.hooks = hooks
    }

    public var endpoint: SSHEndpoint { SSHEndpoint(host: host, port: port, user: user) }

    /// `host:port` as shown to operators.
    public var address: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// The inventory's `service-center`: the host name and port an IIS binding needs for Service
/// Center on this server. The agent always connects to the server's own loopback address (as
/// OutSystems.SetupTools calls `127.0.0.1`); these only change the `Host` header and the port.
/// `scheme: https` has the agent call through .NET's HttpWebRequest, accepting a certificate with
/// errors only when it is the server's own (the connection is to loopback).
public struct ServiceCenterAccess: Sendable, Equatable {
    public var scheme: ServiceCenterScheme
    public var host: String?
    public var port: Int?

    public init(scheme: ServiceCenterScheme = .http, host: String? = nil, port: Int? = nil) {
        self.scheme = scheme
        self.host = host
        self.port = port
    }
}
