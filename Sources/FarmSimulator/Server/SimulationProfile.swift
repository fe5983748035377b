/// How long things take on a simulated server.
public enum SimulationProfile: String, Codable, Sendable, CaseIterable {
    /// Everything at once: for tests of logic.
    case instant
    /// Short but visible delays: for demos and most tests.
    case fast
    /// Delays of the order a real farm shows: for timing work.
    case realistic

    /// Seconds a service spends in STOP_PENDING.
    public var stopSeconds: Double {
        switch self {
        case .instant: return 0
        case .fast: return 0.3
        case .realistic: return 4
        }
    }

    /// Seconds a service spends in START_PENDING.
    public var startSeconds: Double {
        switch self {
        case .instant: return 0
        case .fast: return 0.4
        case .realistic: return 6
        }
    }

    /// Seconds between RUNNING and initialised (ports open), once what it needs answers.
    public var initialisationSeconds: Double {
        switch self {
        case .instant: return 0
        case .fast: return 0.5
        case .realistic: return 20
        }
    }

    /// Seconds iisreset takes.
    public var iisSeconds: Double {
        switch self {
        case .instant: return 0
        case .fast: return 0.3
        case .realistic: return 5
        }
    }

    /// Seconds a Configuration Tool run takes.
    public var configurationToolSeconds: Double {
        switch self {
        case .instant: return 0
        case .fast: return 1
        case .realistic: return 45
        }
    }
}
