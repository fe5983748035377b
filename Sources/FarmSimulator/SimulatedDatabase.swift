import FarmProtocol
import Foundation

/// A simulated SQL Server: one instance on its own loopback address, a real TCP port opened by the
/// farm's network process while it is up, known to the servers by name through their hosts files.
///
/// A named instance listens on a dynamic port chosen when it starts and announced only by SQL
/// Server Browser on UDP 1434 of the same host ("SQL Server Browser service", SQL Server docs;
/// [MC-SQLR]). Browser may be off, and an instance with `HideInstance` set is never announced.
public struct SimulatedDatabase: Codable, Sendable, Equatable {
    /// The host name the servers know it by (through their hosts files).
    public var name: String
    public var address: String
    /// The TCP port the instance listens on: 1433 for a default instance, dynamic for a named one.
    public var port: Int
    /// Whether the instance runs (its port open, Browser announcing it).
    public var up: Bool
    /// The named instance; nil for the default instance.
    public var instance: String?
    /// Whether the farm's server value names the port (nil: only a default instance off 1433 does).
    public var portInServerValue: Bool?
    /// SQL Server Browser runs on the host (nil: yes).
    public var browser: Bool?
    /// The instance has HideInstance set, so Browser never announces it (nil: no).
    public var hidden: Bool?
    /// Its logins and restored catalogs (nil: a farm from before logins were simulated; anyone logs in).
    public var security: SimulatedSecurity?

    public init(
        name: String, address: String, port: Int, up: Bool, instance: String? = nil, portInServerValue: Bool? = nil,
        browser: Bool? = nil, hidden: Bool? = nil
    ) {
        self.name = name
        self.address = address
        self.port = port
        self.up = up
        self.instance = instance
        self.portInServerValue = portInServerValue
        self.browser = browser
        self.hidden = hidden
    }

    public var browserRuns: Bool { browser ?? true }
    public var isHidden: Bool { hidden ?? false }

    /// The value server.hsconf and `--to` use for it: `name`, `name\INSTANCE`, `name,port` or `name\INSTANCE,port`.
    public var server: String {
        let givesPort = portInServerValue ?? (instance == nil && port != DatabaseServerAddress.defaultPort)
        return name + (instance.map { "\\" + $0 } ?? "") + (givesPort ? ",\(port)" : "")
    }

    /// The same, typed (nil only for a farm set up with names SQL Server would refuse).
    public var serverAddress: DatabaseServerAddress? { DatabaseServerAddress(server) }
}

extension LocalFarmRecord {
    /// Every simulated database server of the farm.
    public var allDatabases: [SimulatedDatabase] {
        [oldDatabase, newDatabase, sessionDatabase, loggingDatabase].compactMap { $0 }
    }

    /// The database with this label (old, new, session, logging), if the farm has it.
    public func database(_ label: String) -> SimulatedDatabase? {
        switch label {
        case "old": return oldDatabase
        case "new": return newDatabase
        case "session": return sessionDatabase
        case "logging": return loggingDatabase
        default: return nil
        }
    }

    /// Changes the database with this label; false when the farm has none.
    @discardableResult
    public mutating func changeDatabase(_ label: String, _ change: (inout SimulatedDatabase) -> Void) -> Bool {
        let slots: [String: WritableKeyPath<LocalFarmRecord, SimulatedDatabase?>] = [
            "old": \.oldDatabase, "new": \.newDatabase, "session": \.sessionDatabase, "logging": \.loggingDatabase,
        ]
        guard let slot = slots[label], var database = self[keyPath: slot] else { return false }
        change(&database)
        self[keyPath: slot] = database
        return true
    }

    /// The TCP endpoint a server value reaches from a server whose hosts file maps names to
    /// `resolve(name)`, as a client library would find it: the given port, 1433 for a default
    /// instance, or what Browser announces for a named one; nil when the instance cannot be found
    /// (Browser off, instance unknown or hidden, or the instance down).
    public func endpoint(of server: String, resolve: (String) -> String) -> (address: String, port: Int)? {
        guard let address = DatabaseServerAddress(server) else { return nil }
        let host = resolve(address.networkHost)
        if let port = address.portWithoutBrowser { return (host, port) }
        guard let instance = address.instance,
            let database = allDatabases.first(where: {
                $0.address == host && ($0.instance ?? "").caseInsensitiveCompare(instance) == .orderedSame
            }),
            database.up, database.browserRuns, !database.isHidden
        else { return nil }
        return (host, database.port)
    }
}
