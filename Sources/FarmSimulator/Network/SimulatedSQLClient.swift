import FarmProtocol
import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// How the simulated Windows programs (the Configuration Tool) reach a SQL Server the way SqlClient
/// does: a given port directly, a default instance on 1433, a named instance through SQL Server
/// Browser first (one CLNT_UCAST_INST datagram to UDP 1434, [MC-SQLR] §2.2.3, answered with the
/// instance's `tcp;PORT`). The simulator's own code, deliberately not the agent's Browser client.
enum SimulatedSQLClient {
    /// SqlClient's message when Browser gives no answer for a named instance (SQL Server docs,
    /// MSSQLSERVER_2 troubleshooting: "error: 26 - Error Locating Server/Instance Specified").
    static let instanceNotFound =
        "A network-related or instance-specific error occurred while establishing a connection to SQL Server. The server was not found or was not accessible. Verify that the instance name is correct and that SQL Server is configured to allow remote connections. (provider: SQL Network Interfaces, error: 26 - Error Locating Server/Instance Specified)"
    /// Its message when the TCP connection fails.
    static let notAccessible =
        "A network-related or instance-specific error occurred while establishing a connection to SQL Server. The server was not found or was not accessible."

    /// Connects to a server value from a simulated server; nil when it answers, else SqlClient's message.
    static func connectionProblem(_ server: String, serverDirectory: String, timeout: Double) -> String? {
        guard let address = DatabaseServerAddress(server) else { return "Invalid database server name '\(server)'" }
        let host = DatabaseProbe.resolve(address.networkHost, serverDirectory: serverDirectory)
        let port: Int
        if let known = address.portWithoutBrowser {
            port = known
        } else if let instance = address.instance, let announced = browserPort(host: host, instance: instance, timeout: 1) {
            port = announced
        } else {
            return instanceNotFound
        }
        return DatabaseProbe.answers(host: host, port: port, timeout: timeout) ? nil : notAccessible
    }

    /// The TCP port SQL Server Browser on `host` announces for `instance`; nil without an answer.
    static func browserPort(host: String, instance: String, timeout: Double) -> Int? {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard Loopback.withSocketAddress(host, port: SimulatedSQLBrowser.port, { connect(fd, $0, $1) }) == 0 else { return nil }
        let request: [UInt8] = [0x04] + Array(instance.utf8) + [0x00]
        guard send(fd, request, request.count, Int32(MSG_NOSIGNAL)) == request.count else { return nil }
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, Int32(timeout * 1000)) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 2048)
        let count = recv(fd, &buffer, buffer.count, 0)
        guard count > 3, buffer[0] == 0x05 else { return nil }
        let text = String(decoding: buffer[3..<count], as: UTF8.self)
        let tokens = text.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
        guard let index = tokens.firstIndex(where: { $0.lowercased() == "tcp" }), index + 1 < tokens.count, tokens[index + 1].count <= 5 else { return nil }
        return Int(tokens[index + 1])
    }
}
