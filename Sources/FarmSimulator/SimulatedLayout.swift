import FarmProtocol
import Foundation

/// The documented farm layouts a simulated farm can take besides the default one (one SQL Server
/// default instance holding all three databases, front-ends with the Deployment Controller service
/// Disabled, sessions in the session database).
public struct SimulatedLayout: Sendable, Equatable {
    public static let oldDatabaseName = "sql-old.farm.test"
    public static let newDatabaseName = "sql-new.farm.test"
    public static let sessionDatabaseName = "sql-session.farm.test"
    public static let loggingDatabaseName = "sql-logging.farm.test"
    /// Oracle's listener port, for Oracle farms (server.hsconf reference: Host/Port/ServiceName).
    public static let oraclePort = 1521

    /// The new database is this named instance, with no port in its server value: its TCP port is
    /// dynamic, announced by SQL Server Browser.
    public var newDatabaseInstance: String?
    /// SQL Server Browser runs on the new database's host.
    public var newDatabaseBrowser: Bool
    /// The new instance has HideInstance set: Browser does not announce it.
    public var newDatabaseHidden: Bool
    /// The session section lives on its own database server (sql-session.farm.test).
    public var separateSessionDatabase: Bool
    /// The logging section lives on its own database server (sql-logging.farm.test).
    public var separateLoggingDatabase: Bool
    /// The start type of the Deployment Controller service on front-ends: Disabled (SetupTools'
    /// FullUnattended example, the failover procedure) or Manual (left as installed).
    public var frontEndControllerService: ServiceStartType
    /// The three database sections use Oracle (Host/Port/ServiceName) instead of SQL Server.
    public var oracle: Bool
    /// Sessions are kept in Redis (InMemorySessionConfiguration), not in the session database.
    public var redisSessions: Bool

    /// The catalogs a simulated farm's sections use unless told otherwise.
    public static let defaultCatalogs: [DatabaseSection: String] = [.platform: "outsystems", .session: "osSession", .logging: "outsystems_log"]

    /// A replica's database servers by name and form (the real farm's): nil, the names above.
    public var databaseServers: DatabaseServers?
    /// Each section's catalog.
    public var catalogs = SimulatedLayout.defaultCatalogs
    /// The installed platform version.
    public var platformVersion = ServerBuilder.platformVersion

    /// The servers a replica's sections name, and the one the move goes to.
    public struct DatabaseServers: Sendable, Equatable {
        public var old: DatabaseServerAddress
        public var new: DatabaseServerAddress
        /// The session and logging sections' servers when they are not `old`.
        public var session: DatabaseServerAddress?
        public var logging: DatabaseServerAddress?

        public init(old: DatabaseServerAddress, new: DatabaseServerAddress, session: DatabaseServerAddress?, logging: DatabaseServerAddress?) {
            self.old = old
            self.new = new
            self.session = session
            self.logging = logging
        }
    }

    public init(
        newDatabaseInstance: String? = nil, newDatabaseBrowser: Bool = true, newDatabaseHidden: Bool = false,
        separateSessionDatabase: Bool = false, separateLoggingDatabase: Bool = false,
        frontEndControllerService: ServiceStartType = .disabled, oracle: Bool = false, redisSessions: Bool = false
    ) {
        self.newDatabaseInstance = newDatabaseInstance
        self.newDatabaseBrowser = newDatabaseBrowser
        self.newDatabaseHidden = newDatabaseHidden
        self.separateSessionDatabase = separateSessionDatabase
        self.separateLoggingDatabase = separateLoggingDatabase
        self.frontEndControllerService = frontEndControllerService
        self.oracle = oracle
        self.redisSessions = redisSessions
    }

    /// The farm's database servers, old and new first, then the session's and the logging's when
    /// they have their own, each on a free loopback address.
    func databases() throws -> [SimulatedDatabase] {
        if let databaseServers { return try Self.databases(databaseServers) }
        var names = [Self.oldDatabaseName, Self.newDatabaseName]
        if separateSessionDatabase { names.append(Self.sessionDatabaseName) }
        if separateLoggingDatabase { names.append(Self.loggingDatabaseName) }
        let defaultPort = oracle ? Self.oraclePort : DatabaseServerAddress.defaultPort
        let addresses = try Loopback.freeAddresses(count: names.count, port: defaultPort)
        var databases = zip(names, addresses).map { SimulatedDatabase(name: $0, address: $1, port: defaultPort, up: true) }
        if let instance = newDatabaseInstance {
            if let problem = Self.problem(instance: instance) { throw SimulatorError.badLayout(problem) }
            // A named instance with a dynamic port takes a free port from the dynamic range when it starts.
            databases[1].port = try Loopback.freePort(address: databases[1].address, in: 49152...65535)
            databases[1].instance = instance
            databases[1].portInServerValue = false
            databases[1].browser = newDatabaseBrowser
            databases[1].hidden = newDatabaseHidden
        }
        return databases
    }

    /// Databases of the given names and forms: a default instance on 1433 or the given port, a
    /// named instance on a dynamic port behind SQL Server Browser unless the value names a port.
    static func databases(_ servers: DatabaseServers) throws -> [SimulatedDatabase] {
        let wanted = [servers.old, servers.new] + [servers.session, servers.logging].compactMap { $0 }
        let addresses = try Loopback.freeAddresses(count: wanted.count, port: DatabaseServerAddress.defaultPort)
        return try zip(wanted, addresses).map { server, address in
            var database = SimulatedDatabase(name: server.host, address: address, port: DatabaseServerAddress.defaultPort, up: true)
            database.instance = server.instance
            if let port = server.port {
                database.port = port
                database.portInServerValue = true
            } else if server.instance != nil {
                database.port = try Loopback.freePort(address: address, in: 49152...65535)
                database.portInServerValue = false
            }
            return database
        }
    }

    /// Why SQL Server would refuse this instance name, if it would.
    public static func problem(instance name: String) -> String? {
        do {
            _ = try DatabaseServerAddress(host: newDatabaseName, instance: name)
            return nil
        } catch {
            return "--new-database-instance \(name): \(error)"
        }
    }
}
