import Foundation

/// A SQL Server Browser client for the two unicast requests of the SQL Server Resolution Protocol
/// ([MC-SQLR], Microsoft Open Specifications) that finding a named instance's port needs:
///
/// - CLNT_UCAST_INST (§2.2.3): `0x04`, then the instance name, NUL-terminated, at most 32 bytes;
/// - CLNT_UCAST_EX (§2.2.2): `0x03` alone, "every instance on this machine".
///
/// The server answers with SVR_RESP (§2.2.5): `0x05`, a little-endian 16-bit RESP_SIZE (the
/// example in §4.2 reads `05 58 00` for 88 bytes), then `ServerName;…;InstanceName;…;IsClustered;…;
/// Version;…[;tcp;PORT][;np;PIPE]…;;` per instance. For an instance it cannot describe it sends
/// nothing at all (§3.1.5.2: "the server MUST ignore the request"), so silence cannot tell "no
/// Browser" from "unknown instance": CLNT_UCAST_EX tells them apart. A client waits about a
/// second (§3.2.2).
struct SQLBrowserClient {
    static let port = 1434
    static let maximumInstanceNameBytes = 32

    /// One instance as SVR_RESP describes it.
    struct Instance: Equatable {
        var serverName: String
        var instanceName: String
        var version: String?
        /// The TCP port, when TCP is enabled for the instance.
        var tcpPort: Int?
    }

    enum Answer: Equatable {
        case instances([Instance])
        /// No datagram came back before the deadline, or the host refused (ICMP port unreachable).
        case silent(String)
        /// The host name does not resolve.
        case unresolvable(String)
    }

    /// The CLNT_UCAST_INST datagram; nil when the name does not fit the 32 bytes the protocol allows.
    /// The name travels as MBCS; osfarm sends UTF-8, which is the same bytes for ASCII names.
    static func instanceRequest(_ name: String) -> [UInt8]? {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= maximumInstanceNameBytes, !bytes.contains(0) else { return nil }
        return [0x04] + bytes + [0x00]
    }

    static let listRequest: [UInt8] = [0x03]

    /// The instances an SVR_RESP describes; nil when the datagram is not a well-formed SVR_RESP.
    static func parseResponse(_ datagram: [UInt8]) -> [Instance]? {
        guard datagram.count >= 3, datagram[0] == 0x05 else { return nil }
        let size = Int(datagram[1]) | Int(datagram[2]) << 8
        guard size <= datagram.count - 3 else { return nil }
        let text = String(decoding: datagram[3..<(3 + size)], as: UTF8.self)
        var instances: [Instance] = []
        for record in text.components(separatedBy: ";;") where !record.isEmpty {
            let tokens = record.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
            var fields: [String: String] = [:]
            var index = 0
            while index + 1 < tokens.count {
                let key = tokens[index].lowercased()
                if fields[key] == nil { fields[key] = tokens[index + 1] }
                index += 2
            }
            guard let server = fields["servername"], let name = fields["instancename"] else { return nil }
            let tcp = fields["tcp"].flatMap { $0.count <= 5 ? Int($0) : nil }.flatMap { (1...65535).contains($0) ? $0 : nil }
            instances.append(Instance(serverName: server, instanceName: name, version: fields["version"], tcpPort: tcp))
        }
        return instances
    }

    /// Sends one request to `address`:1434 and waits for one answer until `timeout` has passed.
    static func ask(_ request: [UInt8], address: String, timeout: Double) -> Answer {
        let deadline = Date().addingTimeInterval(timeout)
        do {
            let socket = try NetworkSocket.connect(host: address, port: port, transport: .udp, deadline: deadline)
            try socket.send(request, deadline: deadline)
            while true {
                let datagram = try socket.receive(limit: 65_535 + 3, deadline: deadline)
                // A datagram that is not an SVR_RESP is ignored, and the wait goes on (§3.2.5.3).
                if let instances = parseResponse(datagram) { return .instances(instances) }
            }
        } catch .timedOut {
            return .silent("no answer on UDP \(port) within \(Self.seconds(timeout))")
        } catch let .refused(reason) {
            return .silent("UDP \(port) refused (\(reason))")
        } catch let .unresolvable(reason) {
            return .unresolvable(reason)
        } catch {
            return .silent("\(error)")
        }
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : String(format: "%.1f s", value)
    }
}
