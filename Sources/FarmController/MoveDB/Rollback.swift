import FarmProtocol
import Foundation

/// Takes every server a run touched back to where it was: stop, restore the run's backup of
/// server.hsconf and private.key (SHA-256 checked), start IIS, Configuration Tool, start the
/// services, and check the server names the old database again. Servers the run only stopped
/// are started again.
public struct Rollback: Sendable {
    public struct ServerResult: Sendable {
        public var server: String
        public var restored: Bool
        public var error: String?
    }

    public static func run(record: RunRecord, state: RunState, servers: [ServerEntry], sessions: [String: AgentSession],
                           journal: RunJournal, view: LiveView, adminPassword: Secret?) async -> [ServerResult] {
        var results: [ServerResult] = []
        // The deployment controller first, as in a move.
        for server in MovePlan.executionOrder(servers) where state.stopped(server.name) || state.touched(server.name) {
            let restore = state.touched(server.name)
            guard let session = sessions[server.name] else {
                results.append(ServerResult(server: server.name, restored: false, error: "no session"))
                continue
            }
            var failure: String?
            for step in steps(restore: restore) {
                view.step(server.name, step)
                try? journal.append(JournalEntry(server: server.name, step: "rollback:\(step)", event: .started))
                let started = Date()
                do {
                    try await perform(step, session: session, record: record, adminPassword: adminPassword) { view.event(server.name, $0.message) }
                    try? journal.append(JournalEntry(server: server.name, step: "rollback:\(step)", event: .finished,
                                                     durationMilliseconds: Date().timeIntervalSince(started) * 1000))
                } catch {
                    let message = MoveRun.describe(error)
                    try? journal.append(JournalEntry(server: server.name, step: "rollback:\(step)", event: .failed, message: message))
                    view.event(server.name, "FAILED: \(message)")
                    failure = "\(step): \(message)"
                    break
                }
            }
            results.append(ServerResult(server: server.name, restored: restore && failure == nil, error: failure))
        }
        view.finish()
        return results
    }

    static func steps(restore: Bool) -> [String] {
        restore ? ["stop-iis", "stop-services", "restore", "start-iis", "configuration-tool", "start-services", "wait-ready", "verify"]
            : ["start-services", "start-iis", "wait-ready"]
    }

    private static func perform(_ step: String, session: AgentSession, record: RunRecord, adminPassword: Secret?,
                                progress: @escaping (ProgressEvent) -> Void) async throws {
        let options = record.options
        let services = ServiceControlArguments(serviceTimeoutSeconds: options.serviceTimeout)
        let wait = options.serviceTimeout * 6 + options.timeout
        switch step {
        case "stop-iis": _ = try await session.perform(.stopIIS(services), timeout: wait, progress: progress)
        case "stop-services": _ = try await session.perform(.stopServices(services), timeout: wait, progress: progress)
        case "restore": _ = try await session.perform(.restoreConfiguration(BackupArguments(runID: record.runID)), timeout: 120)
        case "start-iis": _ = try await session.perform(.startIIS(services), timeout: wait, progress: progress)
        case "configuration-tool":
            let arguments = ConfigurationToolArguments(
                mode: .upgradeInstall(integratedAuthenticationPassword: record.windowsAuthentication ? adminPassword : nil),
                installServiceCenter: true, timeoutSeconds: options.configurationToolTimeout)
            _ = try await session.perform(.runConfigurationTool(arguments), timeout: options.configurationToolTimeout + 300 + options.timeout, progress: progress)
        case "start-services": _ = try await session.perform(.startServices(services), timeout: wait, progress: progress)
        case "wait-ready":
            _ = try await session.perform(.waitForReadiness(ReadinessArguments(timeoutSeconds: options.readinessTimeout)),
                                          timeout: options.readinessTimeout + options.timeout, progress: progress)
        case "verify":
            guard case let .inspection(inspection) = try await session.perform(.inspect, timeout: 60), let platform = inspection.platform else {
                throw MoveRun.StepFailure(message: "cannot read the server's configuration")
            }
            if let from = record.from {
                for database in platform.databases where database.server.caseInsensitiveCompare(from) != .orderedSame {
                    throw MoveRun.StepFailure(message: "\(database.section.rawValue) names \(database.server), not the old \(from)")
                }
            }
        default:
            throw MoveRun.StepFailure(message: "unknown rollback step \(step)")
        }
    }
}
