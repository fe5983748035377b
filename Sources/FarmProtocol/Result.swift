/// The final answer to a request: typed data, or a typed error.
public enum Outcome: Sendable, Equatable {
    case ok(ResultData)
    case failure(AgentError)
}

/// The typed data of a successful result, one case per operation.
public enum ResultData: Sendable, Equatable {
    case pong(Pong)
    case inspection(ServerInspection)
    case shutdown
    case services(operation: String, ServiceReport)
    case backup(operation: String, BackupRecord)
    case repoint(RepointResult)
    case configurationTool(ConfigurationToolRun)
    case probe(TCPProbeResult)
    case readiness(ReadinessReport)
    case agentUpdate(operation: String, AgentUpdateStatus)
    case databaseProbe(DatabaseProbeResult)
    case platformInfo(PlatformInfoReport)

    /// The operation name this data answers, as on the wire.
    public var operationName: String {
        switch self {
        case .pong: return "ping"
        case .inspection: return "inspect"
        case .shutdown: return "shutdown"
        case let .services(operation, _): return operation
        case let .backup(operation, _): return operation
        case .repoint: return "repoint-database"
        case .configurationTool: return "run-configuration-tool"
        case .probe: return "probe-tcp"
        case .readiness: return "wait-for-readiness"
        case let .agentUpdate(operation, _): return operation
        case .databaseProbe: return "probe-database"
        case .platformInfo: return "get-platform-info"
        }
    }

    var payload: (any Encodable & Sendable)? {
        switch self {
        case let .pong(value): return value
        case let .inspection(value): return value
        case .shutdown: return nil
        case let .services(_, value): return value
        case let .backup(_, value): return value
        case let .repoint(value): return value
        case let .configurationTool(value): return value
        case let .probe(value): return value
        case let .readiness(value): return value
        case let .agentUpdate(_, value): return value
        case let .databaseProbe(value): return value
        case let .platformInfo(value): return value
        }
    }
}

public struct Pong: Codable, Sendable, Equatable {
    /// The agent's clock when it answered, in milliseconds since 1970 (helps spot clock skew).
    public var agentTimeMilliseconds: Int64

    public init(agentTimeMilliseconds: Int64) { self.agentTimeMilliseconds = agentTimeMilliseconds }
}

/// What `inspect` reports about a server. Never contains a secret.
public struct ServerInspection: Codable, Sendable, Equatable {
    public var host: HostFacts
    public var agentVersion: String
    public var protocolVersion: ProtocolVersion
    /// The OutSystems installation, when one was found.
    public var platform: PlatformInspection?
    /// Why `platform` is missing or incomplete.
    public var platformProblem: String?

    public init(host: HostFacts, agentVersion: String = OsfarmVersion.current, protocolVersion: ProtocolVersion = .current,
                platform: PlatformInspection? = nil, platformProblem: String? = nil) {
        self.host = host
        self.agentVersion = agentVersion
        self.protocolVersion = protocolVersion
        self.platform = platform
        self.platformProblem = platformProblem
    }
}

/// Something that happened while a request ran, before its result.
public struct ProgressEvent: Codable, Sendable, Equatable {
    /// What the agent is doing, e.g. "stop-service".
    public var step: String
    /// A line for humans.
    public var message: String

    public init(step: String, message: String) {
        self.step = step
        self.message = message
    }
}
