/// `probe-database`: does this database server answer from the server the agent runs on? A given
/// port is probed directly; a named instance without one is first resolved through SQL Server
/// Browser (SSRP, [MC-SQLR], UDP 1434), as SqlClient does before it connects.

public struct DatabaseProbeArguments: Codable, Sendable, Equatable {
    public var address: DatabaseServerAddress
    /// How long the TCP connection may take.
    public var timeoutSeconds: Double
    /// How long to wait for SQL Server Browser's answer ([MC-SQLR] 3.2.2 advises 1 second).
    public var browserTimeoutSeconds: Double

    public init(address: DatabaseServerAddress, timeoutSeconds: Double = 5, browserTimeoutSeconds: Double = 1) {
        self.address = address
        self.timeoutSeconds = timeoutSeconds
        self.browserTimeoutSeconds = browserTimeoutSeconds
    }
}

/// Where the probed port came from.
public enum DatabasePortSource: String, Codable, Sendable {
    /// The address gives it (`host,port`).
    case given
    /// A default instance without a port: 1433.
    case defaultPort = "default-port"
    /// SQL Server Browser announced it for the named instance.
    case browser
}

/// Why a database server did not answer.
public enum DatabaseProbeFailure: String, Codable, Sendable {
    /// The host name does not resolve from this server.
    case unresolvable
    /// Nothing answered on UDP 1434: Browser is off, blocked, or the host is down.
    case browserSilent = "browser-silent"
    /// Browser answered but does not list the instance (unknown, or hidden with HideInstance).
    case instanceUnknown = "instance-unknown"
    /// Browser knows the instance but announces no TCP port for it (TCP/IP disabled).
    case instanceWithoutTCP = "instance-without-tcp"
    /// The TCP connection to the port failed.
    case unreachable
}

public struct DatabaseProbeResult: Codable, Sendable, Equatable {
    public var address: DatabaseServerAddress
    /// The port probed; nil when none could be found.
    public var port: Int?
    public var portSource: DatabasePortSource?
    public var reachable: Bool
    public var milliseconds: Double
    public var failure: DatabaseProbeFailure?
    /// One line for humans: what answered, or why nothing did and what to do (e.g. `host\INST,port`).
    public var message: String
    /// The instances Browser listed when it did not know the one asked for.
    public var browserInstances: [String]?

    public init(
        address: DatabaseServerAddress, port: Int?, portSource: DatabasePortSource?, reachable: Bool, milliseconds: Double,
        failure: DatabaseProbeFailure?, message: String, browserInstances: [String]? = nil
    ) {
        self.address = address
        self.port = port
        self.portSource = portSource
        self.reachable = reachable
        self.milliseconds = milliseconds
        self.failure = failure
        self.message = message
        self.browserInstances = browserInstances
    }
}
