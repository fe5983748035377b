import FarmProtocol
import FarmSSH
import Foundation

/// How long the servers and the farm will be down, estimated from the step durations of the last
/// completed run on this farm (the restore itself, which the DBA does, is not counted).
public struct DowntimeEstimate: Codable, Sendable {
    /// The run the durations come from.
    public var basedOn: String
    public var servers: [String: Double]
    /// Until the first front-end serves again.
    public var farmSeconds: Double

    public var text: String {
        "about \(Availability.format(farmSeconds)) with no front-end serving (the longest server \(Availability.format(servers.values.max() ?? 0)); "
            + "from run \(basedOn), plus the restore)"
    }

    /// Nil when no earlier completed run of this farm (by its identity: servers, addresses and
    /// host keys, not a shared server name) is in `stateDirectory`.
    public static func make(
        stateDirectory: String, farm: String, servers: [ServerEntry], options: MoveOptions, runbook: Runbook = .moveDatabase
    ) -> DowntimeEstimate? {
        for run in RunCatalog.list(stateDirectory: stateDirectory) where run.state == RunLifecycle.completed.rawValue {
            guard let (_, record, entries) = try? RunJournal.open(runID: run.runID, stateDirectory: stateDirectory, forWriting: false),
                record.farmIdentity == farm
            else { continue }
            return estimate(from: RunState(entries: entries), runID: record.runID, servers: servers, options: options, runbook: runbook)
        }
        return nil
    }

    static func estimate(from state: RunState, runID: String, servers: [ServerEntry], options: MoveOptions, runbook: Runbook) -> DowntimeEstimate {
        estimate(medians: medians(state), basedOn: runID, servers: servers, options: options, runbook: runbook)
    }

    /// The median seconds of each step over the servers that ran it, by step name.
    public static func medians(_ state: RunState) -> [String: Double] {
        var samples: [String: [Double]] = [:]
        for steps in state.durations.values { for (step, milliseconds) in steps { samples[step, default: []].append(milliseconds / 1000) } }
        return samples.mapValues { values in
            let sorted = values.sorted()
            return sorted[sorted.count / 2]
        }
    }

    /// The downtime a run of `runbook` on `servers` takes when each step takes its median.
    public static func estimate(
        medians: [String: Double], basedOn: String, servers: [ServerEntry], options: MoveOptions, runbook: Runbook = .moveDatabase
    ) -> DowntimeEstimate {
        func median(_ step: StepID) -> Double { medians[step.rawValue] ?? 0 }
        func seconds(_ kinds: [PhaseKind], _ server: ServerEntry) -> Double {
            let run = RunServer(name: server.name, role: server.role, hooks: server.hooks)
            return runbook.phases.filter { kinds.contains($0.kind) && runbook.includes($0, server.role) }
                .flatMap { runbook.steps(of: $0, on: run, options: options) }.map { median($0.id) }.reduce(0, +)
        }
        let start = (servers.map { seconds([.stop], $0) }.max() ?? 0) + (servers.first.map { seconds([.gate], $0) } ?? 0)
        var down: [String: Double] = [:]
        let controller = servers.filter { $0.role == .deploymentController }
        let controllerDone = start + controller.map { seconds([.apply], $0) }.reduce(0, +)
        for server in controller { down[server.name] = controllerDone }
        let frontEnds = servers.filter { $0.role == .frontEnd }
        let parallel = max(1, options.parallel)
        for (index, server) in frontEnds.enumerated() {
            down[server.name] = controllerDone + Double(index / parallel + 1) * seconds([.apply], server)
        }
        let farm = frontEnds.isEmpty ? controllerDone : frontEnds.compactMap { down[$0.name] }.min() ?? controllerDone
        return DowntimeEstimate(basedOn: basedOn, servers: down, farmSeconds: farm)
    }
}

/// Which farm an inventory describes: its servers' names and addresses and the host keys
/// known_hosts trusts for them, hashed. Two inventories of one farm agree; a farm that only
/// shares a server name (dc1) with another does not.
public enum FarmIdentity {
    public static func of(_ inventory: Inventory) -> String {
        let known = try? KnownHosts.load(path: inventory.knownHostsPath)
        let lines = inventory.servers.map { server in
            let keys = known?.keys(host: server.host, port: server.port).map(\.fingerprint).sorted() ?? []
            return "\(server.name) \(server.address) \(keys.joined(separator: ","))"
        }.sorted()
        return SHA256.hex(Array(lines.joined(separator: "\n").utf8))
    }
}
