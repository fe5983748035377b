/// The protocol's table of operations: each name on the wire, once. The request decoder, the
/// result decoder and the agent's dispatch all switch over this enum, so the compiler names every
/// place a new operation must be handled.
public enum OperationName: String, Codable, Sendable, CaseIterable {
    case ping
    case inspect
    case shutdown
    case serviceStatus = "service-status"
    case stopServices = "stop-services"
    case startServices = "start-services"
    case stopIIS = "stop-iis"
    case startIIS = "start-iis"
    case backupConfiguration = "backup-configuration"
    case restoreConfiguration = "restore-configuration"
    case repointDatabase = "repoint-database"
    case runConfigurationTool = "run-configuration-tool"
    case probeTCP = "probe-tcp"
    case waitForReadiness = "wait-for-readiness"
    case beginAgentUpdate = "begin-agent-update"
    case agentUpdateChunk = "agent-update-chunk"
    case finishAgentUpdate = "finish-agent-update"
    case rollbackAgentUpdate = "rollback-agent-update"
    case agentStatus = "agent-status"
    case listBackups = "list-backups"
    case pruneBackups = "prune-backups"
    case probeDatabase = "probe-database"
    case getPlatformInfo = "get-platform-info"
    case checkLogins = "check-logins"

    /// True for operations that change the server (services, files, the agent itself).
    public var changesServer: Bool {
        switch self {
        case .ping, .inspect, .shutdown, .serviceStatus, .probeTCP, .waitForReadiness, .agentStatus, .listBackups, .probeDatabase,
            .getPlatformInfo, .checkLogins:
            return false
        case .stopServices, .startServices, .stopIIS, .startIIS, .backupConfiguration, .restoreConfiguration, .repointDatabase,
            .runConfigurationTool, .beginAgentUpdate, .agentUpdateChunk, .finishAgentUpdate, .rollbackAgentUpdate, .pruneBackups:
            return true
        }
    }
}

/// One request from the controller. Every request carries an id that the agent echoes in the
/// progress events and the single final result it sends back.
public struct Request: Sendable, Equatable {
    public var id: String
    public var operation: AgentOperation
    /// Which run and step sent it (protocol 1.1); the agent's claim on the server and its record
    /// of steps done key on it.
    public var context: RequestContext?

    public init(id: String, operation: AgentOperation, context: RequestContext? = nil) {
        self.id = id
        self.operation = operation
        self.context = context
    }
}

/// The run a changing request belongs to. One run at a time may change a server: the agent holds
/// a claim for the run while its session lives, refuses another run's changes, and remembers
/// each step's result so that a resumed run adopts a step that finished after its controller died
/// instead of running it a second time.
public struct RequestContext: Codable, Sendable, Equatable {
    /// The run id (letters, digits, '-', '_'; at most 64).
    public var runID: String
    /// The step's name in the run's journal (letters, digits, '-', '_', ':'; at most 64).
    public var step: String
    /// Who runs it: user@jump-host.
    public var controller: String
    /// How long the agent may wait for an earlier agent of the same run to let go of the server.
    public var waitSeconds: Double

    public static let waitRange: ClosedRange<Double> = 0...86_400

    public init(runID: String, step: String, controller: String, waitSeconds: Double) {
        self.runID = runID
        self.step = step
        self.controller = controller
        self.waitSeconds = waitSeconds
    }

    /// Why the context cannot be used, if so.
    public var problem: String? {
        func valid(_ text: String, extra: Set<Character>) -> Bool {
            !text.isEmpty && text.count <= 64 && text.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || extra.contains($0) }
        }
        if !valid(runID, extra: ["-", "_"]) { return "run id \"\(runID.prefix(80))\" must be 1–64 letters, digits, '-' or '_'" }
        if !valid(step, extra: ["-", "_", ":"]) { return "step \"\(step.prefix(80))\" must be 1–64 letters, digits, '-', '_' or ':'" }
        if controller.count > 256 || controller.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return "controller must be at most 256 printable characters"
        }
        if !waitSeconds.isFinite || !Self.waitRange.contains(waitSeconds) { return "waitSeconds must be 0…86400" }
        return nil
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
    /// The server's backups, per run: files, sizes, times.
    case listBackups(BackupListArguments)
    /// Remove one run's backups (nothing to do when there are none).
    case pruneBackups(BackupArguments)
    /// Whether a database server answers from this server, a named instance resolved through SQL Server Browser.
    case probeDatabase(DatabaseProbeArguments)
    /// Service Center's GetPlatformInfo on this server: the platform version, or why not.
    case getPlatformInfo(PlatformInfoArguments)
    /// Log in to the new database as each user server.hsconf names, from this server (passwords stay on it).
    case checkLogins(LoginCheckArguments)

    /// Which operation this is; its name on the wire is `kind.rawValue`.
    public var kind: OperationName {
        switch self {
        case .ping: return .ping
        case .inspect: return .inspect
        case .shutdown: return .shutdown
        case .serviceStatus: return .serviceStatus
        case .stopServices: return .stopServices
        case .startServices: return .startServices
        case .stopIIS: return .stopIIS
        case .startIIS: return .startIIS
        case .backupConfiguration: return .backupConfiguration
        case .restoreConfiguration: return .restoreConfiguration
        case .repointDatabase: return .repointDatabase
        case .runConfigurationTool: return .runConfigurationTool
        case .probeTCP: return .probeTCP
        case .waitForReadiness: return .waitForReadiness
        case .beginAgentUpdate: return .beginAgentUpdate
        case .agentUpdateChunk: return .agentUpdateChunk
        case .finishAgentUpdate: return .finishAgentUpdate
        case .rollbackAgentUpdate: return .rollbackAgentUpdate
        case .agentStatus: return .agentStatus
        case .listBackups: return .listBackups
        case .pruneBackups: return .pruneBackups
        case .probeDatabase: return .probeDatabase
        case .getPlatformInfo: return .getPlatformInfo
        case .checkLogins: return .checkLogins
        }
    }

    /// The name on the wire.
    public var name: String { kind.rawValue }

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
        case let .listBackups(arguments): return arguments.maxRuns == nil ? nil : arguments
        case let .pruneBackups(arguments): return arguments
        case let .probeDatabase(arguments): return arguments
        case let .getPlatformInfo(arguments): return arguments
        case let .checkLogins(arguments): return arguments
        }
    }
}

public struct PingArguments: Codable, Sendable, Equatable {
    public static let maxHoldMilliseconds = Bounds.pingHoldMilliseconds.range.upperBound
    /// 0…60000 ms (`Bounds.pingHoldMilliseconds`).
    public var holdMilliseconds: Int?

    public init(holdMilliseconds: Int? = nil) { self.holdMilliseconds = holdMilliseconds }
}
