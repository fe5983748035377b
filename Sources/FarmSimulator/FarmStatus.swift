import FarmProtocol
import Foundation

/// The state of a simulated farm read straight from its files and processes, never through the
/// agent: the ground truth tests compare the controller's claims against.
public struct FarmStatus: Codable, Sendable {
    public struct Service: Codable, Sendable, Equatable {
        public var name: String
        public var state: ServiceState
        public var startType: ServiceStartType
        public var initialised: Bool
    }

    public struct Server: Codable, Sendable {
        public var name: String
        public var role: ServerRole
        public var address: String
        public var port: Int
        public var sshdRunning: Bool
        public var services: [Service]
        /// W3SVC and WAS both running.
        public var iisRunning: Bool
        /// The Server value of each database section of server.hsconf (`Host,Port` for Oracle), by
        /// section name: platform, session, logging.
        public var databaseServers: [String: String]
        public var hsconfProblem: String?
        public var lastConfigurationTool: ConfigurationToolRecord?
        /// The display language of its Windows programs and its Win32-OpenSSH shell (simulated servers).
        public var language: DisplayLanguage?
        public var defaultShell: DefaultShell?
        /// The installed platform version (registry Installer\Server `Server`).
        public var platformVersion: String?
        /// How many HTTP requests the server's web server received (its http.log).
        public var httpRequests: Int
        /// The port of the site's HTTPS binding, when it has one (`fault --https-binding`).
        public var httpsPort: Int? = nil

        /// IIS and every service that runs on its own (Automatic) running. A Manual service may rest
        /// stopped: a front-end's Manual Deployment Controller service does.
        public var allRunning: Bool {
            iisRunning
                && services.filter { $0.startType == .automatic || $0.startType == .boot || $0.startType == .system }
                    .allSatisfy { $0.state == .running }
        }

        /// The one database server all three sections name, or nil when they differ.
        public var database: String? {
            let values = Set(databaseServers.values.map { $0.lowercased() })
            return values.count == 1 ? databaseServers.values.first : nil
        }
    }

    public var directory: String
    public var profile: SimulationProfile?
    public var oldDatabase: SimulatedDatabase?
    public var newDatabase: SimulatedDatabase?
    public var sessionDatabase: SimulatedDatabase?
    public var loggingDatabase: SimulatedDatabase?
    public var networkRunning: Bool
    public var servers: [Server]

    public static func read(directory: String) throws -> FarmStatus {
        let farm = try LocalFarm.record(in: directory)
        var servers: [Server] = []
        for record in farm.servers {
            var server = Server(
                name: record.name, role: record.role, address: record.address, port: record.port,
                sshdRunning: ProcessTree.isAlive(record.sshdPID), services: [], iisRunning: false,
                databaseServers: [:], hsconfProblem: nil, lastConfigurationTool: nil,
                language: record.language, defaultShell: record.defaultShell, platformVersion: nil,
                httpRequests: SimulatedWebServer.requests(serverDirectory: record.directory).count)
            if let state = try? StateStore(serverDirectory: record.directory).read() {
                server.services = state.services.map { Service(name: $0.name, state: $0.state, startType: $0.startType, initialised: $0.initialised) }
                server.iisRunning = ["W3SVC", "WAS"].allSatisfy { state.service($0)?.state == .running }
                server.lastConfigurationTool = state.lastConfigurationTool
                server.httpsPort = state.faults.httpsBinding?.port
                server.platformVersion =
                    state.registry.first { $0.key.hasSuffix(#"\OutSystems\Installer\Server"#) }?.value
                    .first { $0.name == "Server" }?.data
                let path = ServerBuilder.localPath(ServerBuilder.installDirectory + #"\server.hsconf"#, serverDirectory: record.directory)
                do {
                    let hsconf = try SimulatedHsconf(text: try String(contentsOfFile: path, encoding: .utf8))
                    for section in DatabaseSection.allCases { server.databaseServers[section.rawValue] = hsconf.databaseLocation(section) ?? "" }
                } catch {
                    server.hsconfProblem = "\(error)"
                }
            }
            servers.append(server)
        }
        return FarmStatus(
            directory: directory, profile: farm.profile, oldDatabase: farm.oldDatabase, newDatabase: farm.newDatabase,
            sessionDatabase: farm.sessionDatabase, loggingDatabase: farm.loggingDatabase, networkRunning: farm.networkPID.map(ProcessTree.isAlive) ?? false,
            servers: servers)
    }

    public func json() throws -> String {
        String(decoding: try WireCodec.recordEncoder(pretty: true).encode(self), as: UTF8.self) + "\n"
    }

    public func text() -> String {
        var lines = ["farm in \(directory)" + (profile.map { " (profile \($0.rawValue))" } ?? "")]
        let databases = [("old", oldDatabase), ("new", newDatabase), ("session", sessionDatabase), ("logging", loggingDatabase)]
            .compactMap { label, database in
                database.map { "\(label) \($0.server)\($0.up ? "" : " (down)")\($0.instance != nil && !$0.browserRuns ? " (no Browser)" : "")" }
            }
        if !databases.isEmpty { lines.append("databases: " + databases.joined(separator: ", ")) }
        for server in servers {
            let running = server.services.filter { $0.state == .running }.count
            let database =
                server.database ?? "SPLIT " + server.databaseServers.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            var line = "  \(server.name)  \(server.role.rawValue)  \(server.address):\(server.port)  sshd \(server.sshdRunning ? "up" : "DOWN")"
            if let language = server.language { line += "  \(language.rawValue) \(server.defaultShell?.rawValue ?? "cmd")" }
            if !server.services.isEmpty {
                line += "  services \(running)/\(server.services.count) running  IIS \(server.iisRunning ? "running" : "stopped")  db \(database)"
            }
            if let tool = server.lastConfigurationTool { line += "  config-tool exit \(tool.exitCode)" }
            lines.append(line)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
