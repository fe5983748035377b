/// What the agent says first, before any request: who it is and what it speaks.
public struct Hello: Codable, Sendable, Equatable {
    public var protocolVersion: ProtocolVersion
    public var agentVersion: String
    public var host: HostFacts
    /// How often the agent sends a heartbeat while a request runs (protocol 1.1); nil: it sends none.
    public var heartbeatSeconds: Double?

    public init(
        protocolVersion: ProtocolVersion = .current, agentVersion: String = OsfarmVersion.current, host: HostFacts,
        heartbeatSeconds: Double? = nil
    ) {
        self.protocolVersion = protocolVersion
        self.agentVersion = agentVersion
        self.host = host
        self.heartbeatSeconds = heartbeatSeconds
    }

    enum CodingKeys: String, CodingKey {
        case protocolVersion = "protocol"
        case agentVersion
        case host
        case heartbeatSeconds
    }
}

/// Facts about the machine the agent runs on, as the agent itself read them.
public struct HostFacts: Codable, Sendable, Equatable {
    public var hostname: String
    /// Operating system name and version, e.g. "Windows Server 2022 (10.0.20348)" or "Linux 6.1.0".
    public var operatingSystem: String
    public var processID: Int32

    public init(hostname: String, operatingSystem: String, processID: Int32) {
        self.hostname = hostname
        self.operatingSystem = operatingSystem
        self.processID = processID
    }
}
