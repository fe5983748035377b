import FarmProtocol
import Foundation

/// Service Center's `GetPlatformInfo`, called the way OutSystems.SetupTools calls it.
///
/// SetupTools (`Lib/ServiceCenterWebServices.ps1`, `SCWS_GetPlatformInfo`, used by
/// `Get-OSPlatformVersion`) builds a proxy from `http://<host>/ServiceCenter/OutSystemsPlatform.asmx?WSDL`
/// with New-WebServiceProxy and calls `GetPlatformInfo([ref]$dummy)`: the version is the return
/// value, the serial the out parameter. That proxy is .NET's SoapHttpClientProtocol on the WSDL's
/// SOAP 1.1 binding, whose operation is document/literal with
/// `soapAction="http://ServiceCenter/OutSystemsPlatform/GetPlatformInfo"`, an empty
/// `GetPlatformInfo` element in `http://www.outsystems.com`, and a `GetPlatformInfoResponse` of
/// `Version` and `Serial` (a Service Center WSDL captured in sac-outsystems/wiremock-test,
/// defaults/responses/service_center_outsystems_platform.xml). This client sends that request.
///
/// SetupTools' default host is `127.0.0.1` (`Get-OSPlatformVersion -ServiceCenterHost`), not
/// `localhost`, which a server may resolve to `::1` first; the agent connects to the server's own
/// loopback address (`HostEnvironment.localAddress`) and sends `Host: 127.0.0.1`, or the host name
/// and port an IIS binding needs (the inventory's `service-center`).
///
/// SetupTools calls plain HTTP only (every URL in Lib/ServiceCenterWebServices.ps1 is `http://`).
/// A farm that serves Service Center over HTTPS only (`service-center.scheme: https`) is called
/// through .NET's HttpWebRequest (DotNetHTTPSClient), which accepts a certificate with errors only
/// on loopback and only when it is the server's own, and the report names the certificate.
///
/// The WSDL's `soap:address`: SetupTools' proxy posts where the WSDL says (New-WebServiceProxy
/// never sets the generated proxy's Url, whose default is the WSDL's location attribute:
/// PowerShell's WebServiceProxy.cs, Microsoft's WebClientProtocol.Url docs), and ASMX writes that
/// address from the URL the WSDL was asked on. On loopback that is the very URL the agent posts
/// to, so the agent skips the WSDL round trip (simulator SOURCES.md, "Web server and Service Center").
struct PlatformInfoClient {
    let environment: HostEnvironment
    let runner: any CommandRunner

    static let host = "127.0.0.1"
    static let path = "/ServiceCenter/OutSystemsPlatform.asmx"
    static let soapAction = "\"http://ServiceCenter/OutSystemsPlatform/GetPlatformInfo\""
    static let namespace = "http://www.outsystems.com"
    /// The envelope SoapHttpClientProtocol writes for an operation without parameters.
    static let envelope =
        #"<?xml version="1.0" encoding="utf-8"?>"#
        + #"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">"#
        + #"<soap:Body><GetPlatformInfo xmlns="http://www.outsystems.com" /></soap:Body></soap:Envelope>"#

    /// Calls the operation on this server, on the application port server.hsconf names
    /// (`ServerConfiguration/ApplicationServerPort`, 80 by default) or, over HTTPS, on 443.
    func call(_ arguments: PlatformInfoArguments, port: Int) -> PlatformInfoReport {
        let started = Date()
        let scheme = arguments.scheme ?? .http
        let port = arguments.port ?? (scheme == .https ? scheme.defaultPort : port)
        let hostHeader = arguments.hostHeader ?? Self.host
        let url = "\(scheme.rawValue)://\(hostHeader)\(port == scheme.defaultPort ? "" : ":\(port)")\(Self.path)"
        var certificate: ServiceCenterCertificate?
        func report(
            version: String? = nil, serial: String? = nil, status: Int? = nil, failure: PlatformInfoFailure? = nil,
            reason: String? = nil
        ) -> PlatformInfoReport {
            PlatformInfoReport(
                url: url, version: version, serial: serial, httpStatus: status, failure: failure, reason: reason,
                milliseconds: Date().timeIntervalSince(started) * 1000, certificate: certificate)
        }
        let response: HTTPResponse
        switch scheme {
        case .http:
            do {
                response = try HTTPClient.request(
                    method: "POST", path: Self.path, hostHeader: hostHeader, address: environment.localAddress, port: port,
                    headers: [("Content-Type", "text/xml; charset=utf-8"), ("SOAPAction", Self.soapAction)],
                    body: Array(Self.envelope.utf8), deadline: started.addingTimeInterval(arguments.timeoutSeconds))
            } catch .socket(.timedOut) {
                return report(failure: .timedOut, reason: "no answer from \(url) within \(Int(arguments.timeoutSeconds.rounded())) s")
            } catch let .socket(error) {
                return report(failure: .noConnection, reason: "cannot reach \(url): \(error)")
            } catch {
                return report(failure: .unreadable, reason: "\(url): \(error)")
            }
        case .https:
            // The connection goes to this server's loopback address, the binding's name in Host.
            let address = environment.localAddress.contains(":") ? "[\(environment.localAddress)]" : environment.localAddress
            let outcome: DotNetHTTPSClient.Outcome
            do {
                outcome = try DotNetHTTPSClient(runner: runner).post(
                    DotNetHTTPSClient.Input(
                        url: "https://\(address):\(port)\(Self.path)", host: arguments.hostHeader, soapAction: Self.soapAction,
                        envelope: Self.envelope, timeoutSeconds: arguments.timeoutSeconds))
            } catch {
                return report(failure: .unreadable, reason: "\(url): \(error.message)")
            }
            switch outcome {
            case let .answered(answer, presented):
                certificate = presented
                response = answer
            case let .failed(status, message, presented):
                certificate = presented
                if let presented, !presented.accepted {
                    return report(failure: .certificateRefused, reason: "the server's certificate is \(presented.summary)")
                }
                switch status {
                case "Timeout":
                    return report(failure: .timedOut, reason: "no answer from \(url) within \(Int(arguments.timeoutSeconds.rounded())) s")
                case "TrustFailure":
                    return report(failure: .certificateRefused, reason: message)
                default:
                    return report(failure: .noConnection, reason: "cannot reach \(url): \(status): \(message)")
                }
            }
        }
        let body = String(decoding: response.body, as: UTF8.self)
        let server = response.header("Server").map { " (Server: \($0))" } ?? ""
        if let fault = Self.element("faultstring", in: body) {
            return report(status: response.status, failure: .soapFault, reason: "Service Center answered with a SOAP fault: \(fault)")
        }
        if [301, 302, 303, 307, 308].contains(response.status) {
            let location = response.header("Location") ?? "no Location"
            return report(
                status: response.status, failure: .httpError,
                reason: "HTTP \(response.status) \(response.reason)\(server): Service Center redirects to \(location)"
                    + Self.redirectHint(location: location, scheme: scheme, hostHeader: hostHeader))
        }
        guard response.status == 200 else {
            let hint =
                response.status == 404 && arguments.hostHeader == nil && (response.header("Server") ?? "").hasPrefix("Microsoft-IIS")
                ? "; an IIS binding with a host name answers only that name: set service-center.host in the inventory" : ""
            return report(status: response.status, failure: .httpError, reason: "HTTP \(response.status) \(response.reason)\(server)\(hint)")
        }
        guard body.contains("GetPlatformInfoResponse"), let version = Self.element("Version", in: body), !version.isEmpty else {
            return report(
                status: response.status, failure: .unreadable,
                reason: "the answer has no GetPlatformInfoResponse/Version: \"\(body.prefix(160))\"")
        }
        return report(version: version, serial: Self.element("Serial", in: body), status: response.status)
    }

    /// What to change in the inventory when plain HTTP is redirected to HTTPS.
    static func redirectHint(location: String, scheme: ServiceCenterScheme, hostHeader: String) -> String {
        guard scheme == .http, location.lowercased().hasPrefix("https:") else { return "" }
        let target = URLComponents(string: location)
        let host = target?.host ?? ""
        let port = target?.port.map { $0 == 443 ? "" : " and service-center.port: \($0)" } ?? ""
        let fix =
            host.isEmpty || host.caseInsensitiveCompare(hostHeader) == .orderedSame
            ? "set service-center.scheme: https\(port) in the inventory"
            : "set service-center.scheme: https and service-center.host: \(host)\(port) in the inventory"
        return
            "; the farm enforces HTTPS: \(fix) (the agent then calls it through .NET's HttpWebRequest, accepting only this server's own certificate on loopback)"
    }

    /// The text of the first element with this local name (any prefix), XML entities decoded.
    static func element(_ name: String, in xml: String) -> String? {
        var searchFrom = xml.startIndex
        while let open = xml.range(of: name, range: searchFrom..<xml.endIndex) {
            searchFrom = open.upperBound
            // The name must be a whole local name right after "<" or "<prefix:".
            guard let tagStart = xml[..<open.lowerBound].lastIndex(of: "<") else { continue }
            let prefix = xml[xml.index(after: tagStart)..<open.lowerBound]
            guard prefix.isEmpty || (prefix.hasSuffix(":") && !prefix.dropLast().contains { !$0.isLetter && !$0.isNumber }) else { continue }
            guard open.upperBound < xml.endIndex, let tagEnd = xml[open.upperBound...].firstIndex(of: ">") else { return nil }
            let next = xml[open.upperBound]
            guard next == ">" || next == " " || next == "/" else { continue }
            if xml[xml.index(before: tagEnd)] == "/" { return "" }
            let closing = "</" + prefix + name + ">"
            guard let close = xml.range(of: closing, range: xml.index(after: tagEnd)..<xml.endIndex) else { return nil }
            return HsconfDocument.unescape(String(xml[xml.index(after: tagEnd)..<close.lowerBound])).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return nil
    }
}
