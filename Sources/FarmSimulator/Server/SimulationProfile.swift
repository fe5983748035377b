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

/// The delays a simulated server imposes: a profile's, or measured ones (a replica built from a
/// snapshot whose farm was moved before, `osfarm-sim farm up --from`).
public struct SimulatedTimings: Codable, Sendable, Equatable {
    public var stopSeconds: Double
    public var startSeconds: Double
    public var initialisationSeconds: Double
    public var iisSeconds: Double
    public var configurationToolSeconds: Double

    public init(stopSeconds: Double, startSeconds: Double, initialisationSeconds: Double, iisSeconds: Double, configurationToolSeconds: Double) {
        self.stopSeconds = stopSeconds
        self.startSeconds = startSeconds
        self.initialisationSeconds = initialisationSeconds
        self.iisSeconds = iisSeconds
        self.configurationToolSeconds = configurationToolSeconds
    }
}

extension SimulationProfile {
    public var timings: SimulatedTimings {
        SimulatedTimings(
            stopSeconds: stopSeconds, startSeconds: startSeconds, initialisationSeconds: initialisationSeconds, iisSeconds: iisSeconds,
            configurationToolSeconds: configurationToolSeconds)
    }
}
