import FarmProtocol
import Foundation

/// A client on a simulated server logging in to a simulated SQL Server as SqlClient does: the
/// instance found as SimulatedSQLClient finds it (hosts file, a given port, 1433, or SQL Server
/// Browser), a real TCP connection to its port, then the instance's own logins and catalogs
/// (SimulatedSecurity) decide, as SQL Server does after the TDS login packet.
enum SimulatedSQLLogin {
    /// How the client authenticates.
    enum Credentials {
        case sql(user: String, password: String)
        /// Integrated security; nil: a logon without network credentials (SQL Server sees ANONYMOUS LOGON).
        case windows(identity: String?)
    }

    /// The answer, or SqlClient's network error (number, message) when the instance cannot be reached.
    static func login(
        server: String, catalog: String, credentials: Credentials, serverDirectory: String, timeout: Double
    ) -> SimulatedSecurity.Answer {
        guard let farm = try? LocalFarm.record(in: farmDirectory(of: serverDirectory)) else {
            return .failed(number: 0, state: 0, message: "osfarm-sim: no farm record above \(serverDirectory)")
        }
        guard let endpoint = farm.endpoint(of: server, resolve: { DatabaseProbe.resolve($0, serverDirectory: serverDirectory) }) else {
            return .failed(number: 26, state: 0, message: SimulatedSQLClient.instanceNotFound)
        }
        // SqlClient's provider error for a TCP connection refused: 10061 ("TCP Provider, error: 0").
        guard DatabaseProbe.answers(host: endpoint.address, port: endpoint.port, timeout: timeout),
            let database = farm.allDatabases.first(where: { $0.address == endpoint.address && $0.port == endpoint.port && $0.up })
        else {
            return .failed(number: 10061, state: 0, message: SimulatedSQLClient.notAccessible + " (provider: TCP Provider, error: 0)")
        }
        guard let security = database.security else {
            let anyone = SimulatedSecurity.Login(
                name: "sa", sid: "0x01", windows: false, passwordSHA256: nil, enabled: true, defaultDatabase: "master", viewAnyDefinition: true)
            return .loggedIn(
                login: anyone, user: .init(name: "dbo", sid: "0x01", roles: ["db_owner"]), catalog: .init(name: catalog, users: []))
        }
        switch credentials {
        case let .sql(user, password): return security.answer(user: user, password: password, catalog: catalog)
        case let .windows(identity): return security.answer(user: identity, password: nil, catalog: catalog)
        }
    }

    /// The instance a server value reaches from a server, with its security (nil when unreachable or unsecured).
    static func security(server: String, serverDirectory: String) -> SimulatedSecurity? {
        guard let farm = try? LocalFarm.record(in: farmDirectory(of: serverDirectory)),
            let endpoint = farm.endpoint(of: server, resolve: { DatabaseProbe.resolve($0, serverDirectory: serverDirectory) })
        else { return nil }
        return farm.allDatabases.first { $0.address == endpoint.address && $0.port == endpoint.port }?.security
    }

    /// A simulated server lives in FARM/servers/NAME.
    static func farmDirectory(of serverDirectory: String) -> String {
        ((serverDirectory as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
    }

    /// The identity a session on this server logs in to SQL Server with under integrated security:
    /// nil for a key-authenticated Win32-OpenSSH session (no network credentials: Win32-OpenSSH
    /// issues 518, 1264); the platform's admin account when the server is set to give sessions
    /// credentials (a password logon, or delegation configured).
    static func sessionIdentity(serverDirectory: String, hsconf: SimulatedHsconf?) -> String? {
        guard (try? StateStore(serverDirectory: serverDirectory).read())?.faults.sessionNetworkCredentials == true else { return nil }
        return hsconf?.value(DatabaseSection.platform.elementName, "AdminUser")
    }
}
