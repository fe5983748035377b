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
        /// The Server value of each database section of server.hsconf.
        public var databaseServers: [String: String]
        public var hsconfProblem: String?
        public var lastConfigurationTool: ConfigurationToolRecord?
        /// The display language of its Windows programs and its Win32-OpenSSH shell (simulated servers).
        public var language: DisplayLanguage?
        public var defaultShell: DefaultShell?

        /// Every enabled OutSystems service and IIS running, and the services with ports initialised.
        public var allRunning: Bool {
            iisRunning && services.filter { $0.startType != .disabled }.allSatisfy { $0.state == .running }
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
    public var networkRunning: Bool
    public var servers: [Server]

    public static func read(directory: String) throws -> FarmStatus {
        let farm = try LocalFarm.record(in: directory)
        var servers: [Server] = []
        for record in farm.servers {
            var server = Server(name: record.name, role: record.role, address: record.address, port: record.port,
                                sshdRunning: ProcessTree.isAlive(record.sshdPID), services: [], iisRunning: false,
                                databaseServers: [:], hsconfProblem: nil, lastConfigurationTool: nil,
                                language: record.language, defaultShell: record.defaultShell)
            if let state = try? StateStore(serverDirectory: record.directory).read() {
                server.services = state.services.map { Service(name: $0.name, state: $0.state, startType: $0.startType, initialised: $0.initialised) }
                server.iisRunning = ["W3SVC", "WAS"].allSatisfy { state.service($0)?.state == .running }
                server.lastConfigurationTool = state.lastConfigurationTool
                let path = ServerBuilder.localPath(ServerBuilder.installDirectory + #"\server.hsconf"#, serverDirectory: record.directory)
                do {
                    let hsconf = try SimulatedHsconf(text: try String(contentsOfFile: path, encoding: .utf8))
                    for section in DatabaseSection.allCases { server.databaseServers[section.rawValue] = hsconf.server(section) ?? "" }
                } catch {
                    server.hsconfProblem = "\(error)"
                }
            }
            servers.append(server)
        }
        return FarmStatus(directory: directory, profile: farm.profile, oldDatabase: farm.oldDatabase, newDatabase: farm.newDatabase,
                          networkRunning: farm.networkPID.map(ProcessTree.isAlive) ?? false, servers: servers)
    }

    public func json() throws -> String {
        String(decoding: try WireCodec.recordEncoder(pretty: true).encode(self), as: UTF8.self) + "\n"
    }

    public func text() -> String {
        var lines = ["farm in \(directory)" + (profile.map { " (profile \($0.rawValue))" } ?? "")]
        if let old = oldDatabase, let new = newDatabase { lines.append("databases: old \(old.server)\(old.up ? "" : " (down)"), new \(new.server)\(new.up ? "" : " (down)")") }
        for server in servers {
            let running = server.services.filter { $0.state == .running }.count
            let database = server.database ?? "SPLIT " + server.databaseServers.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
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
