import FarmProtocol
import Foundation

/// What `inspect` and the readiness wait read about the OutSystems installation.
struct PlatformInspector {
    let runner: any CommandRunner
    let files: ServerFiles
    let services: ServiceOperations
    let environment: HostEnvironment
    let readings: SessionReadings
    var clock: any AgentClock = SystemClock()

    func inspect() throws(AgentError) -> PlatformInspection {
        let installation = try readings.installation(runner: runner)
        let report = try services.status()
        let bytes = try files.read(installation.hsconf)
        let document = try hsconf(installation, bytes: bytes)
        let compilerServerHostname = document.value(section: "ServiceConfiguration", child: "CompilerServerHostname")
        let own = readings.hostNames(runner: runner, environment: environment)
        let evidence = RoleReading.evidence(
            services: report.services, compilerServerHostname: compilerServerHostname, ownNames: own.names, ownAddresses: own.addresses,
            compilerAddresses: compilerServerHostname.map { HostNames.resolve($0, environment: environment) } ?? [])
        let (role, description) = RoleReading.decide(evidence, services: report.services)
        let findings = HsconfFindings(document: document)
        return PlatformInspection(
            version: installation.version, installDirectory: installation.directory, role: role, roleDescription: description,
            services: report.services, databases: DatabaseSection.allCases.compactMap { document.endpoint($0) },
            compilerServerHostname: compilerServerHostname,
            configurationToolPresent: files.exists(installation.configurationTool),
            backupFreeBytes: files.freeBytes(near: #"C:\ProgramData"#),
            privateKeySHA256: (try? files.read(installation.privateKey)).map { SHA256.hex($0) },
            serverReferences: findings.serverReferences(), databaseProviders: findings.databaseProviders(),
            inMemorySession: findings.inMemorySession(), roleEvidence: evidence,
            hsconfUnreadable: HsconfEncoding.problem(in: Array(bytes)), hsconfLayout: document.layout())
    }

    /// Whether server.hsconf's CompilerServerHostname names this server; false when it cannot be read.
    func compilerServerHostnameNamesThisServer() -> Bool {
        guard let installation = try? readings.installation(runner: runner), let document = try? hsconf(installation),
            let name = document.value(section: "ServiceConfiguration", child: "CompilerServerHostname")
        else { return false }
        let own = readings.hostNames(runner: runner, environment: environment)
        let evidence = RoleReading.evidence(
            services: [], compilerServerHostname: name, ownNames: own.names, ownAddresses: own.addresses,
            compilerAddresses: HostNames.resolve(name, environment: environment))
        return evidence.fromCompilerServerHostname == .deploymentController
    }

    /// The port IIS serves the platform on here: `ServerConfiguration/ApplicationServerPort` (80 by default).
    func applicationServerPort() -> Int {
        guard let installation = try? readings.installation(runner: runner), let document = try? hsconf(installation),
            let text = document.value(section: "ServerConfiguration", child: "ApplicationServerPort"), text.count <= 5,
            let port = Int(text.trimmingCharacters(in: .whitespaces)), (1...65535).contains(port)
        else { return 80 }
        return port
    }

    private func hsconf(_ installation: Installation, bytes: Data? = nil) throws(AgentError) -> HsconfDocument {
        do {
            return try HsconfDocument(text: String(decoding: try bytes ?? files.read(installation.hsconf), as: UTF8.self))
        } catch let error as AgentError {
            throw error
        } catch {
            throw AgentError(.operationFailed, "\(installation.hsconf): \(error)")
        }
    }

}

extension PlatformInspector {
    /// Waits until the port of every running OutSystems service answers on this server.
    func waitForReadiness(_ arguments: ReadinessArguments, progress: (String) -> Void) throws(AgentError) -> ReadinessReport {
        let started = clock.now
        let deadline = started.addingTimeInterval(arguments.timeoutSeconds)
        let installation = try readings.installation(runner: runner)
        let document = try hsconf(installation)
        let control = services.control
        let listening = ServiceCatalog.outSystemsOrder.filter { ServiceCatalog.defaultPorts[$0] != nil }
        let states = try ParallelReads.map(listening) { name throws(AgentError) in try control.query(name)?.state }
        var checks: [PortCheck] = []
        for (name, state) in zip(listening, states) {
            guard let defaultPort = ServiceCatalog.defaultPorts[name], state == .running else { continue }
            let configured = ServiceCatalog.portElements[name].flatMap { document.value(section: "ServiceConfiguration", child: $0) }.flatMap { Int($0) }
            checks.append(PortCheck(service: name, port: configured ?? defaultPort, answered: false))
        }
        while true {
            for index in checks.indices where !checks[index].answered {
                if case .answered = TCPProbe.connect(host: environment.localAddress, port: checks[index].port, timeout: 1) {
                    checks[index].answered = true
                    progress("\(checks[index].service) answers on port \(checks[index].port)")
                }
            }
            let waiting = checks.filter { !$0.answered }
            if waiting.isEmpty { return ReadinessReport(ports: checks, waitedMilliseconds: clock.now.timeIntervalSince(started) * 1000) }
            guard clock.now < deadline else {
                throw AgentError(
                    .timedOut,
                    "not initialised after \(Saturating.seconds(arguments.timeoutSeconds.rounded(.down))) s: "
                        + waiting.map { "\($0.service) (port \($0.port))" }.joined(separator: ", "))
            }
            clock.sleep(seconds: Self.readinessPollInterval(afterWaiting: clock.now.timeIntervalSince(started)))
        }
    }

    /// How long to wait before probing the ports again. A probe is a TCP connect from this process
    /// to a local port, not a program start like a service query (`ServiceControl.pollInterval`),
    /// so it stays frequent longer: the farm's last server is back when its ports answer, and a
    /// probe that slows down at half a second saw them up to a tenth of a second late.
    static func readinessPollInterval(afterWaiting seconds: Double) -> Double {
        seconds < 10 ? 0.05 : 0.25
    }
}
