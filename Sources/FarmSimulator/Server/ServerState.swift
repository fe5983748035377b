import FarmProtocol
import Foundation

/// One simulated Windows service.
public struct SimulatedService: Codable, Sendable, Equatable {
    public var name: String
    public var displayName: String
    /// 0x10 own process, 0x20 shared process (as sc.exe TYPE).
    public var type: Int
    public var binaryPath: String
    public var startType: ServiceStartType
    public var state: ServiceState
    public var processID: Int?
    /// When a pending state ends (seconds since 1970); nil while stuck.
    public var pendingUntil: Double?
    public var runningSince: Double?
    /// Running and past its start-up: its port is open.
    public var initialised: Bool
}

/// The faults injected into a server.
public struct InjectedFaults: Codable, Sendable, Equatable {
    /// Services that never leave STOP_PENDING.
    public var stuckStopping: [String] = []
    /// Services whose start fails with error 1053.
    public var failingStart: [String] = []
    /// When set, every Configuration Tool run fails with this message.
    public var configurationToolFailure: String?
    /// Every delay multiplied by this.
    public var slowdown: Double = 1
    /// When set, the Configuration Tool starts a helper that keeps its output open for this many
    /// seconds and then waits that long itself (a tool whose child outlives the agent's deadline).
    public var configurationToolOrphanSeconds: Double?
    /// IIS serves the sites only for this host name (a binding with a host name): any other Host
    /// header gets IIS's 404 (issue 19).
    public var iisHostBinding: String?
    /// Every request is redirected to HTTPS (a farm that enforces it).
    public var forceHTTPS = false
    /// The site's HTTPS binding and the certificate HTTP.sys presents on it; nil: none listens.
    public var httpsBinding: SimulatedHTTPSBinding?
    /// Sessions on this server have network credentials (stands for a password logon or Kerberos
    /// delegation; nil: a key-authenticated Win32-OpenSSH session has none).
    public var sessionNetworkCredentials: Bool?

    public init() {}
}

/// An HTTPS binding of the OutSystems site: IIS keeps `protocol="https"` and the port in
/// applicationHost.config, and HTTP.sys presents the certificate bound to that port, one the
/// binding takes from the machine's Personal (My) or Web Hosting store (IIS docs, "Adding SSL/TLS
/// bindings", `<binding>` with `certificateHash`/`certificateStoreName`).
public struct SimulatedHTTPSBinding: Codable, Sendable, Equatable {
    public var port: Int
    public var certificate: SimulatedCertificate
}

/// A server certificate as .NET's validation sees it.
public struct SimulatedCertificate: Codable, Sendable, Equatable {
    /// "CN=…".
    public var subject: String
    /// SHA-1 of the certificate, 40 upper-case hex digits (X509Certificate.GetCertHashString).
    public var thumbprint: String
    /// The names it is issued to (subject alternative names): what the URL's host must match.
    public var dnsNames: [String]
    /// In LocalMachine\My: one of the server's own.
    public var inMachineStore: Bool
    /// Chains to a root this machine trusts.
    public var trusted: Bool

    /// .NET's SslPolicyErrors for a connection to `host` (SslPolicyErrors docs: name mismatch when
    /// the host is not a name the certificate is issued to, chain errors when it does not chain to
    /// a trusted root), as its ToString gives them.
    public func policyErrors(host: String) -> String {
        var errors: [String] = []
        if !dnsNames.contains(where: { $0.caseInsensitiveCompare(host) == .orderedSame }) { errors.append("RemoteCertificateNameMismatch") }
        if !trusted { errors.append("RemoteCertificateChainErrors") }
        return errors.isEmpty ? "None" : errors.joined(separator: ", ")
    }
}

/// What the last Configuration Tool run did.
public struct ConfigurationToolRecord: Codable, Sendable, Equatable {
    public var switches: [String]
    public var exitCode: Int32
    public var message: String
    public var finishedAt: Double
}

/// Everything about a simulated server that is not a file in its C: tree.
public struct ServerState: Codable, Sendable, Equatable {
    public var name: String
    public var role: ServerRole
    public var address: String
    public var profile: SimulationProfile
    public var services: [SimulatedService]
    /// Registry keys by full name (HKEY_LOCAL_MACHINE\…), each value name to (type, data).
    public var registry: [String: [RegistryValue]]
    public var faults: InjectedFaults
    public var lastConfigurationTool: ConfigurationToolRecord?
    public var nextProcessID: Int
    /// The display language its programs print in (and so their OEM code page).
    public var language: DisplayLanguage
    /// Measured delays that replace the profile's (a replica of a farm moved before); nil: the profile's.
    public var measuredTimings: SimulatedTimings?

    /// The delays this server imposes.
    public var timing: SimulatedTimings { measuredTimings ?? profile.timings }

    public struct RegistryValue: Codable, Sendable, Equatable {
        public var name: String
        public var type: String
        public var data: String
    }

    /// Index of a service by name, as Windows matches it (case-insensitive, name or display name).
    public func serviceIndex(_ name: String) -> Int? {
        services.firstIndex { WindowsName.same($0.name, name) }
    }

    public func service(_ name: String) -> SimulatedService? { serviceIndex(name).map { services[$0] } }

    public func delay(_ seconds: Double) -> Double { seconds * faults.slowdown }

    /// Ends pending states whose time has come.
    public mutating func advance(now: Double = Date().timeIntervalSince1970) {
        for index in services.indices {
            guard let until = services[index].pendingUntil, now >= until else { continue }
            switch services[index].state {
            case .stopPending:
                services[index].state = .stopped
                services[index].processID = nil
                services[index].pendingUntil = nil
                services[index].runningSince = nil
                services[index].initialised = false
            case .startPending:
                services[index].state = .running
                services[index].pendingUntil = nil
                services[index].runningSince = until
            default:
                services[index].pendingUntil = nil
            }
        }
    }

    public mutating func newProcessID() -> Int {
        defer { nextProcessID += 4 }
        return nextProcessID
    }
}
