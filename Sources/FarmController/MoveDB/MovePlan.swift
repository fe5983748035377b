import FarmProtocol
import Foundation

/// What `move-db run` will do, phase by phase and server by server, printed from the runbook
/// table itself (so what is shown is what runs), computed from the inventory and options alone:
/// `plan` touches nothing and connects nowhere.
public struct MovePlan: Codable, Sendable {
    public static let schemaName = "osfarm.move-db-plan/v2"

    public struct Step: Codable, Sendable {
        public var id: String
        public var description: String
        /// Set when the step takes turns with the same step on other servers.
        public var turn: String?
    }

    public struct ServerSteps: Codable, Sendable {
        public var name: String
        public var role: ServerRole
        public var address: String
        public var steps: [Step]
    }

    public struct Phase: Codable, Sendable {
        public var kind: PhaseKind
        public var title: String
        /// "all at once", "one at a time", "2 at a time".
        public var concurrency: String
        public var servers: [ServerSteps]
    }

    public var schema = schemaName
    public var inventory: String
    public var selected: Int
    public var inventoryServers: Int
    public var targets: DatabaseTargets
    public var expectFrom: DatabaseServerAddress?
    public var window: MaintenanceWindow?
    public var options: MoveOptions
    public var phases: [Phase]
    /// A fully moved server's rollback, in order.
    public var rollback: [String]
    public var controller: String?
    public var partial: Bool
    public var manualSteps: [String]
    /// Expected downtime, from the last completed run on this farm.
    public var estimate: DowntimeEstimate?

    /// Servers in execution order: the deployment controller first, then front-ends in inventory order.
    public static func executionOrder(_ servers: [ServerEntry]) -> [ServerEntry] {
        servers.filter { $0.role == .deploymentController } + servers.filter { $0.role == .frontEnd }
    }

    public static func make(
        inventory: Inventory, selected: [ServerEntry], targets: DatabaseTargets, options: MoveOptions,
        runbook: Runbook = .moveDatabase, estimate: DowntimeEstimate? = nil
    ) -> MovePlan {
        let ordered = executionOrder(selected)
        let controller = ordered.first { $0.role == .deploymentController }
        var record = RunRecord(
            runID: "RUN-ID", createdAt: Date(), startedBy: "", inventoryPath: inventory.path, limit: nil, servers: ordered.map(\.name),
            roles: Dictionary(ordered.map { ($0.name, $0.role) }, uniquingKeysWith: { first, _ in first }), targets: targets, origin: targets,
            from: options.expectFrom?.description, options: options, partial: false,
            windowsAuthentication: options.adminPasswordVariable != nil)
        record.hooks = Dictionary(ordered.filter { !$0.hooks.isEmpty }.map { ($0.name, $0.hooks) }, uniquingKeysWith: { first, _ in first })
        // A phase of hooks alone that no server has (the load balancer's put-back) is left out.
        let shown = runbook.phases.filter { phase in
            !phase.steps.allSatisfy { $0.rawValue.hasPrefix("hook:") }
                || ordered.contains { !runbook.steps(of: phase, on: RunServer(name: $0.name, role: $0.role, hooks: $0.hooks), options: options).isEmpty }
        }
        let phases = shown.map { phase in
            Phase(
                kind: phase.kind, title: phase.title, concurrency: describe(phase.concurrency, options),
                servers: ordered.compactMap { server in
                    let steps = runbook.steps(of: phase, on: RunServer(name: server.name, role: server.role, hooks: server.hooks), options: options)
                    guard !steps.isEmpty else { return nil }
                    let context = StepContext(server: server, record: record, direction: .forward, adminPassword: nil)
                    return ServerSteps(
                        name: server.name, role: server.role, address: server.address,
                        steps: steps.map { Step(id: $0.id.rawValue, description: $0.explain(context), turn: $0.turn) })
                })
        }
        let rollback =
            ordered.first.map { server in
                runbook.rollbackSteps(on: RunServer(name: server.name, role: server.role, hooks: server.hooks), options: options) { _ in true }.map(\.rawValue)
            } ?? []
        return MovePlan(
            inventory: inventory.path, selected: selected.count, inventoryServers: inventory.servers.count, targets: targets,
            expectFrom: options.expectFrom, window: options.window, options: options, phases: phases, rollback: rollback,
            controller: controller?.name, partial: selected.count < inventory.servers.count,
            manualSteps: manualSteps(from: options.expectFrom?.description, targets: targets, applied: options.applySettings, controller: controller?.name),
            estimate: estimate)
    }

    static func describe(_ concurrency: PhaseConcurrency, _ options: MoveOptions) -> String {
        switch concurrency {
        case .all: return "all at once"
        case .one: return "one at a time"
        case .parallelOption: return options.parallel == 1 ? "one at a time (--parallel 1)" : "\(options.parallel) at a time (--parallel)"
        }
    }

    /// What is left to do by hand in Service Center after a move (the restore procedure's last steps).
    public static func manualSteps(from: String?, targets: DatabaseTargets, applied: Bool, controller: String?, runID: String? = nil) -> [String] {
        var steps: [String] = []
        if applied {
            steps.append(
                "Check in Service Center that no module has settings left to apply (/ApplySettingsFactory ran on \(controller ?? "the deployment controller"))."
            )
        } else {
            steps.append(
                "Apply Settings did not run (--no-apply-settings): in Service Center, Factory > Solutions, create a solution with all components, then Apply Settings to it."
            )
        }
        steps.append("If Service Center warns that modules must be republished, publish the current running version of that solution.")
        steps.append("Keep the old database server\(from.map { " (\($0))" } ?? "") online until the farm is verified on \(targets); only then decommission it.")
        steps.append(
            "Once the move is confirmed, remove this run's backups of server.hsconf and private.key (they hold secrets): osfarm backups prune \(runID ?? "RUN-ID") -i INVENTORY."
        )
        return steps
    }

    public func text() -> String {
        var lines: [String] = []
        if partial {
            lines.append("PARTIAL: \(selected) of \(inventoryServers) servers selected; the others stay on the old database.")
        }
        lines.append("osfarm move-db plan")
        lines.append("  inventory   \(inventory) (\(selected) of \(inventoryServers) servers)")
        lines.append("  move to     \(targets)" + (targets.moving.allSatisfy { $0.1.catalog == nil } ? " (catalogs unchanged)" : ""))
        if let expectFrom { lines.append("  expect      every server on \(expectFrom) now") }
        lines.append("  window      \(window?.description ?? "none")")
        lines.append("  downtime    \(estimate?.text ?? "unknown until a run on this farm has timed its steps")")
        lines.append(
            "  sections    every section on the platform's server now moves; one elsewhere stays unless --session-to/--logging-to name it (read at preflight)")
        lines.append("")
        lines.append("Nothing is changed by this command. 'osfarm move-db preflight' checks the servers; 'osfarm move-db run' does this:")
        for (index, phase) in phases.enumerated() {
            lines.append("")
            lines.append("\(index + 1). \(phase.title) (\(phase.servers.map(\.name).joined(separator: ", ")); \(phase.concurrency))")
            if phase.kind == .gate {
                let target = targets.platform?.server.description ?? "the new server"
                lines.append(
                    "     first: wait until the operator types \(target)"
                        + (options.databaseRestored ? " (skipped: --db-restored)" : " (or run with --db-restored)"))
            }
            if phase.servers.isEmpty { lines.append("     nothing (\(phase.kind == .after ? "no after-steps asked for" : "no server"))") }
            // Servers with the same steps are listed together.
            var groups: [(names: [String], steps: [Step])] = []
            for server in phase.servers {
                let descriptions = server.steps.map(\.description)
                if let last = groups.indices.last, groups[last].steps.map(\.description) == descriptions {
                    groups[last].names.append(server.name)
                } else {
                    groups.append(([server.name], server.steps))
                }
            }
            for group in groups {
                lines.append("     \(group.names.joined(separator: ", ")):")
                for (number, step) in group.steps.enumerated() {
                    lines.append("       \(number + 1). \(step.description)" + (step.turn.map { " [one server at a time: the \($0) turn]" } ?? ""))
                }
            }
            switch phase.kind {
            case .apply where phase.servers.contains { $0.role == .deploymentController }:
                lines.append("   A failure here stops the run before any front-end is touched.")
            case .apply:
                let count = phase.servers.count
                lines.append(
                    "   After \(options.maxFailures == 0 ? "the first front-end failure" : "\(options.maxFailures + 1) front-end failures") no new front-end starts (of \(count))."
                )
            default:
                break
            }
        }
        lines.append("")
        lines.append("By hand afterwards:")
        for step in manualSteps { lines.append("  - \(step)") }
        lines.append("")
        lines.append("Rollback: 'osfarm rollback RUN-ID' runs, per server, the inverses of the steps it started, latest first;")
        lines.append("for a moved server: \(rollback.joined(separator: ", ")).")
        return lines.joined(separator: "\n") + "\n"
    }

    public func json() throws -> String {
        String(decoding: try RunJournal.recordEncoder().encodePretty(self), as: UTF8.self) + "\n"
    }
}

extension JSONEncoder {
    func encodePretty<T: Encodable>(_ value: T) throws -> Data {
        let previous = outputFormatting
        outputFormatting.insert(.prettyPrinted)
        defer { outputFormatting = previous }
        return try encode(value)
    }
}
