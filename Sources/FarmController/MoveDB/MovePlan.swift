import FarmProtocol
import Foundation

/// What `move-db run` will do, server by server and in execution order, computed from the
/// inventory and options alone: `plan` touches nothing and connects nowhere.
public struct MovePlan: Codable, Sendable {
    public static let schemaName = "osfarm.move-db-plan/v1"

    public struct ServerPlan: Codable, Sendable {
        public var name: String
        public var role: ServerRole
        public var address: String
        public var steps: [MoveStep]
    }

    public var schema = schemaName
    public var inventory: String
    public var selected: Int
    public var inventoryServers: Int
    public var targets: MoveTargets
    public var expectFrom: String?
    public var window: MaintenanceWindow?
    public var options: MoveOptions
    /// Phase 1, all at once.
    public var stop: [ServerPlan]
    /// Phase 3, in order: the deployment controller first.
    public var apply: [ServerPlan]
    public var controller: String?
    public var partial: Bool
    public var manualSteps: [String]

    /// Servers in execution order: the deployment controller first, then front-ends in inventory order.
    public static func executionOrder(_ servers: [ServerEntry]) -> [ServerEntry] {
        servers.filter { $0.role == .deploymentController } + servers.filter { $0.role == .frontEnd }
    }

    public static func make(inventory: Inventory, selected: [ServerEntry], targets: MoveTargets, options: MoveOptions) -> MovePlan {
        let ordered = executionOrder(selected)
        let controller = ordered.first { $0.role == .deploymentController }
        return MovePlan(
            inventory: inventory.path, selected: selected.count, inventoryServers: inventory.servers.count, targets: targets,
            expectFrom: options.expectFrom, window: options.window, options: options,
            stop: ordered.map { ServerPlan(name: $0.name, role: $0.role, address: $0.address, steps: MoveStep.stopPhase) },
            apply: ordered.map { ServerPlan(name: $0.name, role: $0.role, address: $0.address, steps: MoveStep.applyPhase) },
            controller: controller?.name, partial: selected.count < inventory.servers.count,
            manualSteps: manualSteps(from: options.expectFrom, targets: targets, applied: options.applySettings, controller: controller?.name))
    }

    /// What is left to do by hand in Service Center after a move (the restore procedure's last steps).
    public static func manualSteps(from: String?, targets: MoveTargets, applied: Bool, controller: String?) -> [String] {
        var steps: [String] = []
        if applied {
            steps.append("Check in Service Center that no module has settings left to apply (/ApplySettingsFactory ran on \(controller ?? "the deployment controller")).")
        } else {
            steps.append("In Service Center, Factory > Solutions: create a solution with all components, then Apply Settings to it (or rerun with --apply-settings).")
        }
        steps.append("If Service Center warns that modules must be republished, publish the current running version of that solution.")
        steps.append("Keep the old database server\(from.map { " (\($0))" } ?? "") online until the farm is verified on \(targets.description); only then decommission it.")
        return steps
    }

    public func text() -> String {
        var lines: [String] = []
        if partial {
            lines.append("PARTIAL: \(selected) of \(inventoryServers) servers selected; the others stay on the old database.")
        }
        lines.append("osfarm move-db plan")
        lines.append("  inventory   \(inventory) (\(selected) of \(inventoryServers) servers)")
        lines.append("  move to     \(targets.description)" + (targets.platform.catalog == nil && targets.session.catalog == nil && targets.logging.catalog == nil ? " (catalogs unchanged)" : ""))
        if let expectFrom { lines.append("  expect      every server on \(expectFrom) now") }
        lines.append("  window      \(window?.description ?? "none")")
        lines.append("")
        lines.append("Nothing is changed by this command. 'osfarm move-db preflight' checks the servers; 'osfarm move-db run' does this:")
        lines.append("")
        lines.append("1. stop, every server at once")
        let width = (stop.map(\.name.count).max() ?? 0)
        for server in stop {
            lines.append("     \(server.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(server.steps.map(\.summary).joined(separator: "; "))")
        }
        lines.append("2. gate: the DBA backs up the old database and restores it on \(targets.platform.server)")
        lines.append("     wait until the operator types \(targets.platform.server)" + (options.databaseRestored ? " (skipped: --db-restored)" : " (or run with --db-restored)"))
        lines.append("     then probe \(targets.servers.joined(separator: ", ")) from \(controller ?? "the deployment controller")")
        let fronts = apply.filter { $0.role == .frontEnd }.count
        lines.append("3. apply, the deployment controller first, then the front-ends \(options.parallel) at a time")
        for server in apply {
            lines.append("     \(server.name) (\(server.role.rawValue))")
            for (index, step) in server.steps.enumerated() {
                lines.append("       \(index + 1). \(describe(step))")
            }
        }
        lines.append("   A failure on \(controller ?? "the deployment controller") stops the run before any front-end is touched;"
                     + " after \(options.maxFailures == 0 ? "the first front-end failure" : "\(options.maxFailures + 1) front-end failures") no new front-end starts (of \(fronts)).")
        lines.append("4. after")
        if options.applySettings { lines.append("     \(controller ?? "deployment controller"): ConfigurationTool.com /ApplySettingsFactory") }
        for step in manualSteps { lines.append("     by hand: \(step)") }
        lines.append("")
        lines.append("Rollback: 'osfarm rollback RUN-ID' puts every touched server back on its backed-up server.hsconf.")
        return lines.joined(separator: "\n") + "\n"
    }

    private func describe(_ step: MoveStep) -> String {
        switch step {
        case .repoint:
            var changes: [String] = []
            for section in DatabaseSection.allCases {
                let target = targets.target(for: section)
                changes.append("\(section.elementName) Server → \(target.server)" + (target.catalog.map { ", Catalog → \($0)" } ?? ""))
            }
            return "server.hsconf: " + changes.joined(separator: "; ")
        case .configurationTool:
            return "ConfigurationTool.com /UpgradeInstall" + (options.adminPasswordVariable != nil ? " <admin password from $\(options.adminPasswordVariable!)>" : "") + " /InstallServiceCenter"
        default:
            return step.summary
        }
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
