import FarmProtocol
import Foundation

/// Builds the snapshot `osfarm inspect --save` writes from what `osfarm check` read (one
/// `inspect` per server, read-only) and from the runs this jump host journaled on the same farm.
public enum FarmSnapshotTaking {
    public static func snapshot(
        inventory: Inventory, checks: [ServerCheck], stateDirectory: String, now: Date = Date()
    ) -> FarmSnapshot {
        var groups: [String: Int] = [:]
        for digest in checks.compactMap({ $0.inspection?.platform?.privateKeySHA256 }) where groups[digest] == nil { groups[digest] = groups.count + 1 }
        let servers = checks.map { check -> SnapshotServer in
            let inspection = check.inspection
            var platform = inspection?.platform
            // The digest of private.key stays on the jump host's side of the snapshot: only
            // whether every server has the same file goes in.
            platform?.privateKeySHA256 = nil
            var server = SnapshotServer(
                name: check.server.name, status: check.status.rawValue, problem: check.error.map { "\($0)" },
                agentVersion: inspection?.agentVersion, protocolVersion: inspection?.protocolVersion,
                operatingSystem: inspection?.host.operatingSystem, locale: inspection?.locale, sessionShell: inspection?.sessionShell,
                platform: platform, platformProblem: inspection?.platformProblem)
            server.iisBindings = inspection?.iisBindings
            server.privateKeyGroup = inspection?.platform?.privateKeySHA256.flatMap { groups[$0] }
            return server
        }
        let digests = Set(checks.compactMap { $0.inspection?.platform?.privateKeySHA256 })
        return FarmSnapshot(
            takenAt: now, inventory: SnapshotInventory(path: inventory.path, servers: checks.map { entry($0.server) }),
            servers: servers, privateKeysMatch: digests.isEmpty ? nil : digests.count == 1,
            durations: durations(stateDirectory: stateDirectory, farm: FarmIdentity.of(inventory)))
    }

    static func entry(_ server: ServerEntry) -> SnapshotInventoryServer {
        let hooks = server.hooks
        return SnapshotInventoryServer(
            name: server.name, host: server.host, port: server.port, user: server.user, role: server.role, tags: server.tags,
            agent: server.agentCommand,
            hooks: hooks.isEmpty
                ? nil
                : SnapshotHooks(commands: hooks.commands, timeout: hooks.timeout, passEnv: hooks.passEnvironment, rejoin: hooks.rejoin?.rawValue),
            serviceCenter: server.serviceCenter.map { SnapshotServiceCenter(host: $0.host, port: $0.port, scheme: $0.scheme == .https ? .https : nil) })
    }

    /// The step durations of the last completed run on this farm (by its identity), when there is one.
    public static func durations(stateDirectory: String, farm: String) -> SnapshotDurations? {
        for run in RunCatalog.list(stateDirectory: stateDirectory) where run.state == RunLifecycle.completed.rawValue {
            guard let (_, record, entries) = try? RunJournal.open(runID: run.runID, stateDirectory: stateDirectory, forWriting: false),
                record.farmIdentity == farm
            else { continue }
            let state = RunState(entries: entries)
            let availability = Availability(record: record, state: state, now: entries.last?.time ?? Date())
            return SnapshotDurations(
                runID: record.runID, stepSeconds: DowntimeEstimate.medians(state), farmDowntimeSeconds: availability.farmDownSeconds)
        }
        return nil
    }
}
