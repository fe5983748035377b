import FarmProtocol
import FarmSSH
import Foundation

/// `osfarm services`: the OutSystems services and IIS on every selected server, read or driven.
public enum FarmServices {
    public enum Action: String, Sendable, CaseIterable {
        case status
        case stop
        case start
    }

    public struct ServerResult: Sendable {
        public var server: ServerEntry
        public var status: ServerCheck.Status
        /// The services at the end, OutSystems and IIS together.
        public var services: [ServiceStatus]
        public var actions: [String]
        public var skipped: [String]
        public var error: AgentSessionError?
        public var elapsedMilliseconds: Double
    }

    /// Stop drives IIS down first, then the OutSystems services; start brings the services up, then IIS.
    public static func run(
        _ action: Action, servers: [ServerEntry], settings: ConnectionSettings, serviceTimeout: Double,
        includeIIS: Bool = true, concurrency: Int = FarmCheck.defaultConcurrency,
        progress: @escaping @Sendable (String, ProgressEvent) -> Void = { _, _ in }
    ) async -> [ServerResult] {
        await BoundedFanOut.map(servers, concurrency: concurrency) { server in
            let started = Deadline.now
            var result = ServerResult(
                server: server, status: .ok, services: [], actions: [], skipped: [], error: nil,
                elapsedMilliseconds: 0)
            let failure = await AgentSession.withSession(server, settings: settings) { session in
                try await drive(
                    action, session: session, serviceTimeout: serviceTimeout, includeIIS: includeIIS,
                    timeout: settings.timeout, into: &result, progress: progress)
            }
            if let failure {
                result.status = failure.isUnreachable ? .unreachable : .failed
                result.error = failure
            }
            result.elapsedMilliseconds =
                Double(Deadline.now.uptimeNanoseconds - started.uptimeNanoseconds) / 1_000_000
            return result
        }
    }

    private static func drive(
        _ action: Action, session: AgentSession, serviceTimeout: Double, includeIIS: Bool,
        timeout: Double,
        into result: inout ServerResult, progress: @escaping @Sendable (String, ProgressEvent) -> Void
    ) async throws {
        let server = session.server
        let arguments = ServiceControlArguments(serviceTimeoutSeconds: serviceTimeout)
        let operations: [AgentOperation]
        switch action {
        case .status: operations = [.serviceStatus]
        case .stop: operations = (includeIIS ? [.stopIIS(arguments)] : []) + [.stopServices(arguments)]
        case .start:
            operations = [.startServices(arguments)] + (includeIIS ? [.startIIS(arguments)] : [])
        }
        // Each answer may take a whole service timeout per service; allow for the slowest.
        let wait = serviceTimeout * 6 + timeout
        var byName: [String: ServiceStatus] = [:]
        for operation in operations {
            guard
                case .services(_, let report) = try await session.perform(
                    operation, timeout: wait, progress: { progress(server.name, $0) })
            else {
                throw AgentSessionError.protocolViolation(
                    "\(operation.name) answered without a service report")
            }
            for service in report.services { byName[service.name] = service }
            result.actions += report.actions
            result.skipped += report.skipped
        }
        if action != .status {
            guard case .services(_, let final) = try await session.perform(.serviceStatus) else {
                throw AgentSessionError.protocolViolation(
                    "service-status answered without a service report")
            }
            for service in final.services { byName[service.name] = service }
        }
        result.services = byName.values.sorted { $0.name < $1.name }
    }

    public static func exitStatus(_ results: [ServerResult]) -> ExitStatus {
        if results.contains(where: { $0.status == .unreachable }) { return .unreachable }
        if results.contains(where: { $0.status == .failed }) { return .someFailed }
        return .success
    }

    public static func table(_ results: [ServerResult]) -> String {
        var table = TextTable(headers: ["SERVER", "ROLE", "OUTSYSTEMS", "IIS", "CHANGED", "STATUS"])
        for result in results {
            let outSystems = result.services.filter { $0.kind == .platform && $0.startType != .disabled }
            let iis = result.services.filter { $0.kind == .iis }
            table.add([
                result.server.name, result.server.role.rawValue,
                outSystems.isEmpty
                    ? "-" : "\(outSystems.filter { $0.state == .running }.count)/\(outSystems.count) running",
                iis.isEmpty
                    ? "-"
                    : (iis.allSatisfy { $0.state == .running }
                        ? "running" : iis.allSatisfy { $0.state == .stopped } ? "stopped" : "mixed"),
                "\(result.actions.count)", result.status.rawValue,
            ])
        }
        var text = table.render()
        let problems = results.filter { $0.error != nil }
        if !problems.isEmpty {
            text += "\n"
            for result in problems { text += "\(result.server.name): \(result.error!.description)\n" }
        }
        return text
    }

    struct Document: Codable {
        struct Server: Codable {
            var name: String
            var role: ServerRole
            var status: ServerCheck.Status
            var services: [ServiceStatus]
            var actions: [String]
            var skipped: [String]
            var error: CheckDocument.Failure?
            var elapsedMilliseconds: Double
        }

        var schema = "osfarm.services/v1"
        var action: String
        var osfarmVersion = OsfarmVersion.current
        var exitCode: Int32
        var servers: [Server]
    }

    public static func json(_ action: Action, _ results: [ServerResult]) throws -> String {
        let document = Document(
            action: action.rawValue, exitCode: exitStatus(results).rawValue,
            servers: results.map {
                Document.Server(
                    name: $0.server.name, role: $0.server.role, status: $0.status, services: $0.services,
                    actions: $0.actions,
                    skipped: $0.skipped,
                    error: $0.error.map { CheckDocument.Failure(code: $0.code, message: $0.description) },
                    elapsedMilliseconds: ($0.elapsedMilliseconds * 10).rounded() / 10)
            })
        return String(
            decoding: try WireCodec.recordEncoder(pretty: true).encode(document), as: UTF8.self) + "\n"
    }
}
