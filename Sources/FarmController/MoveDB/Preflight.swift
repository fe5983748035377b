import FarmProtocol
import FarmSSH
import Foundation

/// Read-only checks on every server before a move, reported per server.
public struct Preflight: Sendable {
    public static let minimumBackupBytes: Int64 = 50 * 1024 * 1024

    public struct ServerResult: Sendable {
        public var server: ServerEntry
        public var status: ServerCheck.Status
        public var problems: [String]
        public var notes: [String]
        public var inspection: PlatformInspection?
        public var error: AgentSessionError?
    }

    public var servers: [ServerResult]
    /// Problems of the farm as a whole (a split farm, several controllers).
    public var farmProblems: [String]
    /// The database server the farm's platform section points at now, when it is one.
    public var from: String?
    /// Where each section is now, as the servers agree (what a rollback puts back).
    public var origin: DatabaseTargets
    public var windowsAuthentication: Bool

    public var passed: Bool { farmProblems.isEmpty && servers.allSatisfy { $0.status == .ok } }

    public var exitStatus: ExitStatus {
        if servers.contains(where: { $0.status == .unreachable }) { return .unreachable }
        return passed ? .success : .someFailed
    }

    /// Runs every check; `sessions` holds the open session of each server that answered.
    public static func run(_ servers: [ServerEntry], targets: DatabaseTargets, options: MoveOptions,
                           sessions: [String: AgentSession]) async -> Preflight {
        let results = await BoundedFanOut.map(servers, concurrency: FarmCheck.defaultConcurrency) { server -> ServerResult in
            guard let session = sessions[server.name] else {
                return ServerResult(server: server, status: .unreachable, problems: [], notes: [], inspection: nil, error: nil)
            }
            return await check(server, session: session, targets: targets, options: options)
        }
        var preflight = Preflight(servers: results, farmProblems: [], from: nil, origin: DatabaseTargets(platform: nil, session: nil, logging: nil),
                                  windowsAuthentication: false)
        let inspections = results.compactMap(\.inspection)
        let current = Set(inspections.flatMap { $0.databases.compactMap { endpoint in atTarget(endpoint, targets) ? nil : endpoint.server.lowercased() } })
        if current.count > 1 {
            let detail = results.compactMap { result in result.inspection.map { "\(result.server.name): \(Set($0.databases.map(\.server)).sorted().joined(separator: ", "))" } }
                .joined(separator: "; ")
            let message = "the farm is split across databases (\(detail))"
            if options.force {
                for index in preflight.servers.indices { preflight.servers[index].notes.append("--force: going on although \(message)") }
            } else {
                preflight.farmProblems.append(message + "; resolve it first, or rerun with --force")
            }
        }
        for section in DatabaseSection.allCases {
            let endpoints = inspections.compactMap { $0.databases.first { $0.section == section } }
            let before = endpoints.first { !atTarget($0, targets) } ?? endpoints.first
            if let before, let address = before.address {
                preflight.origin[section] = DatabaseTarget(server: address, catalog: before.catalog)
            }
        }
        preflight.from = preflight.origin.platform?.server.description
        if !inspections.isEmpty, inspections.count == results.count, current.isEmpty, !options.force {
            preflight.farmProblems.append("nothing to do: every server already names \(targets); rerun with --force to run the job anyway")
        }
        preflight.windowsAuthentication = inspections.contains { $0.databases.contains { $0.authentication == .windows } }
        return preflight
    }

    /// True when the section is where the move takes it (false for a section that does not move).
    private static func atTarget(_ endpoint: DatabaseEndpoint, _ targets: DatabaseTargets) -> Bool {
        targets[endpoint.section].map(endpoint.isAt) ?? false
    }

    static func check(_ server: ServerEntry, session: AgentSession, targets: DatabaseTargets, options: MoveOptions) async -> ServerResult {
        var result = ServerResult(server: server, status: .ok, problems: [], notes: [], inspection: nil, error: nil)
        do {
            guard case let .inspection(inspection) = try await session.perform(.inspect, timeout: 60) else {
                throw AgentSessionError.protocolViolation("inspect answered without an inspection")
            }
            guard let platform = inspection.platform else {
                result.problems.append("no OutSystems installation found: \(inspection.platformProblem ?? "unknown reason")")
                result.status = .failed
                return result
            }
            result.inspection = platform
            if platform.role != server.role {
                result.problems.append("the inventory says \(server.role.rawValue), but the server reads as \(platform.roleDescription)")
            }
            let servers = Set(platform.databases.map { $0.server.lowercased() })
            if platform.databases.count < 3 {
                result.problems.append("server.hsconf lacks database sections (found \(platform.databases.map(\.section.rawValue).joined(separator: ", ")))")
            } else if servers.count > 1 && !options.force {
                result.problems.append("its database sections point at different servers: "
                                       + platform.databases.map { "\($0.section.rawValue) \($0.server)" }.joined(separator: ", "))
            }
            for endpoint in platform.databases where endpoint.address == nil {
                result.problems.append("\(endpoint.section.rawValue) names \"\(endpoint.server)\", which is not a database server address")
            }
            if let expected = options.expectFrom {
                for database in platform.databases {
                    let onTarget = targets[database.section].map(database.isAt) ?? false
                    if !(database.address?.sameServer(as: expected) ?? false) && !onTarget {
                        result.problems.append("\(database.section.rawValue) points at \(database.server), not \(expected) (--expect-from)")
                    }
                }
            }
            if platform.databases.allSatisfy({ database in targets[database.section].map(database.isAt) ?? true }) {
                result.notes.append("already points at \(targets)")
            }
            if !platform.configurationToolPresent { result.problems.append("ConfigurationTool.com is missing in \(platform.installDirectory)") }
            if let free = platform.backupFreeBytes, free < minimumBackupBytes {
                result.problems.append("only \(free / 1_048_576) MiB free for backups")
            }
            for target in targets.servers {
                guard let port = target.portWithoutBrowser else {
                    result.problems.append("\(target) is a named instance without a port: give its port as \(target),PORT")
                    continue
                }
                guard case let .probe(probe) = try await session.perform(
                    .probeTCP(TCPProbeArguments(host: target.host, port: port, timeoutSeconds: 5)), timeout: 30)
                else { throw AgentSessionError.protocolViolation("probe-tcp answered without a probe result") }
                if !probe.reachable {
                    result.problems.append("the new database \(target) is not reachable from this server (\(probe.host):\(probe.port): \(probe.error ?? "no answer"))")
                }
            }
        } catch {
            let failure = AgentSessionError.wrap(error)
            result.error = failure
            result.status = failure.isUnreachable ? .unreachable : .failed
            return result
        }
        if !result.problems.isEmpty { result.status = .failed }
        return result
    }

    public func text() -> String {
        var table = TextTable(headers: ["SERVER", "ROLE", "DATABASE NOW", "CHECKS", "STATUS"])
        for result in servers {
            let database = result.inspection.map { Set($0.databases.map(\.server)).sorted().joined(separator: ", ") } ?? "-"
            let checks = result.error != nil ? "-" : result.problems.isEmpty ? "ok" : "\(result.problems.count) problem\(result.problems.count == 1 ? "" : "s")"
            table.add([result.server.name, result.server.role.rawValue, database, checks, result.status.rawValue])
        }
        var text = table.render()
        let lines = servers.flatMap { result in
            (result.error.map { ["\(result.server.name): \($0.description)"] } ?? []) + result.problems.map { "\(result.server.name): \($0)" }
                + result.notes.map { "\(result.server.name): note: \($0)" }
        } + farmProblems.map { "farm: \($0)" }
        if !lines.isEmpty { text += "\n" + lines.joined(separator: "\n") + "\n" }
        text += "\npreflight \(passed ? "passed" : "FAILED")" + (from.map { ": the farm is on \($0)" } ?? "") + "\n"
        return text
    }
}
