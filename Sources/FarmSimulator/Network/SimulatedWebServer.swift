import FarmProtocol
import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// A simulated server's web server: HTTP.sys on port 80 of its address, IIS (W3SVC) behind it, and
/// in IIS a trivial application page and Service Center's `OutSystemsPlatform.asmx`.
///
/// - W3SVC not running: HTTP.sys, a kernel driver, still accepts the connection and answers
///   404 with `Server: Microsoft-HTTPAPI/2.0` for a URL no site has registered (what IIS gives
///   when its site is off, cainetworks.com "how to make IIS return 503"; the `Microsoft-HTTPAPI/2.0`
///   server header in devcentral.f5.com "HOW-TO disable Microsoft-HTTPAPI/2.0").
/// - `GetPlatformInfo` (SOAP 1.1, the WSDL of sac-outsystems/wiremock-test): answered with the
///   version and serial only while every Automatic OutSystems service runs and the platform
///   database answers from this server (issue 11's rule for the simulator); otherwise an ASMX
///   SOAP fault with HTTP 500, the database's with SqlClient's message ("A network-related or
///   instance-specific error…", SQL Server docs MSSQLSERVER_2). A SOAPAction other than the
///   operation's gets ASMX's "Server did not recognize the value of HTTP Header SOAPAction".
/// - every request is appended to the server's `http.log` (time, method, path, client, status).
/// - faults (issue 19): a site binding with a host name answers IIS's 404 to any other Host header;
///   a farm that enforces HTTPS answers every plain HTTP request with a 302 to `https://`; an
///   HTTPS binding serves the same site on its own port (`secure`): connections there stand for
///   what HTTP.sys decrypted, and only the PowerShell emulator, standing for .NET's
///   HttpWebRequest, makes them after judging the binding's certificate.
struct SimulatedWebServer {
    static let logName = "http.log"
    static let platformPath = "/ServiceCenter/OutSystemsPlatform.asmx"
    static let applicationPaths = ["/", "/osfarm-probe"]
    static let getPlatformInfoAction = "http://ServiceCenter/OutSystemsPlatform/GetPlatformInfo"
    static let maximumRequestBytes = 64 * 1024

    let server: LocalFarmRecord.Server
    let farm: LocalFarmRecord
    /// The connection came in on the HTTPS binding.
    var secure = false

    /// One logged request.
    public struct LoggedRequest: Codable, Sendable, Equatable {
        /// ISO 8601 with milliseconds (a drained server's first and last requests are fractions of a second apart).
        public var time: String
        public var method: String
        public var path: String
        public var client: String
        public var status: Int
    }

    struct Request {
        var method: String
        var target: String
        var headers: [String: String]
        var body: [UInt8]

        var path: String { String(target.split(separator: "?", maxSplits: 1).first ?? "") }
    }

    struct Response {
        var status: Int
        var reason: String
        var server: String
        var contentType: String
        var body: String
        var location: String? = nil
    }

    /// Reads one request from `fd`, answers it, logs it and closes the connection.
    func serve(_ fd: Int32, from client: String) {
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard let request = Self.read(fd) else { return }
        let response = respond(to: request)
        var head = "HTTP/1.1 \(response.status) \(response.reason)\r\nContent-Type: \(response.contentType)\r\n"
        head += "Server: \(response.server)\r\nDate: \(Self.httpDate())\r\n"
        if let location = response.location { head += "Location: \(location)\r\n" }
        if response.server.hasPrefix("Microsoft-IIS") { head += "X-AspNet-Version: 4.0.30319\r\nX-Powered-By: ASP.NET\r\n" }
        let body = Array(response.body.utf8)
        head += "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        let bytes = Array(head.utf8) + (request.method == "HEAD" ? [] : body)
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBufferPointer { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { break }
            offset += sent
        }
        log(
            LoggedRequest(
                time: UTCTimestamp.milliseconds(Date()), method: request.method, path: request.target, client: client,
                status: response.status))
    }

    func respond(to request: Request) -> Response {
        let store = StateStore(serverDirectory: server.directory)
        guard let state = try? store.read(), state.service("W3SVC")?.state == .running else { return Self.httpSysNotFound }
        let host = String((request.headers["host"] ?? "").split(separator: ":").first ?? "")
        if state.faults.forceHTTPS && !secure {
            return Response(
                status: 302, reason: "Found", server: "Microsoft-IIS/10.0", contentType: "text/html; charset=UTF-8",
                body: "<head><title>Document Moved</title></head><body><h1>Object Moved</h1></body>\r\n",
                location: "https://\(host)\(request.target)")
        }
        if let binding = state.faults.iisHostBinding, binding.caseInsensitiveCompare(host) != .orderedSame {
            return Self.iisStatus(404, "Not Found")
        }
        let path = request.path.lowercased()
        if Self.applicationPaths.contains(path) {
            guard request.method == "GET" || request.method == "HEAD" else { return Self.iisStatus(405, "Method Not Allowed") }
            return Response(
                status: 200, reason: "OK", server: "Microsoft-IIS/10.0", contentType: "text/html; charset=utf-8",
                body: "<!DOCTYPE html><html><head><title>osfarm</title></head><body><p>\(server.name) serves this page.</p></body></html>\r\n")
        }
        guard path == Self.platformPath.lowercased() else { return Self.iisStatus(404, "Not Found") }
        guard request.method == "POST" else {
            // ASMX answers a GET with its service help page.
            return Response(
                status: 200, reason: "OK", server: "Microsoft-IIS/10.0", contentType: "text/html; charset=utf-8",
                body: "<html><head><title>OutSystemsPlatform Web Service</title></head><body><p>GetPlatformInfo</p></body></html>\r\n")
        }
        let action = (request.headers["soapaction"] ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
        guard action == Self.getPlatformInfoAction else {
            return Self.fault(
                "soap:Client", "System.Web.Services.Protocols.SoapException: Server did not recognize the value of HTTP Header SOAPAction: \(action).")
        }
        let body = String(decoding: request.body, as: UTF8.self)
        guard body.contains("GetPlatformInfo"), body.contains("http://www.outsystems.com") else {
            return Self.fault(
                "soap:Client",
                "System.Web.Services.Protocols.SoapException: Server was unable to read request. ---> The request has no GetPlatformInfo element in http://www.outsystems.com."
            )
        }
        if let stopped = state.services.first(where: { ServiceKind.platformNames.contains($0.name) && $0.startType == .automatic && $0.state != .running }) {
            return Self.fault("soap:Server", "Server was unable to process request. ---> \(stopped.name) is not running.")
        }
        guard platformDatabaseAnswers() else {
            return Self.fault(
                "soap:Server",
                "Server was unable to process request. ---> A network-related or instance-specific error occurred while establishing a connection to SQL Server. The server was not found or was not accessible. Verify that the instance name is correct and that SQL Server is configured to allow remote connections."
            )
        }
        let installer = state.registry.first { $0.key.hasSuffix(#"\OutSystems\Installer\Server"#) }?.value
        let platform = state.registry.first { $0.key.hasSuffix(#"\OutSystems\Platform Server"#) }?.value
        let version = installer?.first { $0.name == "Server" }?.data ?? ServerBuilder.platformVersion
        let serial = platform?.first { $0.name == "SerialNumber" }?.data ?? ""
        return Response(
            status: 200, reason: "OK", server: "Microsoft-IIS/10.0", contentType: "text/xml; charset=utf-8",
            body: Self.envelope(
                "<GetPlatformInfoResponse xmlns=\"http://www.outsystems.com\"><Version>\(XMLText.escape(version))</Version>"
                    + "<Serial>\(XMLText.escape(serial))</Serial></GetPlatformInfoResponse>"))
    }

    /// Whether the platform database server.hsconf names answers from this server: the farm as it
    /// is now (a database taken down a moment ago is down, even before the network process closes
    /// its port), then a real connection.
    private func platformDatabaseAnswers() -> Bool {
        let farm = (try? LocalFarm.record(in: self.farm.directory)) ?? self.farm
        let path = ServerBuilder.localPath(ServerBuilder.installDirectory + #"\server.hsconf"#, serverDirectory: server.directory)
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), let hsconf = try? SimulatedHsconf(text: text),
            let location = hsconf.databaseLocation(.platform),
            let endpoint = farm.endpoint(of: location, resolve: { DatabaseProbe.resolve($0, serverDirectory: server.directory) })
        else { return false }
        if let database = farm.allDatabases.first(where: { $0.address == endpoint.address && $0.port == endpoint.port }), !database.up { return false }
        return Loopback.answers(address: endpoint.address, port: endpoint.port, timeout: 1)
    }

    static func envelope(_ content: String) -> String {
        #"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Body>"#
            + content + "</soap:Body></soap:Envelope>"
    }

    static func fault(_ code: String, _ text: String) -> Response {
        Response(
            status: 500, reason: "Internal Server Error", server: "Microsoft-IIS/10.0", contentType: "text/xml; charset=utf-8",
            body: envelope("<soap:Fault><faultcode>\(code)</faultcode><faultstring>\(XMLText.escape(text))</faultstring><detail /></soap:Fault>"))
    }

    static func iisStatus(_ status: Int, _ reason: String) -> Response {
        Response(
            status: status, reason: reason, server: "Microsoft-IIS/10.0", contentType: "text/html",
            body:
                "<!DOCTYPE html><html><head><title>IIS 10.0 Detailed Error - \(status).0 - \(reason)</title></head><body><h3>HTTP Error \(status).0 - \(reason)</h3></body></html>\r\n"
        )
    }

    /// HTTP.sys's own answer for a URL no running site has registered.
    static let httpSysNotFound = Response(
        status: 404, reason: "Not Found", server: "Microsoft-HTTPAPI/2.0", contentType: "text/html; charset=us-ascii",
        body: "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\"\"http://www.w3.org/TR/html4/strict.dtd\">\r\n"
            + "<HTML><HEAD><TITLE>Not Found</TITLE>\r\n<META HTTP-EQUIV=\"Content-Type\" Content=\"text/html; charset=us-ascii\"></HEAD>\r\n"
            + "<BODY><h2>Not Found</h2>\r\n<hr><p>HTTP Error 404. The requested resource is not found.</p>\r\n</BODY></HTML>\r\n")

    /// One request off the connection: request line, headers, and a Content-Length body.
    static func read(_ fd: Int32) -> Request? {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 8192)
        var headEnd: Int?
        while headEnd == nil {
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { return nil }
            bytes += buffer.prefix(count)
            guard bytes.count <= maximumRequestBytes else { return nil }
            headEnd = find([13, 10, 13, 10], in: bytes)
        }
        guard let end = headEnd else { return nil }
        let lines = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let requestLine = lines[0].split(separator: " ")
        guard requestLine.count == 3 else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = headers["content-length"].flatMap { $0.count <= 6 ? Int($0) : nil } ?? 0
        var body = Array(bytes[(end + 4)...])
        while body.count < length {
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { return nil }
            body += buffer.prefix(count)
            guard body.count <= maximumRequestBytes else { return nil }
        }
        return Request(method: String(requestLine[0]), target: String(requestLine[1]), headers: headers, body: Array(body.prefix(length)))
    }

    static func find(_ needle: [UInt8], in bytes: [UInt8]) -> Int? {
        guard bytes.count >= needle.count else { return nil }
        for index in 0...(bytes.count - needle.count) where Array(bytes[index..<(index + needle.count)]) == needle { return index }
        return nil
    }

    static func httpDate() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: Date())
    }

    /// Appends one line to the server's request log, in a single write (concurrent requests never interleave).
    private func log(_ entry: LoggedRequest) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let line = try? encoder.encode(entry) else { return }
        LineLog.append(Array(line) + [0x0A], to: server.directory + "/" + Self.logName)
    }

    /// The requests a server's web server received, oldest first.
    public static func requests(serverDirectory: String) -> [LoggedRequest] {
        guard let text = try? String(contentsOfFile: serverDirectory + "/" + logName, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(LoggedRequest.self, from: Data($0.utf8)) }
    }
}

extension ServiceKind {
    /// The OutSystems services' names, as the simulator installs them.
    static let platformNames = Set(ServerBuilder.outSystemsServices)
}
