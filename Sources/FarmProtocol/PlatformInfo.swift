import Foundation

/// `get-platform-info`: ask the server's own platform which version it runs, as OutSystems.SetupTools'
/// `Get-OSPlatformVersion` does: Service Center's SOAP operation `GetPlatformInfo` on
/// `http://127.0.0.1/ServiceCenter/OutSystemsPlatform.asmx` (its default host is `127.0.0.1`, not
/// `localhost`, which can resolve to `::1` first; Lib/ServiceCenterWebServices.ps1,
/// Functions/Get-OSPlatformVersion.ps1). An answer proves IIS, Service Center and the platform
/// database work together on that server. The connection always goes to the server itself (the
/// loopback address); `hostHeader` and `port` stand for an IIS binding with a host name or another
/// port (the inventory's `service-center`).

public struct PlatformInfoArguments: Codable, Sendable, Equatable {
    /// The whole call: connection, request and answer.
    public var timeoutSeconds: Double
    /// The `Host` header to send (an IIS binding's host name); nil: `127.0.0.1`.
    public var hostHeader: String?
    /// The port; nil: server.hsconf's ApplicationServerPort.
    public var port: Int?

    public init(timeoutSeconds: Double = 30, hostHeader: String? = nil, port: Int? = nil) {
        self.timeoutSeconds = timeoutSeconds
        self.hostHeader = hostHeader
        self.port = port
    }

    /// A host name as an HTTP Host header may carry it (RFC 9110: a reg-name; no space, slash,
    /// colon or control character).
    public static func isHostName(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 253
            && text.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-._".unicodeScalars.contains($0)) }
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

    public init(
        url: String, version: String?, serial: String?, httpStatus: Int?, failure: PlatformInfoFailure?, reason: String?,
        milliseconds: Double
    ) {
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
