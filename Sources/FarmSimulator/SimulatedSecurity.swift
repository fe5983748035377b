import FarmProtocol
import Foundation

/// A simulated SQL Server instance's logins and its restored catalogs' users, and how a client
/// logging in is answered. From SQL Server's docs:
/// - a login is a server principal (SQL login with a password, or a Windows login), enabled or
///   disabled, with a default database; a catalog's user maps to a login by SID, and a backup
///   carries the users but not the logins, so after a restore on another server a user whose SID
///   no login has is orphaned ("Troubleshoot orphaned users", "ALTER USER … WITH LOGIN");
/// - a failed login is error 18456 "Login failed for user '<name>'." for the client whatever the
///   reason; the state (5 no such login, 7 disabled, 8 wrong password, 16/38/40 database) goes to
///   the server's error log only ("MSSQLSERVER_18456");
/// - a login that cannot open the catalog it asks for gets 4060 "Cannot open database "<name>"
///   requested by the login. The login failed." ("MSSQLSERVER_4060"); one whose default database is
///   unavailable and asks for none gets 4064 "Cannot open user default database. Login failed."
///   ("MSSQLSERVER_4064");
/// - a user lacking a permission gets 229 "The <permission> permission was denied on the object
///   '<object>', database '<database>', schema '<schema>'." ("MSSQLSERVER_229");
/// - Windows authentication from a logon without network credentials arrives as
///   NT AUTHORITY\ANONYMOUS LOGON (the double hop: "Login failed for user 'NT AUTHORITY\ANONYMOUS
///   LOGON'", SQL Server's Kerberos troubleshooting).
/// Passwords are kept as SHA-256 digests, as a server keeps a hash.
public struct SimulatedSecurity: Codable, Sendable, Equatable {
    public struct Login: Codable, Sendable, Equatable {
        public var name: String
        public var sid: String
        public var windows: Bool
        public var passwordSHA256: String?
        public var enabled: Bool
        public var defaultDatabase: String
        /// VIEW ANY DEFINITION: sees every login in sys.server_principals.
        public var viewAnyDefinition: Bool
    }

    public struct User: Codable, Sendable, Equatable {
        public var name: String
        public var sid: String
        public var roles: [String]
    }

    public struct Catalog: Codable, Sendable, Equatable {
        public var name: String
        public var users: [User]
    }

    public var logins: [Login]
    public var catalogs: [Catalog]

    /// The platform's users as the simulated server.hsconf names them, their passwords, their
    /// catalog and the roles OutSystems documents for them ("Change SQL Server database
    /// authentication mode": admin db_accessadmin, db_datareader, db_datawriter, db_ddladmin,
    /// db_securityadmin; runtime and log db_datareader, db_datawriter).
    public static let platformUsers: [(name: String, password: String, catalog: String, roles: [String])] = [
        ("OSADMIN", "Adm1n&Platform", "outsystems", ["db_owner"]),
        ("OSRUNTIME", "Run<time>Pass", "outsystems", ["db_datareader", "db_datawriter"]),
        ("OSADMIN_LOG", "LogAdm1n", "outsystems_log", ["db_owner"]),
        ("OSRUNTIME_LOG", "LogRunt1me", "outsystems_log", ["db_datareader", "db_datawriter"]),
        ("OSSTATE", "S3ssion", "osSession", ["db_owner"]),
    ]

    public static func password(of user: String) -> String? { platformUsers.first { $0.name == user }?.password }

    static func digest(_ password: String) -> String { SHA256.hex(Array(password.utf8)) }

    /// An instance where the restore went right: every login carried over with its SID and
    /// password, every user mapped, the admin logins allowed to see the others.
    /// `catalogs` renames the sections' catalogs (a replica's are the real farm's).
    public static func restored(
        windowsAuthentication: Bool, catalogs names: [DatabaseSection: String] = SimulatedLayout.defaultCatalogs
    ) -> SimulatedSecurity {
        var logins: [Login] = []
        var catalogs: [String: [User]] = [:]
        for (index, listed) in platformUsers.enumerated() {
            var user = listed
            if let section = SimulatedLayout.defaultCatalogs.first(where: { $0.value == listed.catalog })?.key, let name = names[section] {
                user.catalog = name
            }
            let sid = String(format: "0x%032X", 0x5EED_0000 + index)
            logins.append(
                Login(
                    name: user.name, sid: sid, windows: windowsAuthentication, passwordSHA256: windowsAuthentication ? nil : digest(user.password),
                    enabled: true, defaultDatabase: user.catalog, viewAnyDefinition: user.name.hasPrefix("OSADMIN")))
            catalogs[user.catalog, default: []].append(User(name: user.name, sid: sid, roles: user.roles))
        }
        if windowsAuthentication, let admin = logins.first {
            // On integrated authentication the Configuration Tool's Grant Permissions gives the
            // admin Windows account its user in every catalog (the session and log ones too).
            for (name, users) in catalogs where !users.contains(where: { $0.sid == admin.sid }) {
                catalogs[name]?.append(User(name: admin.name, sid: admin.sid, roles: ["db_owner"]))
            }
        }
        return SimulatedSecurity(logins: logins, catalogs: catalogs.sorted { $0.key < $1.key }.map { Catalog(name: $0.key, users: $0.value) })
    }

    // MARK: Logging in

    /// What SQL Server answers a client.
    public enum Answer: Equatable, Sendable {
        case loggedIn(login: Login, user: User, catalog: Catalog)
        case failed(number: Int, state: Int, message: String)
    }

    static let systemDatabases: Set<String> = ["master", "tempdb", "model", "msdb"]

    func login(named name: String) -> Login? { logins.first { $0.name.caseInsensitiveCompare(name) == .orderedSame } }
    func catalog(named name: String) -> Catalog? { catalogs.first { $0.name.caseInsensitiveCompare(name) == .orderedSame } }

    /// A SQL login (`password` given) or a Windows identity (`password` nil; nil identity: a logon
    /// without network credentials) opening `catalog`.
    public func answer(user name: String?, password: String?, catalog catalogName: String) -> Answer {
        guard let name else {
            return .failed(number: 18456, state: 5, message: "Login failed for user 'NT AUTHORITY\\ANONYMOUS LOGON'.")
        }
        let refused = "Login failed for user '\(name)'."
        guard let login = login(named: name), login.windows == (password == nil) else { return .failed(number: 18456, state: 5, message: refused) }
        if let password, login.passwordSHA256 != Self.digest(password) { return .failed(number: 18456, state: 8, message: refused) }
        guard login.enabled else { return .failed(number: 18456, state: 7, message: refused) }
        let cannotOpen = "Cannot open database \"\(catalogName)\" requested by the login. The login failed."
        guard let catalog = catalog(named: catalogName), let user = catalog.users.first(where: { $0.sid == login.sid }) else {
            return .failed(number: 4060, state: 1, message: cannotOpen)
        }
        return .loggedIn(login: login, user: user, catalog: catalog)
    }

    func defaultDatabaseExists(_ login: Login) -> Bool {
        Self.systemDatabases.contains(login.defaultDatabase.lowercased()) || catalog(named: login.defaultDatabase) != nil
    }

    /// Whether a logged-in user may do what `role` needs (a db_owner may do everything).
    static func has(_ user: User, role: String) -> Bool { user.roles.contains("db_owner") || user.roles.contains(role) }
}

/// What a DBA can break on the new server, and the fix that clears it.
public enum LoginFault: String, CaseIterable, Sendable {
    /// The login was not carried over.
    case missing
    /// The login was created anew (another SID): the restored user is orphaned.
    case orphaned
    case disabled
    /// The login has another password than server.hsconf holds.
    case password
    /// The login's default database does not exist here.
    case defaultDatabase = "default-database"
    /// The user lost the roles it needs.
    case permission
    /// The Windows login of the platform's account is missing (integrated authentication).
    case windowsMissing = "windows-missing"

    /// Breaks `user` on the instance.
    public func apply(to security: inout SimulatedSecurity, user: String) throws {
        guard let index = security.logins.firstIndex(where: { $0.name.caseInsensitiveCompare(user) == .orderedSame }) else {
            throw SimulatorError.unknownServer("login \(user) (the logins are " + security.logins.map(\.name).joined(separator: ", ") + ")")
        }
        switch self {
        case .missing, .windowsMissing: security.logins.remove(at: index)
        case .orphaned: security.logins[index].sid = "0x" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
        case .disabled: security.logins[index].enabled = false
        case .password: security.logins[index].passwordSHA256 = SimulatedSecurity.digest("not-the-hsconf-password")
        case .defaultDatabase: security.logins[index].defaultDatabase = "outsystems_old"
        case .permission:
            for catalog in security.catalogs.indices {
                for member in security.catalogs[catalog].users.indices where security.catalogs[catalog].users[member].name == user {
                    security.catalogs[catalog].users[member].roles = ["public"]
                }
            }
        }
    }

    /// The DBA's fix: every login and user of `user` back as a good restore leaves them.
    public static func fix(_ security: inout SimulatedSecurity, user: String, windowsAuthentication: Bool) {
        let good = SimulatedSecurity.restored(windowsAuthentication: windowsAuthentication)
        guard let login = good.login(named: user) else { return }
        security.logins.removeAll { $0.name.caseInsensitiveCompare(user) == .orderedSame }
        security.logins.append(login)
        for catalog in good.catalogs {
            guard let wanted = catalog.users.first(where: { $0.name == login.name }),
                let index = security.catalogs.firstIndex(where: { $0.name == catalog.name })
            else { continue }
            security.catalogs[index].users.removeAll { $0.name == login.name }
            security.catalogs[index].users.append(wanted)
        }
    }
}
