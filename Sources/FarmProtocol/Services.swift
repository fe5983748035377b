/// The states Windows' service control manager reports (`sc query` STATE), with its numbers.
public enum ServiceState: String, Codable, Sendable, CaseIterable {
    case stopped = "STOPPED"
    case startPending = "START_PENDING"
    case stopPending = "STOP_PENDING"
    case running = "RUNNING"
    case continuePending = "CONTINUE_PENDING"
    case pausePending = "PAUSE_PENDING"
    case paused = "PAUSED"

    /// The number sc.exe prints before the name.
    public var code: Int {
        switch self {
        case .stopped: return 1
        case .startPending: return 2
        case .stopPending: return 3
        case .running: return 4
        case .continuePending: return 5
        case .pausePending: return 6
        case .paused: return 7
        }
    }

    public init?(code: Int) {
        guard let state = Self.allCases.first(where: { $0.code == code }) else { return nil }
        self = state
    }
}

/// A service's start type (`sc qc` START_TYPE), with sc.exe's numbers and names.
public enum ServiceStartType: String, Codable, Sendable, CaseIterable {
    case boot = "BOOT_START"
    case system = "SYSTEM_START"
    case automatic = "AUTO_START"
    case manual = "DEMAND_START"
    case disabled = "DISABLED"

    public var code: Int {
        switch self {
        case .boot: return 0
        case .system: return 1
        case .automatic: return 2
        case .manual: return 3
        case .disabled: return 4
        }
    }

    public init?(code: Int) {
        guard let type = Self.allCases.first(where: { $0.code == code }) else { return nil }
        self = type
    }

    /// The word `sc config NAME start= WORD` takes.
    public var configWord: String {
        switch self {
        case .boot: return "boot"
        case .system: return "system"
        case .automatic: return "auto"
        case .manual: return "demand"
        case .disabled: return "disabled"
        }
    }
}

/// What a service is to osfarm, as the agent classifies it (the controller needs no service names).
public enum ServiceKind: String, Codable, Sendable, CaseIterable {
    /// One of the OutSystems Platform Server services (Deployment Controller, Deployment, Scheduler, Log, SMS Connector).
    case platform
    /// IIS: W3SVC and WAS.
    case iis
    /// Anything else the agent reports (RabbitMQ, …).
    case other
}

/// One service as the agent found it.
public struct ServiceStatus: Codable, Sendable, Equatable {
    public var name: String
    public var state: ServiceState
    public var startType: ServiceStartType
    public var processID: Int?
    public var kind: ServiceKind

    public init(name: String, state: ServiceState, startType: ServiceStartType, processID: Int? = nil, kind: ServiceKind = .other) {
        self.name = name
        self.state = state
        self.startType = startType
        self.processID = processID
        self.kind = kind
    }

    enum CodingKeys: String, CodingKey { case name, state, startType, processID, kind }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        state = try container.decode(ServiceState.self, forKey: .state)
        startType = try container.decode(ServiceStartType.self, forKey: .startType)
        processID = try container.decodeIfPresent(Int.self, forKey: .processID)
        // An agent from before the kind was reported says nothing: "other" claims nothing.
        kind = try container.decodeIfPresent(ServiceKind.self, forKey: .kind) ?? .other
    }

    /// A service that starts on its own (Automatic) and is not running. A Manual service may rest
    /// stopped: a front-end's Manual Deployment Controller service does.
    public var mustRunButDoesNot: Bool { [.automatic, .boot, .system].contains(startType) && state != .running }
}

/// The services an operation looked at or changed, in the order it handled them.
public struct ServiceReport: Codable, Sendable, Equatable {
    /// Services as they are at the end of the operation (missing ones are not listed).
    public var services: [ServiceStatus]
    /// What the operation did, e.g. "stopped OutSystems Scheduler Service"; empty when nothing needed doing.
    public var actions: [String]
    /// Services the operation skipped and why, e.g. "OutSystems Log Service: not installed".
    public var skipped: [String]

    public init(services: [ServiceStatus], actions: [String] = [], skipped: [String] = []) {
        self.services = services
        self.actions = actions
        self.skipped = skipped
    }
}

public struct ServiceControlArguments: Codable, Sendable, Equatable {
    /// How long each service may take to reach its target state: 0.1…3600 s (`Bounds.serviceTimeoutSeconds`).
    public var serviceTimeoutSeconds: Double
    /// When an OutSystems service is still STOP_PENDING at its deadline, end its process (the PID
    /// from the service query, `taskkill /PID n /F`) and wait for STOPPED, instead of failing.
    public var killStuckServices: Bool

    public init(serviceTimeoutSeconds: Double = 120, killStuckServices: Bool = false) {
        self.serviceTimeoutSeconds = serviceTimeoutSeconds
        self.killStuckServices = killStuckServices
    }

    enum CodingKeys: String, CodingKey { case serviceTimeoutSeconds, killStuckServices }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        serviceTimeoutSeconds = try container.decode(Double.self, forKey: .serviceTimeoutSeconds)
        killStuckServices = try container.decodeIfPresent(Bool.self, forKey: .killStuckServices) ?? false
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(serviceTimeoutSeconds, forKey: .serviceTimeoutSeconds)
        // Written only when set, so a request from today's controller reads as before on the wire.
        if killStuckServices { try container.encode(true, forKey: .killStuckServices) }
    }
}
