import FarmProtocol

/// The Windows services osfarm knows, with the names the service control manager uses.
public enum ServiceCatalog {
    public static let logService = "OutSystems Log Service"
    public static let deploymentControllerService = "OutSystems Deployment Controller Service"
    public static let deploymentService = "OutSystems Deployment Service"
    public static let schedulerService = "OutSystems Scheduler Service"
    public static let smsConnectorService = "OutSystems SMS Connector Service"

    /// The OutSystems services in the documented order, used for both stop and start.
    public static let outSystemsOrder = [logService, deploymentControllerService, deploymentService, schedulerService, smsConnectorService]

    /// The IIS services `iisreset` drives.
    public static let iis = ["W3SVC", "WAS"]

    /// Services `inspect` reports besides the OutSystems ones.
    public static let others = iis + ["RabbitMQ"]

    /// The port each OutSystems service answers on once initialised (defaults; server.hsconf may override).
    public static let defaultPorts: [String: Int] = [
        deploymentControllerService: 12000, deploymentService: 12001, schedulerService: 12002,
    ]

    /// The hsconf ServiceConfiguration element that holds each service's port.
    public static let portElements: [String: String] = [
        deploymentControllerService: "CompilerServerPort", deploymentService: "DeploymentServerPort", schedulerService: "SchedulerServerPort",
    ]
}

extension ServiceCatalog {
    /// What a service is to osfarm: one of the OutSystems services, IIS, or something else.
    public static func kind(of name: String) -> ServiceKind {
        if outSystemsOrder.contains(where: { $0.caseInsensitiveCompare(name) == .orderedSame }) { return .platform }
        if iis.contains(where: { $0.caseInsensitiveCompare(name) == .orderedSame }) { return .iis }
        return .other
    }

    /// The status with its kind filled in.
    static func classified(_ status: ServiceStatus) -> ServiceStatus {
        var status = status
        status.kind = kind(of: status.name)
        return status
    }

    static func classified(_ report: ServiceReport) -> ServiceReport {
        var report = report
        report.services = report.services.map(classified)
        return report
    }

    /// The registry key of a service; its `ImagePath` value is the program the service runs
    /// (language-independent, unlike the labels `sc qc` prints).
    static func registryKey(of name: String) -> String { #"HKLM\SYSTEM\CurrentControlSet\Services\"# + name }
}
