import FarmController
import FarmProtocol
import FarmSSH
import Foundation

/// A clock whose time passes only when someone sleeps: an hour-long window in microseconds.
final class VirtualClock: RunClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date

    init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { current = start }

    func now() -> Date { lock.withLock { current } }
    func sleep(seconds: Double) async {
        lock.withLock { current = current.addingTimeInterval(max(0, seconds)) }
        await Task.yield()
    }
    func advance(_ seconds: Double) { lock.withLock { current = current.addingTimeInterval(seconds) } }
}

/// Records what the engine shows; prints nothing.
final class SilentObserver: RunObserver, @unchecked Sendable {
    private let lock = NSLock()
    private(set) var notes: [String] = []
    func note(_ message: String) { lock.withLock { notes.append(message) } }
    func step(_ server: String, _ step: String) {}
    func stepEnded(_ server: String) {}
    func event(_ server: String, _ message: String) {}
    func suspend() {}
    func resume() {}
    func finish() {}
}

/// One server's agent, scripted: a tiny model of the server (its sections' database server, its
/// services up or down, the backup), virtual durations per operation, and injected failures.
final class ScriptedAgent: AgentClient, @unchecked Sendable {
    let name: String
    let clock: VirtualClock
    private let lock = NSLock()
    private(set) var calls: [OperationName] = []
    var durations: [OperationName: Double] = [:]
    /// Fails the next calls of an operation (each entry once) with this error.
    var failures: [OperationName: [AgentSessionError]] = [:]
    /// Called at the start of every request (to stop the run, end the window…).
    var onCall: (OperationName) -> Void = { _ in }
    /// Awaited at the start of every request, after `onCall`: holds a request until the test has seen what it waits for.
    var hold: (@Sendable (OperationName) async -> Void)?
    private(set) var database: String
    private(set) var servicesRunning = true
    private(set) var iisRunning = true
    private var backup: String?
    private var backupRunID: String?
    private var configurationToolsRunning = 0
    private(set) var overlappingConfigurationTools = 0
    /// A platform service stuck stopping: a stop with killStuckServices ends its process and says so.
    var stuckService: String?
    /// What check-logins finds for the platform's runtime user (ok unless a test breaks it).
    var runtimeLogin: LoginFindingKind = .ok

    init(name: String, clock: VirtualClock, database: String) {
        self.name = name
        self.clock = clock
        self.database = database
    }

    var heartbeatSeconds: Double? { 5 }

    func perform(
        _ operation: AgentOperation, context: RequestContext?, deadline: RequestDeadline,
        progress: @escaping @Sendable (ProgressEvent) -> Void
    ) async throws(AgentSessionError) -> ResultData {
        let kind = operation.kind
        let failure: AgentSessionError? = lock.withLock {
            calls.append(kind)
            if kind == .runConfigurationTool {
                configurationToolsRunning += 1
                if configurationToolsRunning > 1 { overlappingConfigurationTools += 1 }
            }
            guard var queue = failures[kind], !queue.isEmpty else { return nil }
            let error = queue.removeFirst()
            failures[kind] = queue
            return error
        }
        onCall(kind)
        await hold?(kind)
        await clock.sleep(seconds: durations[kind] ?? 1)
        if kind == .runConfigurationTool { lock.withLock { configurationToolsRunning -= 1 } }
        if let failure { throw failure }
        if kind == .restoreConfiguration, lock.withLock({ backup == nil }) {
            throw .agentFailed(operation: kind.rawValue, AgentError(.notFound, "no backup in C:\\ProgramData\\osfarm\\backups"))
        }
        return lock.withLock { answer(operation) }
    }

    private func answer(_ operation: AgentOperation) -> ResultData {
        switch operation {
        case let .stopServices(arguments) where arguments.killStuckServices && stuckService != nil:
            servicesRunning = false
            let name = stuckService ?? ""
            return .services(operation: .stopServices, ServiceReport(services: [], actions: ["ended the stuck process of \(name) (PID 4242); \(name) stopped"]))
        case .stopIIS, .startIIS, .stopServices, .startServices, .serviceStatus:
            if case .stopIIS = operation { iisRunning = false }
            if case .startIIS = operation { iisRunning = true }
            if case .stopServices = operation { servicesRunning = false }
            if case .startServices = operation { servicesRunning = true }
            return .services(operation: operation.kind, ServiceReport(services: []))
        case let .backupConfiguration(arguments):
            if backup == nil { (backup, backupRunID) = (database, arguments.runID) }
            return .backup(operation: .backupConfiguration, BackupRecord(runID: arguments.runID, directory: "C:\\backup", files: []))
        case let .restoreConfiguration(arguments):
            if let backup { database = backup }
            return .backup(operation: .restoreConfiguration, BackupRecord(runID: arguments.runID, directory: "C:\\backup", files: []))
        case let .repointDatabase(arguments):
            let before = database
            database = arguments.targets.platform?.server.description ?? database
            return .repoint(
                RepointResult(
                    changes: before == database ? [] : [SettingChange(section: .platform, element: "Server", from: before, to: database)],
                    sha256Before: "a", sha256After: "b"))
        case .listBackups:
            let runs = backupRunID.map { [BackupRunInfo(runID: $0, directory: "C:\\backup\\" + $0, files: [], complete: true)] } ?? []
            return .backupListing(BackupListing(root: "C:\\ProgramData\\osfarm\\backups", runs: runs))
        case .runConfigurationTool:
            return .configurationTool(ConfigurationToolRun(exitCode: 0, durationMilliseconds: 1000, outputTail: [], logTail: []))
        case .waitForReadiness:
            return .readiness(ReadinessReport(ports: [PortCheck(service: "x", port: 12000, answered: true)], waitedMilliseconds: 1))
        case let .probeTCP(arguments):
            return .probe(TCPProbeResult(host: arguments.host, port: arguments.port, reachable: true, milliseconds: 1, error: nil))
        case let .probeDatabase(arguments):
            return .databaseProbe(
                DatabaseProbeResult(
                    address: arguments.address, port: 1433, portSource: .defaultPort, reachable: true,
                    milliseconds: 1, failure: nil, message: "answers"))
        case let .checkLogins(arguments):
            let server = arguments.targets.platform?.server.description ?? database
            return .loginCheck(
                LoginCheckResult(findings: [
                    LoginFinding(section: .platform, role: .admin, user: "OSADMIN", server: server, catalog: "outsystems", kind: .ok, message: "ok"),
                    LoginFinding(
                        section: .platform, role: .runtime, user: "OSRUNTIME", server: server, catalog: "outsystems", kind: runtimeLogin,
                        errorNumber: runtimeLogin == .ok ? nil : 18456, message: runtimeLogin == .ok ? "ok" : "Login failed for user 'OSRUNTIME'.",
                        fix: runtimeLogin == .ok ? nil : "ALTER LOGIN [OSRUNTIME] ENABLE;"),
                ]))
        case .getPlatformInfo:
            return .platformInfo(
                PlatformInfoReport(
                    url: "http://localhost/ServiceCenter/OutSystemsPlatform.asmx", version: servicesRunning ? "11.0" : nil,
                    serial: nil, httpStatus: servicesRunning ? 200 : 500, failure: servicesRunning ? nil : .httpError,
                    reason: servicesRunning ? nil : "services down", milliseconds: 1))
        case .inspect:
            let services = [ServiceStatus(name: "platform", state: servicesRunning ? .running : .stopped, startType: .automatic, kind: .platform)]
            let databases = DatabaseSection.allCases.map {
                DatabaseEndpoint(section: $0, providerKey: "SqlServer", server: database, catalog: nil, authenticationMode: nil, authentication: .database)
            }
            return .inspection(
                ServerInspection(
                    host: HostFacts(hostname: name, operatingSystem: "scripted", processID: 1),
                    platform: PlatformInspection(
                        version: "11.0", installDirectory: "C:\\OS", role: nil, roleDescription: "", services: services,
                        databases: databases, compilerServerHostname: nil, configurationToolPresent: true)))
        default:
            return .pong(Pong(agentTimeMilliseconds: 0))
        }
    }

    func close() async {}

    func setServices(_ running: Bool) { lock.withLock { servicesRunning = running } }
    func setIIS(_ running: Bool) { lock.withLock { iisRunning = running } }
    func setDatabase(_ server: String) { lock.withLock { database = server } }
    /// `osfarm backups prune` on this server.
    func pruneBackups() { lock.withLock { (backup, backupRunID) = (nil, nil) } }
    func takeBackup() { lock.withLock { if backup == nil { (backup, backupRunID) = (database, "run-1") } } }

    /// Puts the model where a run's journal entries left the real server: each finished step's
    /// effect, and (`unfinished`) a started one's too, as when its request reached the server but
    /// the controller died before it could write that the step finished.
    func replay(_ entries: [JournalEntry], unfinished: Bool = false) {
        let finished = Set(entries.filter { $0.event == .finished }.map(\.step))
        for entry in entries where entry.event == .finished || (unfinished && entry.event == .started && !finished.contains(entry.step)) {
            switch entry.step {
            case "stop-services": setServices(false)
            case "start-services": setServices(true)
            case "stop-iis": setIIS(false)
            case "start-iis": setIIS(true)
            case "backup": takeBackup()
            case "repoint": setDatabase("sqlnew")
            default: break
            }
        }
    }
}

/// A farm of scripted agents with a run record, for the engine's unit tests.
struct ScriptedFarm {
    let clock = VirtualClock()
    var servers: [ServerEntry]
    let agents: [String: ScriptedAgent]
    var options = MoveOptions()
    var inventoryPath = "/farm.yaml"

    init(frontEnds: Int = 3) {
        var servers = [ServerEntry(name: "dc1", host: "10.0.0.10", user: "ops", identity: nil, role: .deploymentController)]
        for index in 1...max(1, frontEnds) {
            servers.append(ServerEntry(name: "fe\(index)", host: "10.0.0.\(10 + index)", user: "ops", identity: nil, role: .frontEnd))
        }
        self.servers = servers
        let clock = self.clock
        agents = Dictionary(uniqueKeysWithValues: servers.map { ($0.name, ScriptedAgent(name: $0.name, clock: clock, database: "sqlold")) })
        options.databaseRestored = true
    }

    static let old = DatabaseServerAddress("sqlold")!
    static let new = DatabaseServerAddress("sqlnew")!

    var record: RunRecord {
        var record = RunRecord(
            runID: "run-1", createdAt: clock.now(), startedBy: "test", inventoryPath: inventoryPath, limit: nil,
            servers: servers.map(\.name), roles: Dictionary(uniqueKeysWithValues: servers.map { ($0.name, $0.role) }),
            targets: DatabaseTargets(all: DatabaseTarget(server: Self.new)),
            origin: DatabaseTargets(all: DatabaseTarget(server: Self.old)), from: "sqlold",
            options: options, partial: false, windowsAuthentication: false)
        record.hooks = Dictionary(uniqueKeysWithValues: servers.filter { !$0.hooks.isEmpty }.map { ($0.name, $0.hooks) })
        return record
    }

    /// The farm's scripted agents, as the jobs reach them (`DatabaseMove`, resume, rollback).
    var connector: AgentConnector {
        let agents = self.agents
        return AgentConnector { server, _ throws(AgentSessionError) in
            guard let agent = agents[server.name] else { throw .ssh(.disconnected("no scripted agent for \(server.name)")) }
            return agent
        }
    }

    /// The inventory the run record names, as YAML.
    func inventoryText(knownHosts: String) -> String {
        "defaults:\n  user: ops\n  identity: ssh-agent\n  known_hosts: \(knownHosts)\nservers:\n"
            + servers.map { "  - name: \($0.name)\n    host: \($0.host)\n    role: \($0.role.rawValue)\n" }.joined()
    }

    /// A journal holding only the run's first entry, as `RunJournal.create` writes it.
    func newJournal(failFrom: Int? = nil) -> MemoryJournal {
        MemoryJournal([JournalEntry(time: clock.now(), server: nil, step: "run", event: .created, record: record)], failFrom: failFrom)
    }

    func engine(
        _ journal: any JournalStore, runbook: Runbook = .moveDatabase, interrupt: OperatorInterrupt = OperatorInterrupt(),
        observer: SilentObserver = SilentObserver()
    ) throws -> RunEngine {
        try RunEngine(
            runbook: runbook, record: record, journal: journal, servers: servers, agents: agents, observer: observer,
            interrupt: interrupt, clock: clock, adminPassword: nil, confirmRestore: nil)
    }
}
