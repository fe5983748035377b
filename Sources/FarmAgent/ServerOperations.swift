import FarmProtocol
import Foundation

/// The typed operations the agent performs on the server it runs on.
public struct ServerOperations: Sendable {
    public typealias ProgressSink = (ProgressEvent) -> Void

    private let facts: @Sendable () -> HostFacts
    let environment: HostEnvironment
    private let runner: any CommandRunner
    private let clock: any AgentClock
    private let updater: AgentUpdater
    private let readings = SessionReadings()

    public init(
        environment: HostEnvironment = .current(), runner: (any CommandRunner)? = nil, clock: any AgentClock = SystemClock(),
        facts: @escaping @Sendable () -> HostFacts = HostFactsReader.read,
        executablePath: String = Bundle.main.executablePath ?? CommandLine.arguments[0]
    ) {
        self.facts = facts
        self.environment = environment
        self.runner = runner ?? ProcessCommandRunner(environment: environment)
        self.clock = clock
        self.updater = AgentUpdater(executablePath: executablePath)
    }

    public func hello() -> Hello { Hello(host: facts()) }

    private var files: ServerFiles { ServerFiles(environment: environment) }
    private var services: ServiceOperations { ServiceOperations(control: ServiceControl(runner: runner, clock: clock, readings: readings), runner: runner) }
    private var inspector: PlatformInspector {
        PlatformInspector(runner: runner, files: files, services: services, environment: environment, readings: readings, clock: clock)
    }
    private var installation: Installation { get throws(AgentError) { try readings.installation(runner: runner) } }

    public func perform(_ operation: AgentOperation, progress: @escaping ProgressSink) -> Outcome {
        let step = operation.name
        let say: (String) -> Void = { progress(ProgressEvent(step: step, message: $0)) }
        do {
            // Decoding already checked the ranges; checked again for any other way in.
            try operation.checkBounds()
            return .ok(try run(operation, say: say))
        } catch {
            return .failure(error)
        }
    }

    private func run(_ operation: AgentOperation, say: @escaping (String) -> Void) throws(AgentError) -> ResultData {
        switch operation {
        case let .ping(arguments):
            let hold = arguments.holdMilliseconds ?? 0
            if hold > 0 {
                say("holding the answer for \(hold) ms")
                Thread.sleep(forTimeInterval: Double(hold) / 1000)
            }
            return .pong(Pong(agentTimeMilliseconds: Int64(Date().timeIntervalSince1970 * 1000)))
        case .inspect:
            let shell = readings.sessionShell(runner: runner)
            let locale = readings.locale(runner: runner, environment: environment)
            let bindings = IISBindingReading.read(files: files)
            do {
                return .inspection(
                    ServerInspection(host: facts(), platform: try inspector.inspect(), sessionShell: shell, locale: locale, iisBindings: bindings))
            } catch {
                return .inspection(
                    ServerInspection(host: facts(), platformProblem: error.message, sessionShell: shell, locale: locale, iisBindings: bindings))
            }
        case .shutdown:
            return .shutdown
        case .serviceStatus:
            return .services(operation: operation.kind, try services.status())
        case let .stopServices(arguments):
            return .services(operation: operation.kind, try services.stopOutSystems(arguments, progress: say))
        case let .startServices(arguments):
            return .services(
                operation: operation.kind,
                try services.startOutSystems(arguments, isController: inspector.compilerServerHostnameNamesThisServer(), progress: say))
        case let .stopIIS(arguments):
            return .services(operation: operation.kind, try services.driveIIS(start: false, arguments, progress: say))
        case let .startIIS(arguments):
            return .services(operation: operation.kind, try services.driveIIS(start: true, arguments, progress: say))
        case let .backupConfiguration(arguments):
            let configuration = ConfigurationFiles(files: files, installation: try installation)
            return .backup(operation: operation.kind, try configuration.backup(runID: arguments.runID))
        case let .restoreConfiguration(arguments):
            let configuration = ConfigurationFiles(files: files, installation: try installation)
            return .backup(operation: operation.kind, try configuration.restore(runID: arguments.runID))
        case let .repointDatabase(arguments):
            let configuration = ConfigurationFiles(files: files, installation: try installation)
            return .repoint(try configuration.repoint(arguments))
        case let .runConfigurationTool(arguments):
            let tool = ConfigurationToolRunner(
                runner: runner, files: files, environment: environment, installation: try installation, clock: clock)
            defer { readings.forgetServices() }
            return .configurationTool(try tool.run(arguments, progress: say))
        case let .probeTCP(arguments):
            switch TCPProbe.connect(host: environment.resolve(arguments.host), port: arguments.port, timeout: arguments.timeoutSeconds) {
            case let .answered(milliseconds):
                return .probe(TCPProbeResult(host: arguments.host, port: arguments.port, reachable: true, milliseconds: milliseconds, error: nil))
            case let .failed(reason):
                return .probe(TCPProbeResult(host: arguments.host, port: arguments.port, reachable: false, milliseconds: 0, error: reason))
            }
        case let .waitForReadiness(arguments):
            return .readiness(try inspector.waitForReadiness(arguments, progress: say))
        case let .beginAgentUpdate(arguments):
            return .agentUpdate(operation: operation.kind, try updater.begin(arguments))
        case let .agentUpdateChunk(chunk):
            return .agentUpdate(operation: operation.kind, try updater.append(chunk))
        case .finishAgentUpdate:
            return .agentUpdate(operation: operation.kind, try updater.finish())
        case .rollbackAgentUpdate:
            return .agentUpdate(operation: operation.kind, try updater.rollback())
        case .agentStatus:
            return .agentUpdate(operation: operation.kind, updater.currentStatus())
        case let .listBackups(arguments):
            return .backupListing(try BackupCatalog(files: files).list(maxRuns: arguments.maxRuns ?? BackupListArguments.defaultMaxRuns))
        case let .pruneBackups(arguments):
            return .backupPruned(try BackupCatalog(files: files).prune(runID: arguments.runID))
        case let .probeDatabase(arguments):
            return .databaseProbe(DatabaseProber(environment: environment).probe(arguments))
        case let .getPlatformInfo(arguments):
            return .platformInfo(PlatformInfoClient(environment: environment, runner: runner).call(arguments, port: inspector.applicationServerPort()))
        case let .checkLogins(arguments):
            let checker = LoginChecker(runner: runner, files: files, installation: try installation)
            return .loginCheck(try checker.check(arguments, progress: say))
        }
    }
}
