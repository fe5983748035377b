/// What `inspect` reads for the checks a database move depends on (issue 11, item 7): where else
/// server.hsconf names a server, which provider each section uses, whether sessions live in Redis,
/// and the facts behind the server's role. Never a secret.

/// A place in server.hsconf, other than the three database sections' `Server` elements, that names
/// a server: a connection keyword inside a `*AdvancedSettings` value (ADO.NET connection string
/// keywords, SqlConnection.ConnectionString), or the cache invalidation service's host.
public struct ServerReference: Codable, Sendable, Equatable {
    /// Section and element, e.g. "PlatformDatabaseConfiguration/RuntimeAdvancedSettings".
    public var location: String
    /// The connection-string keyword as written ("Failover Partner", "Data Source", "Server", …);
    /// nil when the element's whole value is the server (CacheInvalidationConfiguration/ServiceHost).
    public var keyword: String?
    /// The server the place names, as written.
    public var server: String

    public init(location: String, keyword: String?, server: String) {
        self.location = location
        self.keyword = keyword
        self.server = server
    }
}

/// The database engine of a section (its `ProviderKey`; the server.hsconf reference names SqlServer
/// and Oracle).
public enum DatabaseProvider: String, Codable, Sendable {
    case sqlServer = "SqlServer"
    case oracle = "Oracle"
    case other

    public init(providerKey: String) {
        switch providerKey.lowercased() {
        case "sqlserver": self = .sqlServer
        case "oracle": self = .oracle
        default: self = .other
        }
    }
}

/// How an Oracle section reaches its database: `NamingType` (`IdType` in the session section) is
/// "Service Name" (Host, Port, ServiceName) or "TNS Name" (TNSName) — server.hsconf reference.
public struct OracleAddress: Codable, Sendable, Equatable {
    public var namingType: String?
    public var host: String?
    public var port: String?
    public var serviceName: String?
    public var tnsName: String?

    public init(namingType: String?, host: String?, port: String?, serviceName: String?, tnsName: String?) {
        self.namingType = namingType
        self.host = host
        self.port = port
        self.serviceName = serviceName
        self.tnsName = tnsName
    }
}

/// The provider of one database section.
public struct DatabaseSectionProvider: Codable, Sendable, Equatable {
    public var section: DatabaseSection
    /// The `ProviderKey` attribute as written ("" when missing).
    public var providerKey: String
    public var provider: DatabaseProvider
    /// For Oracle sections, how they address the database.
    public var oracle: OracleAddress?

    public init(section: DatabaseSection, providerKey: String, oracle: OracleAddress? = nil) {
        self.section = section
        self.providerKey = providerKey
        self.provider = DatabaseProvider(providerKey: providerKey)
        self.oracle = oracle
    }
}

/// Sessions kept in memory instead of in the session database: `<InMemorySessionConfiguration
/// ProviderKey="Redis">` with a `ConnectionString` (OutSystems "Configure Platform Server to use
/// Redis for sessions", Platform Server 11.11 and later).
public struct InMemorySessionStorage: Codable, Sendable, Equatable {
    public var providerKey: String
    /// The `host:port` entries of the connection string (its options, the password among them, left out);
    /// empty when the connection string is encrypted.
    public var endpoints: [String]
    public var connectionStringEncrypted: Bool

    public init(providerKey: String, endpoints: [String], connectionStringEncrypted: Bool) {
        self.providerKey = providerKey
        self.endpoints = endpoints
        self.connectionStringEncrypted = connectionStringEncrypted
    }
}

/// The two facts a server's role is read from. A front-end's Deployment Controller service may be
/// Disabled or Manual (the installation checklist has one generic server role), so the services
/// alone do not always decide; `CompilerServerHostname` names the deployment controller.
public struct RoleEvidence: Codable, Sendable, Equatable {
    /// What the services say; nil when they say nothing (the Deployment Controller service is
    /// Manual and stopped, or there are no OutSystems services).
    public var fromServices: ServerRole?
    /// The services fact in words, e.g. "the Deployment Controller service is Disabled".
    public var servicesFact: String
    /// What CompilerServerHostname says: the deployment controller when it names this server, a
    /// front-end when it names another; nil when it is missing.
    public var fromCompilerServerHostname: ServerRole?
    /// That fact in words, e.g. "CompilerServerHostname 10.0.0.5 is not one of this server's names".
    public var compilerServerHostnameFact: String
    /// The names and addresses the agent found for this server.
    public var ownNames: [String]

    public init(
        fromServices: ServerRole?, servicesFact: String, fromCompilerServerHostname: ServerRole?,
        compilerServerHostnameFact: String, ownNames: [String]
    ) {
        self.fromServices = fromServices
        self.servicesFact = servicesFact
        self.fromCompilerServerHostname = fromCompilerServerHostname
        self.compilerServerHostnameFact = compilerServerHostnameFact
        self.ownNames = ownNames
    }

    /// Both facts say something, and not the same thing.
    public var conflict: Bool {
        guard let fromServices, let fromCompilerServerHostname else { return false }
        return fromServices != fromCompilerServerHostname
    }

    /// The role the facts decide together; nil when they disagree or neither says anything.
    public var decided: ServerRole? {
        conflict ? nil : fromServices ?? fromCompilerServerHostname
    }
}
