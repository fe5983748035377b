import FarmProtocol
import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// osfarm's HTTPS GetPlatformInfo script (deploy/windows/Get-OsfarmPlatformInfo.ps1) as Windows
/// PowerShell runs it with .NET Framework's HttpWebRequest, answering from the simulated servers:
/// - nothing listening on the URL's port: WebException, Status ConnectFailure, "Unable to connect
///   to the remote server";
/// - the certificate is the one the HTTPS binding on that port presents (SimulatedHTTPSBinding);
///   its SslPolicyErrors are computed against the URL's host, never the Host header (.NET checks
///   the name the request URI gives), so a certificate issued to the server's name is
///   RemoteCertificateNameMismatch on 127.0.0.1, and one that chains to no trusted root adds
///   RemoteCertificateChainErrors (SslPolicyErrors docs);
/// - the script's ServerCertificateValidationCallback accepts errors only when the URL's host is
///   loopback and this server holds the certificate in its machine store; a refusal is
///   WebException, Status TrustFailure, "Could not establish trust relationship for the SSL/TLS
///   secure channel" (WebExceptionStatus docs: TrustFailure, "A server certificate could not be
///   validated");
/// - an accepted handshake is followed by the request itself, sent here in clear to the binding's
///   port (the TLS records are not simulated), and the answer is reported as the script does.
struct HttpWebRequestEmulator {
    let serverDirectory: String

    struct Input: Decodable {
        var url: String
        var host: String?
        var soapAction: String
        var envelope: String
        var timeoutSeconds: Double
    }

    func run(_ input: Data, out: (String) -> Void) -> Int32 {
        guard let request = try? JSONDecoder().decode(Input.self, from: input) else {
            out("ConvertFrom-Json : Invalid JSON primitive.\r\n")
            return 1
        }
        guard let url = URLComponents(string: request.url), url.scheme?.lowercased() == "https", let host = url.host, !host.isEmpty else {
            out("Exception calling \"Create\" with \"1\" argument(s): \"Invalid URI: The format of the URI could not be determined.\"\r\n")
            return 1
        }
        let port = url.port ?? 443
        let path = url.percentEncodedPath.isEmpty ? "/" : url.percentEncodedPath
        let loopback = Self.isLoopback(host)
        func failed(_ status: String, _ message: String, _ certificate: [String: Any]? = nil) -> Int32 {
            var record: [String: Any] = ["status": 0, "failure": status, "message": message]
            record["certificate"] = certificate.map { $0 as Any } ?? NSNull()
            PowerShellEmulator.line(record, out)
            return 0
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return failed("ConnectFailure", "Unable to connect to the remote server") }
        defer { close(fd) }
        let seconds = max(1, min(request.timeoutSeconds, 120))
        var timeout = timeval(tv_sec: Int(seconds), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard Loopback.withSocketAddress(host, port: port, { connect(fd, $0, $1) }) == 0 else {
            return failed("ConnectFailure", "Unable to connect to the remote server")
        }
        // The handshake: the certificate the binding listening there presents.
        guard let presented = binding(address: host, port: port)?.certificate else {
            return failed("SecureChannelFailure", "The request was aborted: Could not create SSL/TLS secure channel.")
        }
        let own = (try? StateStore(serverDirectory: serverDirectory).read())?.faults.httpsBinding?.certificate
        let held = own.map { $0.inMachineStore && $0.thumbprint == presented.thumbprint } ?? false
        let errors = presented.policyErrors(host: host)
        let accepted = errors == "None" || (loopback && held)
        let certificate: [String: Any] = [
            "subject": presented.subject, "thumbprint": presented.thumbprint, "errors": errors, "loopback": loopback, "inMachineStore": held,
            "accepted": accepted,
        ]
        guard accepted else {
            return failed(
                "TrustFailure", "The underlying connection was closed: Could not establish trust relationship for the SSL/TLS secure channel.",
                certificate)
        }
        let body = Array(request.envelope.utf8)
        let hostHeader = request.host ?? (port == 443 ? host : "\(host):\(port)")
        let head =
            "POST \(path) HTTP/1.1\r\nContent-Type: text/xml; charset=utf-8\r\nSOAPAction: \(request.soapAction)\r\nHost: \(hostHeader)\r\n"
            + "Content-Length: \(body.count)\r\nConnection: Close\r\n\r\n"
        let bytes = Array(head.utf8) + body
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBufferPointer { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { return failed("SendFailure", "The underlying connection was closed: An unexpected error occurred on a send.", certificate) }
            offset += sent
        }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count == 0 { break }
            if count < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK { return failed("Timeout", "The operation has timed out", certificate) }
                return failed("ReceiveFailure", "The underlying connection was closed: An unexpected error occurred on a receive.", certificate)
            }
            answer += buffer.prefix(count)
        }
        guard let split = SimulatedWebServer.find([13, 10, 13, 10], in: answer) else {
            return failed("ServerProtocolViolation", "The server committed a protocol violation. Section=ResponseStatusLine", certificate)
        }
        let lines = String(decoding: answer[..<split], as: UTF8.self).components(separatedBy: "\r\n")
        let status = lines[0].split(separator: " ", maxSplits: 2).map(String.init)
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        PowerShellEmulator.line(
            [
                "status": status.count > 1 ? Int(status[1]) ?? 0 : 0, "reason": status.count > 2 ? status[2] : "",
                "server": headers["server"] ?? "", "location": headers["location"] ?? "",
                "body": String(decoding: answer[(split + 4)...], as: UTF8.self), "certificate": certificate,
            ], out)
        return 0
    }

    /// IPAddress.IsLoopback: all of 127/8, and ::1.
    static func isLoopback(_ host: String) -> Bool {
        let trimmed = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if trimmed == "::1" { return true }
        let parts = trimmed.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { UInt8($0) != nil } && parts[0] == "127"
    }

    /// The HTTPS binding the simulated server at `address` has on `port`.
    func binding(address: String, port: Int) -> SimulatedHTTPSBinding? {
        guard let farm = try? LocalFarm.record(in: SimulatedSQLLogin.farmDirectory(of: serverDirectory)),
            let server = farm.servers.first(where: { $0.address == address }),
            let binding = (try? StateStore(serverDirectory: server.directory).read())?.faults.httpsBinding, binding.port == port
        else { return nil }
        return binding
    }
}
