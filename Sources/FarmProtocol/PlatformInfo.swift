/// `get-platform-info`: ask the server's own platform which version it runs, as OutSystems.SetupTools'
/// `Get-OSPlatformVersion` does: Service Center's SOAP operation `GetPlatformInfo` on
/// `http://localhost/ServiceCenter/OutSystemsPlatform.asmx` (Lib/ServiceCenterWebServices.ps1).
/// An answer proves IIS, Service Center and the platform database work together on that server.

public struct PlatformInfoArguments: Codable, Sendable, Equatable {
    /// The whole call: connection, request and answer.
    public var timeoutSeconds: Double

    public init(timeoutSeconds: Double = 30) { self.timeoutSeconds = timeoutSeconds }
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
