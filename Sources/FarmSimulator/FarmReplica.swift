import FarmProtocol
import Foundation

/// A local farm of the same shape as the one a snapshot (`osfarm inspect --save`) describes: the
/// same server names and roles, languages, shells, services with their start types and states,
/// platform version, server.hsconf layout (sections' servers, catalogs, authentication mode,
/// secrets encrypted or in clear text), the same database servers by name and form, and delays
/// from the durations the snapshot measured, when it has them.
public struct FarmReplica: Sendable {
    public var servers: [LocalServerSpec]
    public var simulation: SimulationOptions
    /// What the replica could not reproduce, one sentence each (printed by farm up).
    public var notes: [String]
    /// How servers differ from the deployment controller in ways preflight checks (another
    /// platform version or private.key, references to the old server, CompilerServerHostname
    /// localhost), applied once the farm is up, so the replica's preflight finds what the real one would.
    public var drift: [String: ConfigurationDrift] = [:]
    /// The host name a server's IIS binding answers for (its other Host headers get 404).
    public var hostBindings: [String: String] = [:]

    /// `to`: the server the move will go to (`move-db run --to`), built as a database of this farm.
    public static func plan(
        _ snapshot: FarmSnapshot, path: String, to target: DatabaseServerAddress, agentBinary: String, emulatorBinary: String,
        profile: SimulationProfile
    ) throws -> FarmReplica {
        func problem(_ text: String) -> SimulatorError { .badLayout("\(path): \(text)") }
        let unread = snapshot.servers.filter { $0.status != "ok" || $0.platform == nil }
        guard unread.isEmpty else {
            throw problem(
                "the snapshot has servers osfarm could not read (\(unread.map(\.name).joined(separator: ", "))); take it again once every server answers")
        }
        guard let controller = snapshot.servers.first(where: { $0.platform?.role == .deploymentController }), let platform = controller.platform
        else { throw problem("no server of the snapshot is a deployment controller") }
        func address(_ section: DatabaseSection) throws -> DatabaseServerAddress? {
            guard let endpoint = platform.database(section) else { return nil }
            guard let address = endpoint.address else { throw problem("\(section.rawValue) section's server \"\(endpoint.server)\" is not a database server") }
            return address
        }
        guard let old = try address(.platform) else { throw problem("\(controller.name)'s server.hsconf has no platform database server") }
        let session = try address(.session).flatMap { $0.sameServer(as: old) ? nil : $0 }
        let logging = try address(.logging).flatMap { $0.sameServer(as: old) ? nil : $0 }
        var notes: [String] = []
        var drift: [String: ConfigurationDrift] = [:]
        var hostBindings: [String: String] = [:]
        var layout = SimulatedLayout()
        layout.databaseServers = SimulatedLayout.DatabaseServers(old: old, new: target, session: session, logging: logging)
        layout.platformVersion = platform.version
        for section in DatabaseSection.allCases { if let catalog = platform.database(section)?.catalog { layout.catalogs[section] = catalog } }
        layout.redisSessions = platform.inMemorySession != nil
        if platform.databaseProviders?.contains(where: { $0.provider == .oracle }) == true {
            throw problem("the farm's databases are Oracle: a replica of an Oracle farm is not built yet")
        }
        let frontEndController = snapshot.servers.first { $0.platform?.role == .frontEnd }?.platform?.services
            .first { $0.name.caseInsensitiveCompare("OutSystems Deployment Controller Service") == .orderedSame }
        layout.frontEndControllerService = frontEndController?.startType ?? .disabled
        let windows = platform.databases.contains { $0.authentication == .windows }
        let clear = snapshot.servers.contains { $0.platform?.hsconfLayout?.secrets.contains { $0.form == .clear } == true }
        var servers: [LocalServerSpec] = []
        for server in snapshot.servers {
            let entry = snapshot.inventory.servers.first { $0.name == server.name }
            var spec = LocalServerSpec(name: server.name, role: entry?.role ?? server.platform?.role ?? .frontEnd, agentBinary: agentBinary)
            spec.copyAgent = false
            if let tag = server.locale?.language, let language = DisplayLanguage(tag: tag) {
                spec.language = language
            } else {
                notes.append("\(server.name): language \(server.locale?.language ?? server.locale?.installLanguage ?? "unknown") is not simulated; English")
            }
            spec.defaultShell = server.sessionShell?.isPowerShell == true ? .powerShell : .commandPrompt
            if let shell = server.sessionShell, !shell.concerns.isEmpty {
                notes.append("\(server.name): its shell settings (\(shell.summary)) are simulated as \(spec.defaultShell.rawValue)")
            }
            spec.services = server.platform?.services.map {
                ServerBuilder.ServiceShape(name: $0.name, startType: $0.startType, running: $0.state == .running || $0.state == .startPending)
            }
            spec.inventoryEntry = entry
            if entry?.serviceCenter?.scheme == .https {
                notes.append("\(server.name): Service Center is called over HTTPS on the farm; the replica calls it over plain HTTP")
            }
            servers.append(spec)
            if let host = server.iisBindings?.first(where: { $0.protocol.lowercased() == "http" })?.hostName { hostBindings[server.name] = host }
            let found = Self.drift(of: server, controller: controller, old: old)
            if !found.isEmpty { drift[server.name] = found }
        }
        var simulation = SimulationOptions(
            profile: profile, emulatorBinary: emulatorBinary, clearTextPasswords: clear, windowsAuthentication: windows, layout: layout)
        simulation.measuredTimings = snapshot.durations.map(timings)
        if let agent = snapshot.servers.compactMap(\.agentVersion).first(where: { $0 != OsfarmVersion.current }) {
            notes.append("the farm's agents are version \(agent); the replica runs this build's (\(OsfarmVersion.current))")
        }
        return FarmReplica(servers: servers, simulation: simulation, notes: notes, drift: drift, hostBindings: hostBindings)
    }

    /// What of `server` preflight would find that the simulator's defaults do not have.
    static func drift(of server: SnapshotServer, controller: SnapshotServer, old: DatabaseServerAddress) -> ConfigurationDrift {
        var drift = ConfigurationDrift()
        guard let platform = server.platform else { return drift }
        if let version = controller.platform?.version, platform.version != version { drift.platformVersion = platform.version }
        if let own = server.privateKeyGroup, let farm = controller.privateKeyGroup, own != farm { drift.newPrivateKey = true }
        for reference in platform.serverReferences ?? [] {
            let host = DatabaseServerAddress(reference.server)?.host ?? reference.server
            guard host.caseInsensitiveCompare(old.host) == .orderedSame else { continue }
            if reference.keyword?.caseInsensitiveCompare("Failover Partner") == .orderedSame {
                drift.failoverPartner = reference.server
            } else if reference.location == "CacheInvalidationConfiguration/ServiceHost" {
                drift.cacheServiceHost = reference.server
            }
        }
        if let host = platform.compilerServerHostname?.trimmingCharacters(in: .whitespaces).lowercased(), ["localhost", "127.0.0.1", "::1"].contains(host) {
            drift.compilerServerHostname = host
        }
        return drift
    }

    /// A simulated server's delays from a run's step medians: the Configuration Tool and the
    /// readiness wait as measured; a service's stop and start as the step's time shared by the
    /// four OutSystems services a server stops and starts one after the other; an iisreset as the
    /// longer of IIS's stop and start. Steps the run did not measure keep the realistic profile's.
    public static func timings(_ durations: SnapshotDurations) -> SimulatedTimings {
        let fallback = SimulationProfile.realistic.timings
        func seconds(_ step: String) -> Double? { durations.stepSeconds[step].flatMap { $0 > 0 ? $0 : nil } }
        let iis = [seconds("stop-iis"), seconds("start-iis")].compactMap { $0 }.max()
        return SimulatedTimings(
            stopSeconds: seconds("stop-services").map { $0 / 4 } ?? fallback.stopSeconds,
            startSeconds: seconds("start-services").map { $0 / 4 } ?? fallback.startSeconds,
            initialisationSeconds: seconds("wait-ready") ?? fallback.initialisationSeconds,
            iisSeconds: iis ?? fallback.iisSeconds,
            configurationToolSeconds: seconds("configuration-tool") ?? fallback.configurationToolSeconds)
    }
}
