/// `check-logins`: from the server the agent runs on, log in to the database each moving section
/// goes to as every user server.hsconf names for it, open the catalog, and check what that user
/// must be able to do there. The passwords stay on the server: the agent decrypts them from
/// server.hsconf with private.key itself, and neither the request nor the answer carries one.

public struct LoginCheckArguments: Codable, Sendable, Equatable {
    /// Where each moving section goes (the catalog stays server.hsconf's when nil).
    public var targets: DatabaseTargets
    /// SqlClient's Connect Timeout for each login, in seconds.
    public var timeoutSeconds: Double

    public init(targets: DatabaseTargets, timeoutSeconds: Double = 15) {
        self.targets = targets
        self.timeoutSeconds = timeoutSeconds
    }
}

/// Which user of a section server.hsconf names (AdminUser, RuntimeUser, SessionUser).
public enum DatabaseUserRole: String, Codable, Sendable, CaseIterable {
    case admin, runtime, session

    /// The element of server.hsconf that names the user.
    public var userElement: String {
        switch self {
        case .admin: return "AdminUser"
        case .runtime: return "RuntimeUser"
        case .session: return "SessionUser"
        }
    }

    public var passwordElement: String {
        switch self {
        case .admin: return "AdminPassword"
        case .runtime: return "RuntimePassword"
        case .session: return "SessionPassword"
        }
    }

    /// The database roles OutSystems documents for the user ("Change SQL Server database
    /// authentication mode": the admin user db_accessadmin, db_datareader, db_datawriter,
    /// db_ddladmin and db_securityadmin; the runtime and log users db_datareader and db_datawriter).
    /// The session user owns the session catalog's objects (it creates them: /RebuildSession).
    public var requiredRoles: [String] {
        switch self {
        case .admin: return ["db_accessadmin", "db_datareader", "db_datawriter", "db_ddladmin", "db_securityadmin"]
        case .runtime: return ["db_datareader", "db_datawriter"]
        case .session: return ["db_datareader", "db_datawriter", "db_ddladmin"]
        }
    }

    /// The roles a section's users have.
    public static func of(_ section: DatabaseSection) -> [DatabaseUserRole] {
        section == .session ? [.session] : [.admin, .runtime]
    }
}

/// What the check found for one user.
public enum LoginFindingKind: String, Codable, Sendable {
    /// Logged in, opened the catalog, has the roles it needs.
    case ok
    /// No login of that name on the server (18456, state 5 in SQL Server's log).
    case loginMissing = "login-missing"
    /// The login exists with another password (18456, state 8).
    case wrongPassword = "wrong-password"
    /// The login is disabled (18456, state 7).
    case disabled
    /// 18456 and the check could not see why (SQL Server tells the client only "Login failed";
    /// the state is in the server's error log).
    case loginFailed = "login-failed"
    /// The login works but maps to no user in the catalog: the restored user has the old server's
    /// SID (an orphaned user), or there is none (4060 Cannot open database).
    case orphanedUser = "orphaned-user"
    /// The login's default database does not exist on the server (4064 without a catalog). The
    /// platform names its catalog, so this alone does not stop it; tools that do not, fail.
    case defaultDatabase = "default-database"
    /// Logged in and opened the catalog, but lacks a role the user needs (229 at its first query).
    case permission
    /// An integrated-authentication farm, checked in a session without network credentials: SQL
    /// Server saw NT AUTHORITY\ANONYMOUS LOGON (a key-authenticated Win32-OpenSSH session; the double hop).
    case noNetworkCredentials = "no-network-credentials"
    /// The server did not answer (no TCP connection, or SqlClient's network errors).
    case unreachable
    /// The check could not run: server.hsconf names no user, a password cannot be decrypted,
    /// PowerShell or SqlClient is missing.
    case notChecked = "not-checked"

    /// Whether the move can go on with this finding.
    public var blocksMove: Bool {
        switch self {
        case .ok, .defaultDatabase: return false
        default: return true
        }
    }
}

public struct LoginFinding: Codable, Sendable, Equatable {
    public var section: DatabaseSection
    public var role: DatabaseUserRole
    /// The login name (never a password).
    public var user: String
    public var server: String
    public var catalog: String
    public var kind: LoginFindingKind
    /// SQL Server's error number, when it gave one (18456, 4060, 4064, 229, 916...).
    public var errorNumber: Int?
    /// One line for humans: what SQL Server said and what it means.
    public var message: String
    /// What a DBA runs on the new server to clear it (T-SQL), when it is a database matter.
    public var fix: String?

    public init(
        section: DatabaseSection, role: DatabaseUserRole, user: String, server: String, catalog: String, kind: LoginFindingKind,
        errorNumber: Int? = nil, message: String, fix: String? = nil
    ) {
        self.section = section
        self.role = role
        self.user = user
        self.server = server
        self.catalog = catalog
        self.kind = kind
        self.errorNumber = errorNumber
        self.message = message
        self.fix = fix
    }

    /// "platform admin OSADMIN on DB2\outsystems".
    public var subject: String { "\(section.rawValue) \(role.rawValue) \(user) on \(server)\\\(catalog)" }
}

public struct LoginCheckResult: Codable, Sendable, Equatable {
    /// The identity the check ran as on an integrated-authentication farm; nil on database authentication.
    public var sessionIdentity: String?
    public var findings: [LoginFinding]

    public init(sessionIdentity: String? = nil, findings: [LoginFinding]) {
        self.sessionIdentity = sessionIdentity
        self.findings = findings
    }

    public var blocking: [LoginFinding] { findings.filter { $0.kind.blocksMove } }
    public var passed: Bool { blocking.isEmpty }
}
