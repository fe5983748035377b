import FarmProtocol
import FarmSSH
import Foundation

/// One thing preflight found wrong (or worth saying), with a stable code for `--json`.
public struct PreflightFinding: Codable, Sendable, Equatable {
    public enum Code: String, Codable, Sendable {
        case unreachable, agentFailed = "agent-failed", noInstallation = "no-installation", roleMismatch = "role-mismatch"
        case roleUndecided = "role-undecided", sectionsMissing = "sections-missing", invalidAddress = "invalid-address"
        case unsupportedLayout = "unsupported-layout", expectFrom = "expect-from", configurationToolMissing = "configuration-tool-missing"
        case lowBackupSpace = "low-backup-space", newDatabaseUnreachable = "new-database-unreachable", splitFarm = "split-farm"
        case platformVersionMismatch = "platform-version-mismatch", privateKeyMismatch = "private-key-mismatch"
        case oldServerReferenced = "old-server-referenced", compilerHostnameLocalhost = "compiler-hostname-localhost"
        case nothingToDo = "nothing-to-do", hsconfUnreadable = "hsconf-unreadable"
        case loginRefused = "login-refused"
    }

    public var code: Code
    /// Nil for the farm as a whole.
    public var server: String?
    public var message: String

    public init(_ code: Code, server: String?, _ message: String) {
        self.code = code
        self.server = server
        self.message = message
    }
}

/// Read-only checks before a move: each server on its own, then the farm as a whole (the
/// article's assumptions: one platform version, one private.key, the old server hosting only the
/// database), then, once the targets are known, every new database probed from every server.
public struct Preflight: Sendable {
    public static let minimumBackupBytes: Int64 = 50 * 1024 * 1024

    public struct ServerResult: Sendable {
        public var server: ServerEntry
        public var status: ServerCheck.Status
        public var findings: [PreflightFinding]
        public var notes: [String]
        public var inspection: PlatformInspection?
        public var error: AgentSessionError?

        mutating func fail(_ code: PreflightFinding.Code, _ message: String) {
            findings.append(PreflightFinding(code, server: server.name, message))
        }
    }

    public var servers: [ServerResult]
    /// Findings about the farm as a whole.
    public var farmFindings: [PreflightFinding]
    /// The database server the farm's platform section points at now, when it is one.
    public var from: String?
    /// Where each section is now, as the servers agree (what a rollback puts back).
    public var origin: DatabaseTargets
    /// Where each section goes: the request resolved against the farm's layout.
    public var targets: DatabaseTargets
    public var windowsAuthentication: Bool
    /// The platform version every server reported (the platform proof expects it).
    public var platformVersion: String? = nil

    public var findings: [PreflightFinding] { servers.flatMap(\.findings) + farmFindings }

    /// The OutSystems services each inspected server starts after its Configuration Tool run (its
    /// Automatic ones): what the engine orders the turns by (`RunEngine.turnPriority`).
    public var servicesStartedAfterTheTurn: [String: Int] {
        var counts: [String: Int] = [:]
        for result in servers {
            guard let services = result.inspection?.services else { continue }
            counts[result.server.name] = services.filter { $0.kind == .platform && $0.startType == .automatic }.count
        }
        return counts
    }
    public var passed: Bool { farmFindings.isEmpty && servers.allSatisfy { $0.status == .ok } }

    public var exitStatus: ExitStatus {
        if servers.contains(where: { $0.status == .unreachable }) { return .unreachable }
        return passed ? .success : .someFailed
    }

    /// Runs every check; `agents` holds the open agent of each server that answered.
    public static func run(
        _ servers: [ServerEntry], request: MoveRequest, options: MoveOptions,
        agents sessions: [String: any AgentClient]
    ) async -> Preflight {
        var results = await BoundedFanOut.map(servers, concurrency: FarmCheck.defaultConcurrency) { server -> ServerResult in
            var result = ServerResult(server: server, status: .ok, findings: [], notes: [], inspection: nil, error: nil)
            guard let session = sessions[server.name] else {
                result.status = .unreachable
                return result
            }
            await inspect(&result, session: session, options: options)
            return result
        }
        var preflight = Preflight(
            servers: results, farmFindings: [], from: nil, origin: DatabaseTargets(platform: nil, session: nil, logging: nil),
            targets: request.provisionalTargets, windowsAuthentication: false)
        preflight.checkFarm(request: request, options: options)
        results = await BoundedFanOut.map(preflight.servers, concurrency: FarmCheck.defaultConcurrency) { [preflight] result -> ServerResult in
            var result = result
            guard result.inspection != nil, result.error == nil, let session = sessions[result.server.name] else { return result }
            await checkTargets(&result, targets: preflight.targets, options: options, session: session)
            return result
        }
        preflight.servers = results
        for index in preflight.servers.indices where preflight.servers[index].status == .ok && !preflight.servers[index].findings.isEmpty {
            preflight.servers[index].status = .failed
        }
        return preflight
    }

    // MARK: Each server

    static func inspect(_ result: inout ServerResult, session: any AgentClient, options: MoveOptions) async {
        do {
            guard case let .inspection(inspection) = try await session.perform(.inspect, deadline: RequestDeadline(silence: 60, total: 60)) else {
                throw AgentSessionError.protocolViolation("inspect answered without an inspection")
            }
            guard let platform = inspection.platform else {
                result.fail(.noInstallation, "no OutSystems installation found: \(inspection.platformProblem ?? "unknown reason")")
                result.status = .failed
                return
            }
            check(&result, platform)
        } catch {
            let failure = AgentSessionError.wrap(error)
            result.error = failure
            result.status = failure.isUnreachable ? .unreachable : .failed
        }
    }

    /// What one server's inspection alone says.
    static func check(_ result: inout ServerResult, _ platform: PlatformInspection) {
        result.inspection = platform
        checkRole(&result, platform)
        checkLayout(&result, platform)
        if let problem = platform.hsconfUnreadable {
            result.fail(
                .hsconfUnreadable,
                "the Configuration Tool cannot read \(platform.installDirectory)\\server.hsconf: \(problem). "
                    + "Fix that byte (or save the file in the encoding it declares) before the move; nothing was changed")
        }
        if !platform.configurationToolPresent {
            result.fail(.configurationToolMissing, "ConfigurationTool.com is missing in \(platform.installDirectory)")
        }
        if let free = platform.backupFreeBytes, free < minimumBackupBytes {
            result.fail(.lowBackupSpace, "only \(free / 1_048_576) MiB free for backups")
        }
        if let host = platform.compilerServerHostname?.trimmingCharacters(in: .whitespaces).lowercased(), ["localhost", "127.0.0.1", "::1"].contains(host) {
            result.fail(
                .compilerHostnameLocalhost,
                "CompilerServerHostname is \(host): on a farm every server must name the deployment controller by an address the others reach")
        }
    }

    /// The checks that need only what each server reported (no probe, no login): what preflight
    /// says of a farm from a snapshot of it. `inspections` by server name.
    public static func recorded(
        _ servers: [ServerEntry], inspections: [String: PlatformInspection], request: MoveRequest, options: MoveOptions
    ) -> Preflight {
        let results = servers.map { server -> ServerResult in
            var result = ServerResult(server: server, status: .ok, findings: [], notes: [], inspection: nil, error: nil)
            if let platform = inspections[server.name] { check(&result, platform) } else { result.status = .unreachable }
            return result
        }
        var preflight = Preflight(
            servers: results, farmFindings: [], from: nil, origin: DatabaseTargets(platform: nil, session: nil, logging: nil),
            targets: request.provisionalTargets, windowsAuthentication: false)
        preflight.checkFarm(request: request, options: options)
        for index in preflight.servers.indices {
            guard let platform = preflight.servers[index].inspection, let expected = options.expectFrom else { continue }
            for (section, target) in preflight.targets.moving {
                guard let database = platform.database(section) else { continue }
                if !(database.address?.sameServer(as: expected) ?? false) && !database.isAt(target) {
                    preflight.servers[index].fail(.expectFrom, "\(section.rawValue) points at \(database.server), not \(expected) (--expect-from)")
                }
            }
        }
        for index in preflight.servers.indices where preflight.servers[index].status == .ok && !preflight.servers[index].findings.isEmpty {
            preflight.servers[index].status = .failed
        }
        return preflight
    }

    /// The inventory's role against the server's own facts (services and CompilerServerHostname).
    static func checkRole(_ result: inout ServerResult, _ platform: PlatformInspection) {
        let expected = result.server.role
        func title(_ role: ServerRole) -> String { role == .deploymentController ? "Deployment Controller" : "front-end" }
        if let evidence = platform.roleEvidence, evidence.conflict, let services = evidence.fromServices, let compiler = evidence.fromCompilerServerHostname {
            result.fail(
                .roleUndecided,
                "the inventory says \(expected.rawValue), but the server reads as \(title(services)) by its services "
                    + "(\(evidence.servicesFact)) and as a \(title(compiler)) by CompilerServerHostname (\(evidence.compilerServerHostnameFact)); "
                    + "osfarm will not guess: make them agree")
            return
        }
        if platform.role != expected {
            result.fail(.roleMismatch, "the inventory says \(expected.rawValue), but the server reads as \(platform.roleDescription)")
        }
    }

    /// Layouts osfarm does not move yet, and sections it cannot read.
    static func checkLayout(_ result: inout ServerResult, _ platform: PlatformInspection) {
        if let oracle = platform.databaseProviders?.filter({ $0.provider == .oracle }), !oracle.isEmpty {
            result.fail(
                .unsupportedLayout,
                "an Oracle farm (\(oracle.map(\.section.rawValue).joined(separator: ", ")) on Oracle): "
                    + "osfarm does not support moving Oracle databases yet; nothing was changed")
            return
        }
        if let redis = platform.inMemorySession {
            result.fail(
                .unsupportedLayout,
                "sessions are kept in \(redis.providerKey) (\(redis.endpoints.joined(separator: ", "))), not in the session "
                    + "database: osfarm does not support moving this layout yet; nothing was changed")
        }
        if platform.databases.count < DatabaseSection.allCases.count {
            result.fail(.sectionsMissing, "server.hsconf lacks database sections (found \(platform.databases.map(\.section.rawValue).joined(separator: ", ")))")
        }
        for endpoint in platform.databases where endpoint.address == nil {
            result.fail(.invalidAddress, "\(endpoint.section.rawValue) names \"\(endpoint.server)\", which is not a database server address")
        }
    }

    /// Once the targets are known: --expect-from, "already there", and each new database probed
    /// from this server (a named instance through SQL Server Browser).
    static func checkTargets(_ result: inout ServerResult, targets: DatabaseTargets, options: MoveOptions, session: any AgentClient) async {
        guard let platform = result.inspection else { return }
        if let expected = options.expectFrom {
            for (section, target) in targets.moving {
                guard let database = platform.database(section) else { continue }
                if !(database.address?.sameServer(as: expected) ?? false) && !database.isAt(target) {
                    result.fail(.expectFrom, "\(section.rawValue) points at \(database.server), not \(expected) (--expect-from)")
                }
            }
        }
        if platform.isAt(targets) {
            result.notes.append("already points at \(targets)")
        }
        do {
            for target in targets.servers {
                guard
                    case let .databaseProbe(probe) = try await session.perform(
                        .probeDatabase(DatabaseProbeArguments(address: target, timeoutSeconds: 5)), deadline: RequestDeadline(silence: 30, total: 30))
                else { throw AgentSessionError.protocolViolation("probe-database answered without a probe result") }
                if !probe.reachable {
                    result.fail(.newDatabaseUnreachable, "the new database \(target) is not reachable from this server (\(probe.message))")
                } else if probe.portSource == .browser, let port = probe.port {
                    result.notes.append("\(target) answers on port \(port), as SQL Server Browser said")
                }
            }
            if options.checksLogins && result.findings.allSatisfy({ $0.code != .newDatabaseUnreachable }) {
                try await checkLogins(&result, targets: targets, options: options, session: session)
            }
        } catch {
            let failure = AgentSessionError.wrap(error)
            result.error = failure
            result.status = failure.isUnreachable ? .unreachable : .failed
        }
    }

    /// Once the DBA says the restore is done (--db-restored: a rehearsal restore before the
    /// window), every user server.hsconf names logs in to the new database from this server; each
    /// refusal is a finding with the DBA's fix, and nothing has been stopped.
    static func checkLogins(_ result: inout ServerResult, targets: DatabaseTargets, options: MoveOptions, session: any AgentClient) async throws {
        guard options.databaseRestored else {
            result.notes.append("logins not checked yet: the new database is not restored (rerun preflight with --db-restored once it is)")
            return
        }
        guard
            case let .loginCheck(check) = try await session.perform(
                .checkLogins(LoginCheckArguments(targets: targets, timeoutSeconds: min(15, options.timeout))),
                deadline: RequestDeadline(silence: options.timeout * 6 + 60, total: options.timeout * 6 + 60))
        else { throw AgentSessionError.protocolViolation("check-logins answered without a login check") }
        for finding in check.findings {
            let line = LoginCheckText.line(finding)
            if finding.kind.blocksMove {
                result.fail(.loginRefused, line)
            } else if finding.kind != .ok {
                result.notes.append(line)
            }
        }
        if check.passed {
            result.notes.append("logins ok: " + check.findings.map { "\($0.section.rawValue) \($0.role.rawValue) \($0.user)" }.joined(separator: ", "))
        }
    }

    // MARK: The farm

    /// What the servers must agree on, where each section is now, and where it goes.
    mutating func checkFarm(request: MoveRequest, options: MoveOptions) {
        let inspected = servers.compactMap { result in result.inspection.map { (result.server.name, $0) } }
        guard !inspected.isEmpty else { return }
        let provisional = request.provisionalTargets
        // A split farm: servers that disagree on a section (sections on different servers are a layout).
        for section in DatabaseSection.allCases {
            var values: [String: [String]] = [:]
            for (name, platform) in inspected {
                guard let endpoint = platform.database(section) else { continue }
                if let target = provisional[section], endpoint.isAt(target) { continue }  // moved already (a partial run)
                values[endpoint.server.lowercased(), default: []].append(name)
            }
            guard values.count > 1 else { continue }
            let detail = values.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.joined(separator: ", "))" }.joined(separator: "; ")
            let message = "the farm is split across databases: its servers disagree on the \(section.rawValue) section (\(detail))"
            if options.force {
                for index in servers.indices { servers[index].notes.append("--force: going on although \(message)") }
            } else {
                farmFindings.append(PreflightFinding(.splitFarm, server: nil, message + "; resolve it first, or rerun with --force"))
                let majority = values.max { $0.value.count < $1.value.count }?.key
                for index in servers.indices {
                    guard let endpoint = servers[index].inspection?.database(section),
                        endpoint.server.lowercased() != majority
                    else { continue }
                    servers[index].fail(
                        .splitFarm,
                        "its database sections point at different servers than the rest of the farm's: "
                            + "\(section.rawValue) \(endpoint.server), where the others have \(majority ?? "?")")
                }
            }
        }
        // Where each section is now, and where it goes.
        for section in DatabaseSection.allCases {
            let endpoints = inspected.compactMap { $0.1.database(section) }
            let before = endpoints.first { endpoint in !(provisional[section].map(endpoint.isAt) ?? false) } ?? endpoints.first
            if let before, let address = before.address { origin[section] = DatabaseTarget(server: address, catalog: before.catalog) }
        }
        from = origin.platform?.server.description
        targets = request.targets(current: origin)
        windowsAuthentication = inspected.contains { $0.1.databases.contains { $0.authentication == .windows } }
        checkAgreement(inspected)
        if let old = origin.platform?.server { checkReferences(to: old, inspected) }
        let everywhere =
            inspected.count == servers.count
            && inspected.allSatisfy { _, platform in platform.isAt(targets) }
        if everywhere && !options.force {
            farmFindings.append(
                PreflightFinding(.nothingToDo, server: nil, "nothing to do: every server already names \(targets); rerun with --force to run the job anyway"))
        }
    }

    /// One platform version and one private.key on every server (the article's farm). Versions are
    /// compared as `[System.Version]`s (`PlatformVersion`), as OutSystems.SetupTools compares them;
    /// text that is not a version is compared as text.
    mutating func checkAgreement(_ inspected: [(String, PlatformInspection)]) {
        let versions = Dictionary(
            grouping: inspected, by: { PlatformVersion($0.1.version)?.components.map(String.init).joined(separator: ".") ?? $0.1.version }
        )
        .reduce(into: [String: [(String, PlatformInspection)]]()) { grouped, entry in
            grouped[entry.value[0].1.version] = entry.value
        }
        if versions.count > 1 {
            farmFindings.append(
                PreflightFinding(
                    .platformVersionMismatch, server: nil,
                    "the servers run different platform versions ("
                        + versions.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.map(\.0).joined(separator: ", "))" }.joined(separator: "; ") + ")"))
        } else {
            platformVersion = versions.keys.first
        }
        let keys = Dictionary(grouping: inspected.filter { $0.1.privateKeySHA256 != nil }, by: { $0.1.privateKeySHA256 ?? "" })
        if keys.count > 1 {
            farmFindings.append(
                PreflightFinding(
                    .privateKeyMismatch, server: nil,
                    "the servers do not share one private.key ("
                        + keys.sorted { $0.key < $1.key }.map { "SHA-256 \($0.key.prefix(12)): \($0.value.map(\.0).joined(separator: ", "))" }.joined(
                            separator: "; ")
                        + "); copy the deployment controller's to every server first"))
        }
    }

    /// The article requires that the old server hosted only the database: it must not appear
    /// anywhere else in server.hsconf (a Failover Partner, the cache's ServiceHost…).
    mutating func checkReferences(to old: DatabaseServerAddress, _ inspected: [(String, PlatformInspection)]) {
        for (name, platform) in inspected {
            for reference in platform.serverReferences ?? [] {
                let named = DatabaseServerAddress(reference.server)?.host ?? reference.server
                guard named.caseInsensitiveCompare(old.host) == .orderedSame else { continue }
                guard let index = servers.firstIndex(where: { $0.server.name == name }) else { continue }
                servers[index].fail(
                    .oldServerReferenced,
                    "\(reference.location)\(reference.keyword.map { " (\($0))" } ?? "") names the old server \(reference.server): "
                        + "the move assumes it hosts only the database; change that setting first")
            }
        }
    }

    // MARK: Output

    public func text() -> String {
        var table = TextTable(headers: ["SERVER", "ROLE", "DATABASE NOW", "CHECKS", "STATUS"])
        for result in servers {
            let database = result.inspection.map { Set($0.databases.map(\.server)).sorted().joined(separator: ", ") } ?? "-"
            let checks = result.error != nil ? "-" : result.findings.isEmpty ? "ok" : "\(result.findings.count) problem\(result.findings.count == 1 ? "" : "s")"
            table.add([result.server.name, result.server.role.rawValue, database, checks, result.status.rawValue])
        }
        var text = table.render()
        let lines =
            servers.flatMap { result in
                (result.error.map { ["\(result.server.name): \($0.description)"] } ?? []) + result.findings.map { "\(result.server.name): \($0.message)" }
                    + result.notes.map { "\(result.server.name): note: \($0)" }
            } + farmFindings.map { "farm: \($0.message)" }
        if !lines.isEmpty { text += "\n" + lines.joined(separator: "\n") + "\n" }
        if passed {
            text += "\nmove: \(targets)" + (targets.moving.count < DatabaseSection.allCases.count ? " (the other sections stay where they are)" : "") + "\n"
        }
        text += "\npreflight \(passed ? "passed" : "FAILED")" + (from.map { ": the farm is on \($0)" } ?? "") + "\n"
        return text
    }

    /// One JSON document: every finding with its code, per server and for the farm.
    public func json() throws -> String {
        struct Server: Codable {
            var name: String
            var status: String
            var error: String?
            var findings: [PreflightFinding]
            var notes: [String]
            var databases: [DatabaseEndpoint]?
        }
        struct Document: Codable {
            var schema = "osfarm.preflight/v1"
            var passed: Bool
            var from: String?
            var targets: DatabaseTargets
            var servers: [Server]
            var farmFindings: [PreflightFinding]
        }
        let document = Document(
            passed: passed, from: from, targets: targets,
            servers: servers.map {
                Server(
                    name: $0.server.name, status: $0.status.rawValue, error: $0.error?.description, findings: $0.findings, notes: $0.notes,
                    databases: $0.inspection?.databases)
            }, farmFindings: farmFindings)
        return String(decoding: try RunJournal.recordEncoder().encodePretty(document), as: UTF8.self) + "\n"
    }
}
