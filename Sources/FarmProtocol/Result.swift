/// The final answer to a request: typed data, or a typed error.
public enum Outcome: Sendable, Equatable {
    case ok(ResultData)
    case failure(AgentError)
}

/// The typed data of a successful result, one case per kind of answer.
public enum ResultData: Sendable, Equatable {
    case pong(Pong)
    case inspection(ServerInspection)
    case shutdown
    case services(operation: OperationName, ServiceReport)
    case backup(operation: OperationName, BackupRecord)
    case repoint(RepointResult)
    case configurationTool(ConfigurationToolRun)
    case probe(TCPProbeResult)
    case readiness(ReadinessReport)
    case agentUpdate(operation: OperationName, AgentUpdateStatus)
    case backupListing(BackupListing)
    case backupPruned(BackupPruneResult)
    case databaseProbe(DatabaseProbeResult)
    case platformInfo(PlatformInfoReport)
    case loginCheck(LoginCheckResult)

    /// The operation this data answers.
    public var operation: OperationName {
        switch self {
        case .pong: return .ping
        case .inspection: return .inspect
        case .shutdown: return .shutdown
        case let .services(operation, _): return operation
        case let .backup(operation, _): return operation
        case .repoint: return .repointDatabase
        case .configurationTool: return .runConfigurationTool
        case .probe: return .probeTCP
        case .readiness: return .waitForReadiness
        case let .agentUpdate(operation, _): return operation
        case .backupListing: return .listBackups
        case .backupPruned: return .pruneBackups
        case .databaseProbe: return .probeDatabase
        case .platformInfo: return .getPlatformInfo
        case .loginCheck: return .checkLogins
        }
    }

    /// The operation name this data answers, as on the wire.
    public var operationName: String { operation.rawValue }

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
        case let .backupListing(value): return value
        case let .backupPruned(value): return value
        case let .databaseProbe(value): return value
        case let .platformInfo(value): return value
        case let .loginCheck(value): return value
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
    /// The shell sshd starts the agent with (`HKLM\SOFTWARE\OpenSSH`); nil from an agent that does
    /// not read it.
    public var sessionShell: SessionShell?
    /// The server's install language and code pages (protocol 1.2); nil from an older agent.
    public var locale: HostLocale?
    /// IIS's sites' bindings from applicationHost.config (protocol 1.2); nil when not read.
    public var iisBindings: [IISBinding]?

    public init(
        host: HostFacts, agentVersion: String = OsfarmVersion.current, protocolVersion: ProtocolVersion = .current,
        platform: PlatformInspection? = nil, platformProblem: String? = nil, sessionShell: SessionShell? = nil, locale: HostLocale? = nil,
        iisBindings: [IISBinding]? = nil
    ) {
        self.iisBindings = iisBindings
        self.sessionShell = sessionShell
        self.locale = locale
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
    /// True for the agent's "still working" beat during a long operation: news that the request
    /// is alive, nothing to show. Absent (nil) on ordinary events.
    public var heartbeat: Bool?

    public init(step: String, message: String, heartbeat: Bool? = nil) {
        self.step = step
        self.message = message
        self.heartbeat = heartbeat
    }

    public var isHeartbeat: Bool { heartbeat == true }
}
