import FarmProtocol
import Foundation

/// The service-level operations of the protocol: OutSystems services in the documented order, and IIS.
struct ServiceOperations {
    let control: ServiceControl
    let runner: any CommandRunner

    func status() throws(AgentError) -> ServiceReport {
        let names = ServiceCatalog.outSystemsOrder + ServiceCatalog.others
        let control = self.control
        let services = try ParallelReads.map(names) { name throws(AgentError) in try control.status(name) }
        return ServiceCatalog.classified(ServiceReport(services: services.compactMap { $0 }))
    }

    func stopOutSystems(_ arguments: ServiceControlArguments, progress: @escaping (String) -> Void) throws(AgentError) -> ServiceReport {
        try drive(ServiceCatalog.outSystemsOrder, arguments, progress: progress) { name, timeout, progress throws(AgentError) in
            try control.stop(name, timeout: timeout, killStuck: arguments.killStuckServices, progress: progress)
        }
    }

    /// Starts the OutSystems services that run on their own: Automatic ones. A Manual service is
    /// left as it is when stopped (Windows starts Manual services only on demand): on a front-end
    /// the Deployment Controller service may be Manual rather than Disabled (one generic server
    /// role in the installation checklist), and starting it would make a second controller. The
    /// one exception is that service on the server CompilerServerHostname names (`isController`).
    func startOutSystems(
        _ arguments: ServiceControlArguments, isController: Bool = false,
        progress: @escaping (String) -> Void
    ) throws(AgentError) -> ServiceReport {
        // The start types side by side first (after a Configuration Tool run none is known): the
        // starts themselves go one by one, in the documented order.
        let control = self.control
        let unknown = ServiceCatalog.outSystemsOrder.filter(control.startTypeUnread)
        if !unknown.isEmpty { _ = try ParallelReads.map(unknown) { name throws(AgentError) in try control.knownStartType(of: name) } }
        return try drive(ServiceCatalog.outSystemsOrder, arguments, progress: progress) { name, timeout, progress throws(AgentError) in
            let startManual = isController && name == ServiceCatalog.deploymentControllerService
            return try control.start(name, timeout: timeout, startManual: startManual, progress: progress)
        }
    }

    /// `iisreset /stop` or `/start`, run only when W3SVC or WAS is not already there, then verified on both.
    func driveIIS(start: Bool, _ arguments: ServiceControlArguments, progress: @escaping (String) -> Void) throws(AgentError) -> ServiceReport {
        let target: ServiceState = start ? .running : .stopped
        let control = self.control
        // W3SVC and WAS read side by side (the step's first wait, on the downtime path).
        let read = try ParallelReads.map(ServiceCatalog.iis) { name throws(AgentError) in try control.status(name) }
        var before: [ServiceStatus] = []
        for (name, status) in zip(ServiceCatalog.iis, read) {
            guard let status else { throw AgentError(.notFound, "IIS is not installed (no \(name) service)") }
            before.append(status)
        }
        guard before.contains(where: { $0.state != target }) else { return ServiceCatalog.classified(ServiceReport(services: before)) }
        progress(start ? "iisreset /start" : "iisreset /stop")
        let result = try runner.run(
            WindowsLocations.iisReset, [start ? "/start" : "/stop"], timeout: arguments.serviceTimeoutSeconds,
            onLine: { progress($0) })
        guard result.exitCode == 0 else {
            throw AgentError(
                .operationFailed,
                "iisreset \(start ? "/start" : "/stop") exited \(result.exitCode): \(result.output.trimmingCharacters(in: .whitespacesAndNewlines).prefix(300))"
            )
        }
        // iisreset returns once it asked; make sure both services really got there (one query
        // each when they did, the full stop/start otherwise).
        let now = try ParallelReads.map(before.map(\.name)) { name throws(AgentError) in try control.query(name) }
        var after: [ServiceStatus] = []
        for (status, now) in zip(before, now) {
            let name = status.name
            if let now, now.state == target {
                after.append(
                    ServiceStatus(name: name, state: target, startType: status.startType, processID: now.processID, kind: ServiceCatalog.kind(of: name)))
                continue
            }
            let outcome =
                start
                ? try control.start(name, timeout: arguments.serviceTimeoutSeconds, progress: progress)
                : try control.stop(name, timeout: arguments.serviceTimeoutSeconds, progress: progress)
            switch outcome {
            case let .changed(status), let .alreadyThere(status), let .ended(status, _): after.append(status)
            case let .skipped(reason): throw AgentError(.operationFailed, "IIS did not come \(start ? "up" : "down"): \(reason)")
            }
        }
        return ServiceCatalog.classified(ServiceReport(services: after, actions: ["iisreset \(start ? "/start" : "/stop")"]))
    }

    private func drive(
        _ names: [String], _ arguments: ServiceControlArguments, progress: @escaping (String) -> Void,
        _ step: (String, Double, @escaping (String) -> Void) throws(AgentError) -> ServiceControl.Outcome
    ) throws(AgentError) -> ServiceReport {
        var report = ServiceReport(services: [])
        for name in names {
            switch try step(name, arguments.serviceTimeoutSeconds, progress) {
            case let .changed(status):
                report.services.append(status)
                report.actions.append("\(status.state == .running ? "started" : "stopped") \(name)")
            case let .alreadyThere(status):
                report.services.append(status)
            case let .skipped(reason):
                report.skipped.append(reason)
            case let .ended(status, processID):
                report.services.append(status)
                report.actions.append("ended the stuck process of \(name) (PID \(processID)); \(name) stopped")
            }
        }
        return ServiceCatalog.classified(report)
    }
}
