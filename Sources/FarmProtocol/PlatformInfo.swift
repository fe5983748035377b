import Foundation

/// `get-platform-info`: ask the server's own platform which version it runs, as OutSystems.SetupTools'
/// `Get-OSPlatformVersion` does: Service Center's SOAP operation `GetPlatformInfo` on
/// `http://127.0.0.1/ServiceCenter/OutSystemsPlatform.asmx` (its default host is `127.0.0.1`, not
/// `localhost`, which can resolve to `::1` first; Lib/ServiceCenterWebServices.ps1,
/// Functions/Get-OSPlatformVersion.ps1). An answer proves IIS, Service Center and the platform
/// database work together on that server. The connection always goes to the server itself (the
/// loopback address); `hostHeader` and `port` stand for an IIS binding with a host name or another
/// port (the inventory's `service-center`), `scheme` for a farm that serves Service Center over
/// HTTPS only.

public struct PlatformInfoArguments: Codable, Sendable, Equatable {
    /// The whole call: connection, request and answer.
    public var timeoutSeconds: Double
    /// The `Host` header to send (an IIS binding's host name); nil: `127.0.0.1`.
    public var hostHeader: String?
    /// The port; nil: server.hsconf's ApplicationServerPort for HTTP, 443 for HTTPS.
    public var port: Int?
    /// nil: plain HTTP, as SetupTools calls it.
    public var scheme: ServiceCenterScheme?

    public init(timeoutSeconds: Double = 30, hostHeader: String? = nil, port: Int? = nil, scheme: ServiceCenterScheme? = nil) {
        self.timeoutSeconds = timeoutSeconds
        self.hostHeader = hostHeader
        self.port = port
        self.scheme = scheme
    }

    /// A host name as an HTTP Host header may carry it (RFC 9110: a reg-name; no space, slash,
    /// colon or control character).
    public static func isHostName(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 253
            && text.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-._".unicodeScalars.contains($0)) }
    }
}

/// How the agent calls Service Center: plain HTTP (SetupTools' way, the agent's own client) or
/// HTTPS (through .NET Framework's HttpWebRequest in a fixed script, accepting the server's own
/// certificate on loopback only).
public enum ServiceCenterScheme: String, Codable, Sendable, CaseIterable {
    case http, https

    public var defaultPort: Int { self == .https ? 443 : 80 }
}

/// The certificate an HTTPS call was presented, and what the agent made of it.
public struct ServiceCenterCertificate: Codable, Sendable, Equatable {
    public var subject: String
    public var thumbprint: String
    /// .NET's SslPolicyErrors as it names them ("None", "RemoteCertificateNameMismatch", …).
    public var errors: String
    /// The URL's host is a loopback address (the call never left the server).
    public var loopback: Bool
    /// The thumbprint is in the machine's Personal or Web Hosting store: the server's own.
    public var inMachineStore: Bool
    public var accepted: Bool

    public init(subject: String, thumbprint: String, errors: String, loopback: Bool, inMachineStore: Bool, accepted: Bool) {
        self.subject = subject
        self.thumbprint = thumbprint
        self.errors = errors
        self.loopback = loopback
        self.inMachineStore = inMachineStore
        self.accepted = accepted
    }

    /// For operators: which certificate, and why it was or was not accepted.
    public var summary: String {
        let which = "\(subject.isEmpty ? "a certificate" : subject) (thumbprint \(thumbprint))"
        if errors == "None" { return "\(which), valid" }
        if accepted { return "\(which) with \(errors), accepted as this server's own certificate on loopback" }
        let why =
            !loopback
            ? "the address is not loopback" : "it is not one of this server's own (its thumbprint is in neither LocalMachine\\My nor LocalMachine\\WebHosting)"
        return "\(which) with \(errors), refused: \(why)"
    }
}

/// Why the platform gave no version.
public enum PlatformInfoFailure: String, Codable, Sendable {
    /// No TCP connection to the web server (refused, or the name did not resolve).
    case noConnection = "no-connection"
    /// The deadline passed.
    case timedOut = "timed-out"
    /// An HTTP status other than 200 without a SOAP fault (IIS or HTTP.sys answered, not Service Center).
    case httpError = "http-error"
    /// Service Center answered with a SOAP fault (e.g. its database did not answer).
    case soapFault = "soap-fault"
    /// An answer osfarm cannot read.
    case unreadable
    /// The HTTPS certificate was refused (not valid, and not the server's own on loopback).
    case certificateRefused = "certificate-refused"
}

public struct PlatformInfoReport: Codable, Sendable, Equatable {
    /// The URL called.
    public var url: String
    /// The platform version Service Center reported.
    public var version: String?
    /// The installation serial it reported alongside.
    public var serial: String?
    public var httpStatus: Int?
    public var failure: PlatformInfoFailure?
    /// Why there is no version, for humans (the SOAP fault's text, the HTTP status line, …).
    public var reason: String?
    public var milliseconds: Double
    /// Over HTTPS: the certificate the server presented.
    public var certificate: ServiceCenterCertificate?

    public init(
        url: String, version: String?, serial: String?, httpStatus: Int?, failure: PlatformInfoFailure?, reason: String?,
        milliseconds: Double, certificate: ServiceCenterCertificate? = nil
    ) {
        self.certificate = certificate
        self.url = url
        self.version = version
        self.serial = serial
        self.httpStatus = httpStatus
        self.failure = failure
        self.reason = reason
        self.milliseconds = milliseconds
    }

    /// The platform answered with its version.
    public var answered: Bool { version != nil && failure == nil }
}
