import FarmProtocol

/// The steps of a database move on one server, in the order they run.
public enum MoveStep: String, Codable, Sendable, CaseIterable {
    case stopIIS = "stop-iis"
    case stopServices = "stop-services"
    case backup
    case repoint
    case startIIS = "start-iis"
    case configurationTool = "configuration-tool"
    case startServices = "start-services"
    case waitReady = "wait-ready"
    case verify
    case applySettings = "apply-settings"

    /// Phase 1, every server in parallel.
    public static let stopPhase: [MoveStep] = [.stopIIS, .stopServices]
    /// Phase 3, the deployment controller first, then the front-ends.
    public static let applyPhase: [MoveStep] = [.backup, .repoint, .startIIS, .configurationTool, .startServices, .waitReady, .verify]

    /// What the step does, for plans and reports.
    public var summary: String {
        switch self {
        case .stopIIS: return "stop IIS (iisreset /stop)"
        case .stopServices: return "stop the OutSystems services"
        case .backup: return "back up server.hsconf and private.key"
        case .repoint: return "repoint server.hsconf"
        case .startIIS: return "start IIS (iisreset /start)"
        case .configurationTool: return "ConfigurationTool.com /UpgradeInstall /InstallServiceCenter"
        case .startServices: return "start the OutSystems services"
        case .waitReady: return "wait until the services' ports answer"
        case .verify: return "verify server.hsconf names the new server and services run"
        case .applySettings: return "ConfigurationTool.com /ApplySettingsFactory"
        }
    }
}

/// Where a move takes the three database sections. A nil catalog keeps the current one.
public struct MoveTargets: Codable, Sendable, Equatable {
    public var platform: DatabaseTarget
    public var session: DatabaseTarget
    public var logging: DatabaseTarget

    public init(platform: DatabaseTarget, session: DatabaseTarget, logging: DatabaseTarget) {
        self.platform = platform
        self.session = session
        self.logging = logging
    }

    public var arguments: RepointArguments { RepointArguments(platform: platform, session: session, logging: logging) }

    public func target(for section: DatabaseSection) -> DatabaseTarget { arguments.target(for: section) }

    /// The distinct database servers the move points at (to probe).
    public var servers: [String] {
        var seen: [String] = []
        for server in [platform.server, session.server, logging.server] where !seen.contains(where: { $0.caseInsensitiveCompare(server) == .orderedSame }) {
            seen.append(server)
        }
        return seen
    }

    /// "sqlnew" when all sections go to one server, else each named.
    public var description: String {
        func describe(_ target: DatabaseTarget) -> String { target.server + (target.catalog.map { " (catalog \($0))" } ?? "") }
        if platform.server == session.server && session.server == logging.server && platform.catalog == nil && session.catalog == nil && logging.catalog == nil {
            return platform.server
        }
        return "platform \(describe(platform)), session \(describe(session)), logging \(describe(logging))"
    }
}

/// How a move behaves, as the operator chose on the command line. Holds no secret.
public struct MoveOptions: Codable, Sendable, Equatable {
    /// Front-ends applied at once.
    public var parallel: Int = 1
    /// Front-end failures tolerated before no new front-end starts.
    public var maxFailures: Int = 0
    /// Refuse servers that point anywhere else.
    public var expectFrom: String?
    /// Go on with a farm whose servers point at different databases.
    public var force = false
    /// Allow a --limit that leaves part of the farm on the old database.
    public var allowPartial = false
    /// The restore is done: do not wait at the gate.
    public var databaseRestored = false
    /// Run /ApplySettingsFactory on the deployment controller at the end.
    public var applySettings = false
    public var window: MaintenanceWindow?
    /// Seconds one server's apply is expected to take; nil: learn from the servers done so far.
    public var serverBudget: Double?
    public var timeout: Double = 10
    public var serviceTimeout: Double = 180
    public var configurationToolTimeout: Double = 1800
    public var readinessTimeout: Double = 300
    /// Name of the environment variable holding the Windows-authentication admin password.
    public var adminPasswordVariable: String?

    public init() {}
}
