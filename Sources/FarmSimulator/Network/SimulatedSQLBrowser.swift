import FarmProtocol
import Foundation

/// SQL Server Browser's answers, as [MC-SQLR] specifies them (Microsoft Open Specifications):
///
/// - CLNT_UCAST_INST (§2.2.3, `0x04` + instance name + NUL): SVR_RESP for that instance only;
/// - CLNT_UCAST_EX (§2.2.2, `0x03`) and CLNT_BCAST_EX (§2.2.1, `0x02`): SVR_RESP for every instance;
/// - SVR_RESP (§2.2.5): `0x05`, RESP_SIZE as a little-endian 16-bit number (§4.2: `05 58 00`), then
///   `ServerName;S;InstanceName;I;IsClustered;No;Version;V;tcp;PORT;;` per instance;
/// - a request that is not valid, not understood, or for which there is no instance to describe is
///   ignored: no answer at all (§3.1.5.2). A hidden instance (HideInstance) is never described
///   ("SQL Server Browser service", SQL Server docs).
enum SimulatedSQLBrowser {
    /// SQL Server Browser's UDP port ([MC-SQLR] §2.1).
    static let port = 1434
    /// The version string Browser reports (SQL Server 2022 RTM).
    static let version = "16.0.1000.6"

    /// The answer to one datagram from the instances on one host; nil when Browser stays silent.
    static func answer(_ request: [UInt8], instances: [SimulatedDatabase], serverName: String) -> [UInt8]? {
        let announced = instances.filter { $0.instance != nil && $0.up && !$0.isHidden }
        guard let type = request.first else { return nil }
        let described: [SimulatedDatabase]
        switch type {
        case 0x02, 0x03:
            guard request.count == 1 else { return nil }
            described = announced
        case 0x04:
            guard request.count >= 2, request.last == 0, request.count - 2 <= 32 else { return nil }
            let name = String(decoding: request[1..<(request.count - 1)], as: UTF8.self)
            described = announced.filter { ($0.instance ?? "").caseInsensitiveCompare(name) == .orderedSame }
        default:
            return nil
        }
        guard !described.isEmpty else { return nil }
        let text = described.map {
            "ServerName;\(serverName);InstanceName;\($0.instance ?? "");IsClustered;No;Version;\(version);tcp;\($0.port);;"
        }.joined()
        let data = Array(text.utf8)
        guard data.count <= (type == 0x04 ? 1024 : 65_535) else { return nil }
        return [0x05, UInt8(data.count & 0xFF), UInt8(data.count >> 8)] + data
    }

    /// The NetBIOS-style server name Browser reports for a host name ("sql-new.farm.test" → "SQL-NEW").
    static func serverName(of host: String) -> String {
        String(host.split(separator: ".").first ?? Substring(host)).uppercased()
    }
}
