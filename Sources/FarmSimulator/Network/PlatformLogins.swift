import FarmProtocol
import Foundation

/// Whether the platform's own programs can log in to their databases, as server.hsconf configures
/// them: the simulated services and Service Center use the runtime and admin users of the platform
/// section (the Configuration Tool the admin users), and fail as SqlClient does when they cannot.
/// On integrated authentication the Deployment Controller and Deployment services run as the admin
/// Windows account and the Scheduler and Service Center's pool as the runtime one ("Change SQL
/// Server database authentication mode", OutSystems docs), with that account's credentials.
enum PlatformLogins {
    /// The first login of `roles` in `section` that fails, as "SqlException (number): message"; nil when all log in.
    static func problem(
        _ section: DatabaseSection, roles: [DatabaseUserRole], hsconf: SimulatedHsconf, farm: LocalFarmRecord, serverDirectory: String
    ) -> String? {
        guard let server = hsconf.databaseLocation(section),
            let endpoint = farm.endpoint(of: server, resolve: { DatabaseProbe.resolve($0, serverDirectory: serverDirectory) }),
            let database = farm.allDatabases.first(where: { $0.address == endpoint.address && $0.port == endpoint.port }),
            let security = database.security
        else { return nil }
        let element = section.elementName
        let catalog = hsconf.value(element, "Catalog") ?? ""
        let integrated = hsconf.value(element, "UsedAuthenticationMode") == "Windows Authentication"
        let keyPath = ServerBuilder.localPath(ServerBuilder.installDirectory + #"\private.key"#, serverDirectory: serverDirectory)
        let key = (try? String(contentsOfFile: keyPath, encoding: .utf8)).flatMap(HsconfCipher.keyBytes(privateKeyFile:)) ?? []
        for role in roles {
            guard let user = hsconf.value(element, role.userElement) else { continue }
            let answer: SimulatedSecurity.Answer
            if integrated {
                answer = security.answer(user: user, password: nil, catalog: catalog)
            } else {
                let stored = hsconf.value(element, role.passwordElement) ?? ""
                let password = stored.hasPrefix("$2$") ? (HsconfCipher.decrypt(stored, key: key) ?? "") : stored
                answer = security.answer(user: user, password: password, catalog: catalog)
            }
            switch answer {
            case let .failed(number, _, message): return "System.Data.SqlClient.SqlException (0x80131904): \(message) (error \(number))"
            case let .loggedIn(_, dbUser, _):
                if let missing = role.requiredRoles.first(where: { !SimulatedSecurity.has(dbUser, role: $0) }) {
                    let permission = missing == "db_datawriter" ? "INSERT" : missing == "db_datareader" ? "SELECT" : "ALTER"
                    return
                        "System.Data.SqlClient.SqlException (0x80131904): The \(permission) permission was denied on the object 'ossys_Parameter', database '\(catalog)', schema 'dbo'. (error 229)"
                }
            }
        }
        return nil
    }
}
