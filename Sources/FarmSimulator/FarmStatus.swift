import FarmProtocol
import Foundation

/// The state of a simulated farm read straight from its files and processes, never through the
/// agent: the ground truth tests compare the controller's claims against.
public struct FarmStatus: Codable, Sendable {
    public struct Server: Codable, Sendable {
        public var name: String
        public var role: ServerRole
        public var address: String
        public var port: Int
        public var sshdRunning: Bool
    }

    public var directory: String
    public var servers: [Server]

    public static func read(directory: String) throws -> FarmStatus {
        let farm = try LocalFarm.record(in: directory)
        return FarmStatus(directory: directory, servers: farm.servers.map {
            Server(name: $0.name, role: $0.role, address: $0.address, port: $0.port, sshdRunning: ProcessTree.isAlive($0.sshdPID))
        })
    }

    public func json() throws -> String {
        String(decoding: try WireCodec.recordEncoder(pretty: true).encode(self), as: UTF8.self) + "\n"
    }

    public func text() -> String {
        var lines = ["farm in \(directory)"]
        for server in servers {
            lines.append("  \(server.name)  \(server.role.rawValue)  \(server.address):\(server.port)  sshd \(server.sshdRunning ? "running" : "STOPPED")")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
