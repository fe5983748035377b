import Foundation

/// What `osfarm inspect --save` reads off a farm, read-only, for `osfarm-sim farm up --from` to
/// build a local replica of the same shape: the inventory's targeting and options (no address is
/// needed but the real one is kept for the record; no key), and what each server's agent reported.
/// Never holds a secret: server.hsconf's secret values arrive from the agent as stand-ins
/// (HsconfLayout), and private.key's digest is left out (only whether every server has the same
/// file is kept).
public struct FarmSnapshot: Codable, Sendable, Equatable {
    /// The format this build writes and reads; a newer one is refused (FarmSnapshotFile).
    public static let currentFormat = 1
    public static let kindName = "osfarm-farm-snapshot"

    public var kind: String
    public var format: Int
    public var takenAt: Date
    /// The osfarm that wrote it.
    public var osfarmVersion: String
    public var inventory: SnapshotInventory
    public var servers: [SnapshotServer]
    /// Every server that has a private.key has the same one (OutSystems requires it); nil when no
    /// server's could be read.
    public var privateKeysMatch: Bool?
    /// Step durations from the last completed run on this farm that this jump host journaled.
    public var durations: SnapshotDurations?

    public init(
        takenAt: Date, inventory: SnapshotInventory, servers: [SnapshotServer], privateKeysMatch: Bool?, durations: SnapshotDurations?
    ) {
        kind = Self.kindName
        format = Self.currentFormat
        self.takenAt = takenAt
        osfarmVersion = OsfarmVersion.current
        self.inventory = inventory
        self.servers = servers
        self.privateKeysMatch = privateKeysMatch
        self.durations = durations
    }

    public func server(_ name: String) -> SnapshotServer? { servers.first { $0.name == name } }
}

/// The inventory as osfarm read it: what targeting (`--limit` by name, role and tag), hooks and
/// options need.
public struct SnapshotInventory: Codable, Sendable, Equatable {
    /// The inventory file the snapshot was taken with.
    public var path: String
    public var servers: [SnapshotInventoryServer]

    public init(path: String, servers: [SnapshotInventoryServer]) {
        self.path = path
        self.servers = servers
    }
}

public struct SnapshotInventoryServer: Codable, Sendable, Equatable {
    public var name: String
    /// The real address, for the record (a replica never uses it).
    public var host: String
    public var port: Int
    public var user: String
    public var role: ServerRole
    public var tags: [String]
    public var agent: String
    public var hooks: SnapshotHooks?
    public var serviceCenter: SnapshotServiceCenter?

    public init(
        name: String, host: String, port: Int, user: String, role: ServerRole, tags: [String], agent: String, hooks: SnapshotHooks?,
        serviceCenter: SnapshotServiceCenter?
    ) {
        self.name = name
        self.host = host
        self.port = port
        self.user = user
        self.role = role
        self.tags = tags
        self.agent = agent
        self.hooks = hooks
        self.serviceCenter = serviceCenter
    }
}

/// A server's hooks as the inventory gives them (argv per event, on the jump host).
public struct SnapshotHooks: Codable, Sendable, Equatable {
    public var commands: [String: [String]]
    public var timeout: Double
    public var passEnv: [String]?
    public var rejoin: String?

    public init(commands: [String: [String]], timeout: Double, passEnv: [String]?, rejoin: String?) {
        self.commands = commands
        self.timeout = timeout
        self.passEnv = passEnv
        self.rejoin = rejoin
    }
}

/// The inventory's `service-center` (the IIS binding's host name and port Service Center answers on).
public struct SnapshotServiceCenter: Codable, Sendable, Equatable {
    public var host: String?
    public var port: Int?
    /// https when the inventory says so; nil: plain HTTP (and snapshots taken before it existed).
    public var scheme: ServiceCenterScheme?

    public init(host: String?, port: Int?, scheme: ServiceCenterScheme? = nil) {
        self.host = host
        self.port = port
        self.scheme = scheme
    }
}

/// One server as its agent reported it.
public struct SnapshotServer: Codable, Sendable, Equatable {
    public var name: String
    /// ok, failed or unreachable, as `osfarm check` says.
    public var status: String
    /// Why it could not be read, when it could not.
    public var problem: String?
    public var agentVersion: String?
    public var protocolVersion: ProtocolVersion?
    public var operatingSystem: String?
    public var locale: HostLocale?
    /// The effective shell and the registry values it comes from.
    public var sessionShell: SessionShell?
    /// How sshd starts the agent there, e.g. `cmd.exe /c "<command>"`.
    public var effectiveShell: String?
    /// The OutSystems installation: version, role and its evidence, services with start types and
    /// states (IIS's W3SVC and WAS among them), database sections, server.hsconf's layout.
    public var platform: PlatformInspection?
    public var platformProblem: String?
    /// IIS's sites' bindings (applicationHost.config).
    public var iisBindings: [IISBinding]?
    /// Which private.key the server has, as a number shared by the servers with the same file (1
    /// for the first one met); nil when it could not be read. The file's digest is not kept.
    public var privateKeyGroup: Int?

    public init(
        name: String, status: String, problem: String? = nil, agentVersion: String? = nil, protocolVersion: ProtocolVersion? = nil,
        operatingSystem: String? = nil, locale: HostLocale? = nil, sessionShell: SessionShell? = nil, platform: PlatformInspection? = nil,
        platformProblem: String? = nil
    ) {
        self.name = name
        self.status = status
        self.problem = problem
        self.agentVersion = agentVersion
        self.protocolVersion = protocolVersion
        self.operatingSystem = operatingSystem
        self.locale = locale
        self.sessionShell = sessionShell
        self.effectiveShell = sessionShell?.summary
        self.platform = platform
        self.platformProblem = platformProblem
    }

    /// The section as server.hsconf has it.
    public func database(_ section: DatabaseSection) -> DatabaseEndpoint? { platform?.database(section) }
}

/// Durations measured by an earlier run on this farm, from its journal on this jump host.
public struct SnapshotDurations: Codable, Sendable, Equatable {
    public var runID: String
    /// The median seconds of each step over the servers that ran it, by step name.
    public var stepSeconds: [String: Double]
    /// The farm's downtime that run measured (no front-end serving), when it ended.
    public var farmDowntimeSeconds: Double?

    public init(runID: String, stepSeconds: [String: Double], farmDowntimeSeconds: Double?) {
        self.runID = runID
        self.stepSeconds = stepSeconds
        self.farmDowntimeSeconds = farmDowntimeSeconds
    }
}
