/// One request from the controller. Every request carries an id that the agent echoes in the
/// progress events and the single final result it sends back.
public struct Request: Sendable, Equatable {
    public var id: String
    public var operation: AgentOperation

    public init(id: String, operation: AgentOperation) {
        self.id = id
        self.operation = operation
    }
}

/// The typed operations the agent can run. There is deliberately no "run this command".
public enum AgentOperation: Sendable, Equatable {
    /// Answer at once (or after holding `holdMilliseconds`, at most a minute: used to measure deadlines).
    case ping(PingArguments)
    /// Report what the agent can read about the server (never a secret).
    case inspect
    /// Answer, then end the session.
    case shutdown
    /// The OutSystems and IIS services as they are.
    case serviceStatus
    /// Stop the OutSystems services in the documented order, skipping missing and disabled ones.
    case stopServices(ServiceControlArguments)
    /// Start them in the same order.
    case startServices(ServiceControlArguments)
    /// `iisreset /stop`, verified on W3SVC and WAS.
    case stopIIS(ServiceControlArguments)
    /// `iisreset /start`, verified on W3SVC and WAS.
    case startIIS(ServiceControlArguments)
    /// Copy server.hsconf and private.key aside under a run id, with their SHA-256.
    case backupConfiguration(BackupArguments)
    /// Put a run's backup back, byte for byte, checked by SHA-256.
    case restoreConfiguration(BackupArguments)
    /// Change Server (and optionally Catalog) of the three database sections of server.hsconf.
    case repointDatabase(RepointArguments)
    /// Run ConfigurationTool.com in a typed mode.
    case runConfigurationTool(ConfigurationToolArguments)
    /// Open a TCP connection to host:port from this server.
    case probeTCP(TCPProbeArguments)
    /// Wait until every running OutSystems service's port answers.
    case waitForReadiness(ReadinessArguments)
    /// Start receiving a new agent binary.
    case beginAgentUpdate(AgentUpdateBegin)
    /// One chunk of it, in order.
    case agentUpdateChunk(AgentUpdateChunk)
    /// Check the received binary's SHA-256 and swap it in, keeping the running one as the previous.
    case finishAgentUpdate
    /// Swap the previous binary back in.
    case rollbackAgentUpdate
    /// Which agent binary answers (its SHA-256) and whether a previous one is kept.
    case agentStatus
    /// Whether a database server answers from this server, a named instance resolved through SQL Server Browser.
    case probeDatabase(DatabaseProbeArguments)
    /// Service Center's GetPlatformInfo on this server: the platform version, or why not.
    case getPlatformInfo(PlatformInfoArguments)

    /// The name on the wire.
    public var name: String {
        switch self {
        case .ping: return "ping"
        case .inspect: return "inspect"
        case .shutdown: return "shutdown"
        case .serviceStatus: return "service-status"
        case .stopServices: return "stop-services"
        case .startServices: return "start-services"
        case .stopIIS: return "stop-iis"
        case .startIIS: return "start-iis"
        case .backupConfiguration: return "backup-configuration"
        case .restoreConfiguration: return "restore-configuration"
        case .repointDatabase: return "repoint-database"
        case .runConfigurationTool: return "run-configuration-tool"
        case .probeTCP: return "probe-tcp"
        case .waitForReadiness: return "wait-for-readiness"
        case .beginAgentUpdate: return "begin-agent-update"
        case .agentUpdateChunk: return "agent-update-chunk"
        case .finishAgentUpdate: return "finish-agent-update"
        case .rollbackAgentUpdate: return "rollback-agent-update"
        case .agentStatus: return "agent-status"
        case .probeDatabase: return "probe-database"
        case .getPlatformInfo: return "get-platform-info"
        }
    }

    /// The arguments object on the wire, if the operation has one.
    var arguments: (any Encodable & Sendable)? {
        switch self {
        case let .ping(arguments): return arguments.holdMilliseconds == nil ? nil : arguments
        case .inspect, .shutdown, .serviceStatus: return nil
        case let .stopServices(arguments), let .startServices(arguments), let .stopIIS(arguments), let .startIIS(arguments):
            return arguments
        case let .backupConfiguration(arguments), let .restoreConfiguration(arguments): return arguments
        case let .repointDatabase(arguments): return arguments
        case let .runConfigurationTool(arguments): return arguments
        case let .probeTCP(arguments): return arguments
        case let .waitForReadiness(arguments): return arguments
        case let .beginAgentUpdate(arguments): return arguments
        case let .agentUpdateChunk(arguments): return arguments
        case .finishAgentUpdate, .rollbackAgentUpdate, .agentStatus: return nil
        case let .probeDatabase(arguments): return arguments
        case let .getPlatformInfo(arguments): return arguments
        }
    }
}

public struct PingArguments: Codable, Sendable, Equatable {
    public static let maxHoldMilliseconds = 60_000
    public var holdMilliseconds: Int?

    public init(holdMilliseconds: Int? = nil) { self.holdMilliseconds = holdMilliseconds }
}
