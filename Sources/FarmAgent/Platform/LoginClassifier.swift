import FarmProtocol
import Foundation

/// What the login check script said about one login, turned into a finding with the DBA's fix.
///
/// SQL Server gives a client only "Login failed for user '…'." (18456) whatever the cause: the
/// state that tells a missing login (5) from a wrong password (8) or a disabled login (7) goes to
/// the server's error log only ("MSSQLSERVER_18456", SQL Server docs). The script therefore asks,
/// through another login that worked on the same server and catalog, whether the login exists and
/// is enabled; that needs VIEW ANY DEFINITION, else the finding stays "login failed" with every
/// possible fix.
enum LoginClassifier {
    /// One check's line: ok with what the login could do, or SQL Server's error.
    struct Record: Decodable {
        var id: String
        var ok: Bool?
        var login: String?
        var roles: [String]?
        var defaultDatabase: String?
        var defaultDatabaseExists: Bool?
        var number: Int?
        var message: String?
    }

    /// What a working login on the same server saw of a failed one.
    struct Refinement: Decodable {
        var id: String
        var refined: Bool?
        var canSeeLogins: Bool?
        var loginExists: Bool?
        var loginDisabled: Bool?
        var userExists: Bool?
    }

    /// SqlClient's numbers for a server it could not reach (SqlException.Number carries the
    /// network error: 53 and 40 for named pipes, 26 locating an instance, 10060/10061 TCP, -2 timeout).
    static let networkErrors: Set<Int> = [-2, -1, 2, 26, 40, 53, 258, 1225, 10053, 10054, 10060, 10061, 11001]

    static func quoted(_ name: String) -> String { "[" + name.replacingOccurrences(of: "]", with: "]]") + "]" }

    static func finding(_ attempt: LoginChecker.Attempt, _ record: Record?, refined: Refinement?) -> LoginFinding {
        func make(_ kind: LoginFindingKind, _ number: Int?, _ message: String, fix: String? = nil) -> LoginFinding {
            LoginFinding(
                section: attempt.section, role: attempt.role, user: attempt.user, server: attempt.server, catalog: attempt.catalog, kind: kind,
                errorNumber: number, message: message, fix: fix)
        }
        let user = quoted(attempt.user), catalog = quoted(attempt.catalog)
        guard let record, let ok = record.ok else { return make(.notChecked, nil, "the login check script said nothing about this login") }
        if ok {
            let roles = Set(record.roles ?? [])
            let missing = roles.contains("db_owner") ? [] : attempt.role.requiredRoles.filter { !roles.contains($0) }
            if !missing.isEmpty {
                return make(
                    .permission, 229,
                    "logs in and opens \(attempt.catalog), but is not in \(missing.joined(separator: ", ")): the platform's first query as this user fails with 229 (permission denied)",
                    fix: "USE \(catalog); " + missing.map { "ALTER ROLE \(quoted($0)) ADD MEMBER \(user);" }.joined(separator: " "))
            }
            if record.defaultDatabaseExists == false {
                let named = record.defaultDatabase ?? "?"
                return make(
                    .defaultDatabase, 4064,
                    "the login's default database \(named) does not exist here: the platform names its catalog and is not affected, but a tool that does not (sqlcmd, SSMS) fails with 4064",
                    fix: "ALTER LOGIN \(quoted(record.login ?? attempt.user)) WITH DEFAULT_DATABASE = \(catalog);")
            }
            return make(.ok, nil, "logs in as \(record.login ?? attempt.user), opens \(attempt.catalog), has the roles it needs")
        }
        let number = record.number ?? 0
        let said = record.message ?? ""
        switch number {
        case 18456 where attempt.integrated:
            if said.localizedCaseInsensitiveContains("ANONYMOUS LOGON") {
                return make(
                    .noNetworkCredentials, number,
                    "SQL Server saw NT AUTHORITY\\ANONYMOUS LOGON (\(said)): this SSH session has no network credentials (a key-authenticated Win32-OpenSSH logon), so the Configuration Tool run from it would fail the same way (the double hop). Give this server's SSH sessions network credentials for \(attempt.server) (Kerberos constrained delegation using any protocol to its MSSQLSvc service), or run the Configuration Tool at the console; --no-login-check goes on at your own risk"
                )
            }
            return make(
                .loginMissing, number, "SQL Server refused the session's Windows identity: \(said)",
                fix:
                    "CREATE LOGIN [DOMAIN\\account] FROM WINDOWS WITH DEFAULT_DATABASE = \(catalog); USE \(catalog); ALTER USER [DOMAIN\\account] WITH LOGIN = [DOMAIN\\account];"
            )
        case 18456:
            let carry = "carry the login over from the old server with its SID and password (sp_help_revlogin)"
            if let refined, refined.refined == true, refined.canSeeLogins == true {
                if refined.loginExists == false {
                    return make(
                        .loginMissing, number, "no login \(attempt.user) on \(attempt.server) (\(said))",
                        fix:
                            "\(carry); or CREATE LOGIN \(user) WITH PASSWORD = N'<the password server.hsconf holds>'; USE \(catalog); ALTER USER \(user) WITH LOGIN = \(user);"
                    )
                }
                if refined.loginDisabled == true {
                    return make(.disabled, number, "the login \(attempt.user) is disabled on \(attempt.server) (\(said))", fix: "ALTER LOGIN \(user) ENABLE;")
                }
                return make(
                    .wrongPassword, number, "the login \(attempt.user) exists on \(attempt.server) with another password than server.hsconf holds (\(said))",
                    fix: "ALTER LOGIN \(user) WITH PASSWORD = N'<the password server.hsconf holds>'; or \(carry)")
            }
            return make(
                .loginFailed, number,
                "\(said) SQL Server does not tell a client why (its error log does: state 5 no such login, 7 disabled, 8 wrong password); grant VIEW ANY DEFINITION to the admin login for osfarm to tell",
                fix: "\(carry); or ALTER LOGIN \(user) ENABLE; or ALTER LOGIN \(user) WITH PASSWORD = N'<the password server.hsconf holds>'")
        case 4060:
            let fix =
                refined?.userExists == false
                ? "USE \(catalog); CREATE USER \(user) FOR LOGIN \(user); then add it to " + attempt.role.requiredRoles.joined(separator: ", ")
                : "USE \(catalog); ALTER USER \(user) WITH LOGIN = \(user);"
            return make(
                .orphanedUser, number,
                "the login works but maps to no user in \(attempt.catalog) (\(said)): the restored user keeps the old server's SID (an orphaned user)",
                fix: fix)
        case 4064:
            return make(.defaultDatabase, number, said, fix: "ALTER LOGIN \(user) WITH DEFAULT_DATABASE = \(catalog);")
        case 229, 916:
            return make(
                .permission, number, said,
                fix: "USE \(catalog); " + attempt.role.requiredRoles.map { "ALTER ROLE \(quoted($0)) ADD MEMBER \(user);" }.joined(separator: " "))
        case let network where networkErrors.contains(network):
            return make(.unreachable, number, said)
        default:
            return make(.notChecked, number == 0 ? nil : number, said.isEmpty ? "the login check failed without a message" : said)
        }
    }
}
