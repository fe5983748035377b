/// The three database sections of server.hsconf that a database move repoints.
public enum DatabaseSection: String, Codable, Sendable, CaseIterable {
    case platform
    case session
    case logging

    /// The element that holds the section in server.hsconf.
    public var elementName: String {
        switch self {
        case .platform: return "PlatformDatabaseConfiguration"
        case .session: return "SessionDatabaseConfiguration"
        case .logging: return "LoggingDatabaseConfiguration"
        }
    }
}

/// How a SQL Server database section logs in (`UsedAuthenticationMode` in server.hsconf, whose two
/// values the server.hsconf reference lists).
public enum DatabaseAuthentication: String, Codable, Sendable, CaseIterable {
    /// "Database Authentication": SQL logins whose passwords server.hsconf holds.
    case database
    /// "Windows Authentication" (integrated): the Configuration Tool needs the administrator's password.
    case windows

    /// The value as server.hsconf writes it.
    public var usedAuthenticationMode: String {
        switch self {
        case .database: return "Database Authentication"
        case .windows: return "Windows Authentication"
        }
    }

    public init?(usedAuthenticationMode value: String) {
        guard
            let mode = Self.allCases.first(where: {
                $0.usedAuthenticationMode.caseInsensitiveCompare(value.trimmingCharacters(in: .whitespaces)) == .orderedSame
            })
        else {
            return nil
        }
        self = mode
    }
}

/// Where one database section points, as read from server.hsconf. Never holds a password.
public struct DatabaseEndpoint: Codable, Sendable, Equatable {
    public var section: DatabaseSection
    public var providerKey: String
    /// `host`, `host\INSTANCE` or `host,port`, as the file has it.
    public var server: String
    public var catalog: String?
    /// `UsedAuthenticationMode` as written.
    public var authenticationMode: String?
    /// The same, typed; nil when the file says something else or nothing.
    public var authentication: DatabaseAuthentication?

    public init(
        section: DatabaseSection, providerKey: String, server: String, catalog: String?, authenticationMode: String?,
        authentication: DatabaseAuthentication? = nil
    ) {
        self.section = section
        self.providerKey = providerKey
        self.server = server
        self.catalog = catalog
        self.authenticationMode = authenticationMode
        self.authentication = authentication ?? authenticationMode.flatMap { DatabaseAuthentication(usedAuthenticationMode: $0) }
    }

    /// The file's server value, parsed; nil when it is not a valid address.
    public var address: DatabaseServerAddress? { DatabaseServerAddress(server) }

    /// True when the section names `target` (server, and catalog when the target sets one).
    public func isAt(_ target: DatabaseTarget) -> Bool {
        guard let address, address.sameServer(as: target.server) else { return false }
        return target.catalog.map { $0 == catalog } ?? true
    }
}

/// What `inspect` reads about the OutSystems installation.
public struct PlatformInspection: Codable, Sendable, Equatable {
    public var version: String
    public var installDirectory: String
    /// Inferred from the services' start types and states; nil when they fit no role.
    public var role: ServerRole?
    /// How the role was read, e.g. "Deployment Controller with a Front-end".
    public var roleDescription: String
    public var services: [ServiceStatus]
    public var databases: [DatabaseEndpoint]
    public var compilerServerHostname: String?
    public var configurationToolPresent: Bool
    /// Free bytes where the agent keeps its backups, when the system says.
    public var backupFreeBytes: Int64?
    /// SHA-256 of private.key (every server of a farm must have the same file).
    public var privateKeySHA256: String?
    /// Places in server.hsconf other than the three sections' Server elements that name a server.
    public var serverReferences: [ServerReference]?
    /// The provider of each database section found (SQL Server sections are also in `databases`).
    public var databaseProviders: [DatabaseSectionProvider]?
    /// Sessions kept in memory (Redis) instead of the session database, when configured.
    public var inMemorySession: InMemorySessionStorage?
    /// The two facts the role is read from, and whether they agree.
    public var roleEvidence: RoleEvidence?
    /// Why the Configuration Tool cannot read server.hsconf (a byte invalid in its declared
    /// encoding, with its line and position); nil when it can.
    public var hsconfUnreadable: String?
    /// server.hsconf's sections and its secret values' forms, never a value (protocol 1.2).
    public var hsconfLayout: HsconfLayout?

    public init(
        version: String, installDirectory: String, role: ServerRole?, roleDescription: String, services: [ServiceStatus],
        databases: [DatabaseEndpoint], compilerServerHostname: String?, configurationToolPresent: Bool, backupFreeBytes: Int64? = nil,
        privateKeySHA256: String? = nil, serverReferences: [ServerReference]? = nil, databaseProviders: [DatabaseSectionProvider]? = nil,
        inMemorySession: InMemorySessionStorage? = nil, roleEvidence: RoleEvidence? = nil, hsconfUnreadable: String? = nil,
        hsconfLayout: HsconfLayout? = nil
    ) {
        self.hsconfLayout = hsconfLayout
        self.version = version
        self.installDirectory = installDirectory
        self.role = role
        self.roleDescription = roleDescription
        self.services = services
        self.databases = databases
        self.compilerServerHostname = compilerServerHostname
        self.configurationToolPresent = configurationToolPresent
        self.backupFreeBytes = backupFreeBytes
        self.privateKeySHA256 = privateKeySHA256
        self.serverReferences = serverReferences
        self.databaseProviders = databaseProviders
        self.inMemorySession = inMemorySession
        self.roleEvidence = roleEvidence
        self.hsconfUnreadable = hsconfUnreadable
    }

    /// The section as server.hsconf has it; nil when it has none.
    public func database(_ section: DatabaseSection) -> DatabaseEndpoint? { databases.first { $0.section == section } }

    /// True when every section that moves already names its target.
    public func isAt(_ targets: DatabaseTargets) -> Bool {
        targets.moving.allSatisfy { section, target in database(section)?.isAt(target) ?? false }
    }
}

// MARK: server.hsconf backup and repoint

public struct BackupArguments: Codable, Sendable, Equatable {
    /// The run the backup belongs to; letters, digits, '-' and '_' only.
    public var runID: String

    public init(runID: String) { self.runID = runID }
}

public struct BackedUpFile: Codable, Sendable, Equatable {
    /// The original file (Windows path).
    public var path: String
    public var sha256: String
    public var bytes: Int
    /// The file's name alone (the agent splits its own paths), e.g. "server.hsconf".
    public var name: String?

    public init(path: String, sha256: String, bytes: Int, name: String? = nil) {
        self.path = path
        self.sha256 = sha256
        self.bytes = bytes
        self.name = name
    }
}

public struct BackupRecord: Codable, Sendable, Equatable {
    public var runID: String
    /// Where the copies are (Windows path).
    public var directory: String
    public var files: [BackedUpFile]

    public init(runID: String, directory: String, files: [BackedUpFile]) {
        self.runID = runID
        self.directory = directory
        self.files = files
    }
}

/// Where one database section goes; a nil catalog keeps the current one.
public struct DatabaseTarget: Codable, Sendable, Equatable {
    public var server: DatabaseServerAddress
    public var catalog: String?

    public init(server: DatabaseServerAddress, catalog: String? = nil) {
        self.server = server
        self.catalog = catalog
    }

    /// `server` or `server (catalog NAME)`.
    public var description: String { server.description + (catalog.map { " (catalog \($0))" } ?? "") }
}

/// Where a move takes the three database sections of server.hsconf; a nil section stays where it
/// is. The one type for what the operator asked, what run.json keeps and what the agent is sent.
public struct DatabaseTargets: Codable, Sendable, Equatable, CustomStringConvertible {
    public var platform: DatabaseTarget?
    public var session: DatabaseTarget?
    public var logging: DatabaseTarget?

    public init(platform: DatabaseTarget?, session: DatabaseTarget?, logging: DatabaseTarget?) {
        self.platform = platform
        self.session = session
        self.logging = logging
    }

    /// Every section to the same place.
    public init(all target: DatabaseTarget) { self.init(platform: target, session: target, logging: target) }

    public subscript(section: DatabaseSection) -> DatabaseTarget? {
        get {
            switch section {
            case .platform: return platform
            case .session: return session
            case .logging: return logging
            }
        }
        set {
            switch section {
            case .platform: platform = newValue
            case .session: session = newValue
            case .logging: logging = newValue
            }
        }
    }

    /// The sections that move, in hsconf order.
    public var moving: [(DatabaseSection, DatabaseTarget)] { DatabaseSection.allCases.compactMap { section in self[section].map { (section, $0) } } }

    /// The distinct database servers the sections go to (to probe).
    public var servers: [DatabaseServerAddress] {
        var seen: [DatabaseServerAddress] = []
        for (_, target) in moving where !seen.contains(where: { $0.sameServer(as: target.server) }) { seen.append(target.server) }
        return seen
    }

    /// "sqlnew" when every section goes to one server with its catalog unchanged, else each named.
    public var description: String {
        let moving = self.moving
        if moving.count == DatabaseSection.allCases.count, let first = moving.first?.1,
            moving.allSatisfy({ $0.1.server == first.server && $0.1.catalog == nil })
        {
            return first.server.description
        }
        return moving.map { "\($0.0.rawValue) \($0.1.description)" }.joined(separator: ", ")
    }
}

public struct RepointArguments: Codable, Sendable, Equatable {
    public var targets: DatabaseTargets
    /// When set, refuse unless every moving section currently names this server (or already its target).
    public var expectedCurrentServer: DatabaseServerAddress?

    public init(targets: DatabaseTargets, expectedCurrentServer: DatabaseServerAddress? = nil) {
        self.targets = targets
        self.expectedCurrentServer = expectedCurrentServer
    }
}

public struct SettingChange: Codable, Sendable, Equatable {
    public var section: DatabaseSection
    /// "Server" or "Catalog".
    public var element: String
    public var from: String
    public var to: String

    public init(section: DatabaseSection, element: String, from: String, to: String) {
        self.section = section
        self.element = element
        self.from = from
        self.to = to
    }
}

public struct RepointResult: Codable, Sendable, Equatable {
    /// Empty when the file already pointed at the target (nothing was written).
    public var changes: [SettingChange]
    public var sha256Before: String
    public var sha256After: String

    public init(changes: [SettingChange], sha256Before: String, sha256After: String) {
        self.changes = changes
        self.sha256Before = sha256Before
        self.sha256After = sha256After
    }
}

// MARK: Network

public struct TCPProbeArguments: Codable, Sendable, Equatable {
    /// A host name or address; a database server value (`host\INSTANCE`, `host,port`) is accepted too.
    public var host: String
    /// 1…65535 (`Bounds.port`).
    public var port: Int
    /// 0.1…300 s (`Bounds.probeTimeoutSeconds`).
    public var timeoutSeconds: Double

    public init(host: String, port: Int, timeoutSeconds: Double = 5) {
        self.host = host
        self.port = port
        self.timeoutSeconds = timeoutSeconds
    }
}

public struct TCPProbeResult: Codable, Sendable, Equatable {
    public var host: String
    public var port: Int
    public var reachable: Bool
    public var milliseconds: Double
    public var error: String?

    public init(host: String, port: Int, reachable: Bool, milliseconds: Double, error: String?) {
        self.host = host
        self.port = port
        self.reachable = reachable
        self.milliseconds = milliseconds
        self.error = error
    }
}

public struct ReadinessArguments: Codable, Sendable, Equatable {
    /// 0.1…7200 s (`Bounds.readinessTimeoutSeconds`).
    public var timeoutSeconds: Double

    public init(timeoutSeconds: Double = 180) { self.timeoutSeconds = timeoutSeconds }
}

public struct PortCheck: Codable, Sendable, Equatable {
    public var service: String
    public var port: Int
    public var answered: Bool

    public init(service: String, port: Int, answered: Bool) {
        self.service = service
        self.port = port
        self.answered = answered
    }
}

public struct ReadinessReport: Codable, Sendable, Equatable {
    public var ports: [PortCheck]
    public var waitedMilliseconds: Double

    public init(ports: [PortCheck], waitedMilliseconds: Double) {
        self.ports = ports
        self.waitedMilliseconds = waitedMilliseconds
    }
}
