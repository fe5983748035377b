import FarmProtocol
import Foundation

/// Where the operator asked the databases to go. `--to` takes the platform section and every
/// section that is on the platform's server now; a section that lives elsewhere (a separate
/// session or logging server, a documented layout) stays put unless `--session-to` or
/// `--logging-to` names its target. Which sections move is decided at preflight, from the farm.
public struct MoveRequest: Codable, Sendable, Equatable {
    public var to: DatabaseServerAddress
    public var sessionTo: DatabaseServerAddress?
    public var loggingTo: DatabaseServerAddress?
    public var platformCatalog: String?
    public var sessionCatalog: String?
    public var loggingCatalog: String?

    public init(
        to: DatabaseServerAddress, sessionTo: DatabaseServerAddress? = nil, loggingTo: DatabaseServerAddress? = nil,
        platformCatalog: String? = nil, sessionCatalog: String? = nil, loggingCatalog: String? = nil
    ) {
        self.to = to
        self.sessionTo = sessionTo
        self.loggingTo = loggingTo
        self.platformCatalog = platformCatalog
        self.sessionCatalog = sessionCatalog
        self.loggingCatalog = loggingCatalog
    }

    private func explicit(_ section: DatabaseSection) -> DatabaseServerAddress? {
        switch section {
        case .platform: return to
        case .session: return sessionTo
        case .logging: return loggingTo
        }
    }

    private func catalog(_ section: DatabaseSection) -> String? {
        switch section {
        case .platform: return platformCatalog
        case .session: return sessionCatalog
        case .logging: return loggingCatalog
        }
    }

    /// The targets for a farm whose sections are on `current` now: a section moves when named, or
    /// when it is on the platform's current server.
    public func targets(current: DatabaseTargets) -> DatabaseTargets {
        var targets = DatabaseTargets(platform: nil, session: nil, logging: nil)
        let platformNow = current.platform?.server
        for section in DatabaseSection.allCases {
            if let server = explicit(section) {
                targets[section] = DatabaseTarget(server: server, catalog: catalog(section))
            } else if let now = current[section]?.server, let platformNow, now.sameServer(as: platformNow) {
                targets[section] = DatabaseTarget(server: to, catalog: catalog(section))
            }
        }
        return targets
    }

    /// Before the farm is read (`plan`): every section that is not named follows `--to`, as it
    /// does when the farm keeps all three on one server.
    public var provisionalTargets: DatabaseTargets {
        DatabaseTargets(
            platform: DatabaseTarget(server: to, catalog: platformCatalog),
            session: DatabaseTarget(server: sessionTo ?? to, catalog: sessionCatalog),
            logging: DatabaseTarget(server: loggingTo ?? to, catalog: loggingCatalog))
    }
}
