import FarmProtocol
import Foundation

/// `osfarm move-db rehearse`: the run the operator will make in the window, made on a replica
/// (`osfarm-sim farm up --from`), and what it says about the real window.
public enum Rehearsal {
    /// The inventory is a replica's, or this names why rehearse refuses it.
    public static func snapshotPath(of inventory: Inventory) throws -> String {
        guard let path = inventory.replicaOf else {
            throw UsageProblem(
                "\(inventory.path) is not a replica's inventory (it has no replica.snapshot): rehearse runs only on a replica; "
                    + "build one with osfarm inspect --save SNAPSHOT and osfarm-sim farm up --from SNAPSHOT")
        }
        return path
    }

    /// What preflight says of the real farm as the snapshot recorded it (the checks that need no
    /// live server: roles, layout, platform versions, private.key, references to the old server,
    /// --expect-from). The replica's own preflight adds the live ones (probes, logins).
    public static func recordedPreflight(_ snapshot: FarmSnapshot, servers: [ServerEntry], request: MoveRequest, options: MoveOptions) -> Preflight {
        var inspections: [String: PlatformInspection] = [:]
        for server in snapshot.servers {
            guard var platform = server.platform else { continue }
            // The digest is not in the snapshot; the group stands for it (same group, same file).
            platform.privateKeySHA256 = server.privateKeyGroup.map { "file #\($0)" }
            inspections[server.name] = platform
        }
        return Preflight.recorded(servers, inspections: inspections, request: request, options: options)
    }

    /// The real window's downtime, estimated: the replica's measured downtime scaled by how much
    /// longer the steps took on the real farm (the snapshot's durations) than on the replica.
    public struct Estimate: Sendable {
        /// The farm downtime the replica's run measured (no front-end serving).
        public var measuredSeconds: Double
        /// The same run modelled from the replica's own step times, and from the real farm's
        /// (each step the snapshot measured at its real median, the others at the replica's).
        public var replicaModelSeconds: Double
        public var realModelSeconds: Double
        /// The run the real durations come from; nil when the snapshot has none.
        public var basedOn: String?

        public var factor: Double { replicaModelSeconds > 0 ? realModelSeconds / replicaModelSeconds : 1 }
        public var estimateSeconds: Double { measuredSeconds * factor }

        public var text: String {
            var lines = ["measured downtime on the replica: \(Availability.format(measuredSeconds)) with no front-end serving"]
            if let basedOn {
                lines.append(
                    "estimate for the real window: about \(Availability.format(estimateSeconds)) with no front-end serving, plus the restore "
                        + "(the replica's run × \(String(format: "%.1f", factor)), from the step durations of run \(basedOn) on the real farm)")
            } else {
                lines.append(
                    "estimate for the real window: about \(Availability.format(estimateSeconds)), plus the restore; the snapshot has no durations "
                        + "(no completed run on the real farm in this jump host's journal), so this is the simulator's timing, not the farm's")
            }
            return lines.joined(separator: "\n") + "\n"
        }
    }

    public static func estimate(_ report: MoveReport, snapshot: FarmSnapshot, servers: [ServerEntry], options: MoveOptions) -> Estimate {
        estimate(
            measuredSeconds: report.availability.farmDownSeconds, replicaSteps: DowntimeEstimate.medians(report.state),
            durations: snapshot.durations, servers: servers, options: options)
    }

    /// The same from the replica's step medians and the snapshot's durations.
    public static func estimate(
        measuredSeconds: Double, replicaSteps: [String: Double], durations: SnapshotDurations?, servers: [ServerEntry], options: MoveOptions
    ) -> Estimate {
        let real = replicaSteps.merging(durations?.stepSeconds ?? [:]) { _, measured in measured }
        func model(_ steps: [String: Double]) -> Double {
            DowntimeEstimate.estimate(medians: steps, basedOn: durations?.runID ?? "", servers: servers, options: options).farmSeconds
        }
        return Estimate(
            measuredSeconds: measuredSeconds, replicaModelSeconds: model(replicaSteps), realModelSeconds: model(real), basedOn: durations?.runID)
    }
}
