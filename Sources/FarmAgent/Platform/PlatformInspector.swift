import FarmProtocol
import Foundation

/// What `inspect` and the readiness wait read about the OutSystems installation.
struct PlatformInspector {
    let runner: any CommandRunner
    let files: ServerFiles
    let services: ServiceOperations
    let environment: HostEnvironment

    func inspect() throws(AgentError) -> PlatformInspection {
        let installation = try Installation.locate(runner: runner)
        let report = try services.status()
        let document = try hsconf(installation)
        let (role, description) = RoleReading.role(report.services)
        return PlatformInspection(
            version: installation.version, installDirectory: installation.directory, role: role, roleDescription: description,
            services: report.services, databases: DatabaseSection.allCases.compactMap { document.endpoint($0) },
            compilerServerHostname: document.value(section: "ServiceConfiguration", child: "CompilerServerHostname"),
            configurationToolPresent: files.exists(installation.configurationTool),
            backupFreeBytes: files.freeBytes(near: #"C:\ProgramData"#))
    }

    private func hsconf(_ installation: Installation) throws(AgentError) -> HsconfDocument {
        do {
            return try HsconfDocument(text: String(decoding: try files.read(installation.hsconf), as: UTF8.self))
        } catch let error as AgentError {
            throw error
        } catch {
            throw AgentError(.operationFailed, "\(installation.hsconf): \(error)")
        }
    }

}

/// The server's role read from its services, as OSDiagTool reads it; start types decide while
/// everything is stopped (during a database move).
public enum RoleReading {
    public static func role(_ services: [ServiceStatus]) -> (ServerRole?, String) {
        let controller = services.first { $0.name == ServiceCatalog.deploymentControllerService }
        let deployment = services.first { $0.name == ServiceCatalog.deploymentService }
        let scheduler = services.first { $0.name == ServiceCatalog.schedulerService }
        let frontEndRunning = deployment?.state == .running && scheduler?.state == .running
        if let controller, controller.startType != .disabled {
            if controller.state == .running {
                return (.deploymentController, frontEndRunning ? "Deployment Controller with a Front-end" : "Standalone Deployment Controller")
            }
            return (.deploymentController, "Deployment Controller (services stopped; read from start types)")
        }
        if deployment != nil {
            return (.frontEnd, frontEndRunning ? "Front-end" : "Front-end (services stopped; read from start types)")
        }
        return (nil, "Unknown role: no OutSystems services found")
    }
}

extension PlatformInspector {
    /// Waits until the port of every running OutSystems service answers on this server.
    func waitForReadiness(_ arguments: ReadinessArguments, progress: (String) -> Void) throws(AgentError) -> ReadinessReport {
        let started = Date()
        let deadline = started.addingTimeInterval(arguments.timeoutSeconds)
        let installation = try Installation.locate(runner: runner)
        let document = try hsconf(installation)
        var checks: [PortCheck] = []
        for name in ServiceCatalog.outSystemsOrder {
            guard let defaultPort = ServiceCatalog.defaultPorts[name], try services.control.query(name)?.state == .running else { continue }
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
            if waiting.isEmpty { return ReadinessReport(ports: checks, waitedMilliseconds: Date().timeIntervalSince(started) * 1000) }
            guard Date() < deadline else {
                throw AgentError(.timedOut, "not initialised after \(Saturating.seconds(arguments.timeoutSeconds.rounded(.down))) s: "
                                 + waiting.map { "\($0.service) (port \($0.port))" }.joined(separator: ", "))
            }
            Thread.sleep(forTimeInterval: ServiceControl.pollInterval(afterWaiting: Date().timeIntervalSince(started)))
        }
    }
}
