import FarmProtocol
import Foundation

/// A server's role, read from two facts that must agree:
///
/// - the services, as OSDiagTool reads them (`GetServerRole`): a running or Automatic Deployment
///   Controller service is the deployment controller, a Disabled one a front-end. A Manual, stopped
///   one says nothing: since Platform Server 11.0.542 the installation checklist has one generic
///   server role, and not every front-end has the service Disabled (SetupTools' FullUnattended
///   example and the failover procedure disable it; others leave it Manual);
/// - `ServiceConfiguration/CompilerServerHostname`, which names the deployment controller
///   (server.hsconf reference): the deployment controller when it names this server, a front-end
///   when it names another.
///
/// While everything is stopped (during a database move) the start types still decide.
public enum RoleReading {
    /// What the services alone say, with the fact in words.
    public static func fromServices(_ services: [ServiceStatus]) -> (role: ServerRole?, fact: String) {
        guard let controller = services.first(where: { $0.name == ServiceCatalog.deploymentControllerService }) else {
            return (nil, "no Deployment Controller service is installed")
        }
        if controller.state == .running { return (.deploymentController, "the Deployment Controller service is running") }
        switch controller.startType {
        case .disabled: return (.frontEnd, "the Deployment Controller service is Disabled")
        case .automatic, .boot, .system: return (.deploymentController, "the Deployment Controller service is Automatic")
        case .manual: return (nil, "the Deployment Controller service is Manual and \(controller.state.rawValue), which fits either role")
        }
    }

    /// The role read from the services alone, described as OSDiagTool would; nil when they do not say.
    public static func role(_ services: [ServiceStatus]) -> (ServerRole?, String) {
        let deployment = services.first { $0.name == ServiceCatalog.deploymentService }
        let scheduler = services.first { $0.name == ServiceCatalog.schedulerService }
        let frontEndRunning = deployment?.state == .running && scheduler?.state == .running
        let controllerRunning = services.first { $0.name == ServiceCatalog.deploymentControllerService }?.state == .running
        switch fromServices(services).role {
        case .deploymentController?:
            if controllerRunning {
                return (.deploymentController, frontEndRunning ? "Deployment Controller with a Front-end" : "Standalone Deployment Controller")
            }
            return (.deploymentController, "Deployment Controller (services stopped; read from start types)")
        case .frontEnd?:
            return (.frontEnd, frontEndRunning ? "Front-end" : "Front-end (services stopped; read from start types)")
        case nil:
            if services.isEmpty || deployment == nil { return (nil, "Unknown role: no OutSystems services found") }
            return (nil, "Unknown role: \(fromServices(services).fact)")
        }
    }

    /// Both facts, weighed. `compilerAddresses` are the addresses CompilerServerHostname resolves to here.
    public static func evidence(
        services: [ServiceStatus], compilerServerHostname: String?, ownNames: [String], ownAddresses: [String],
        compilerAddresses: [String]
    ) -> RoleEvidence {
        let (servicesRole, servicesFact) = fromServices(services)
        let own = ownNames + ownAddresses
        let compilerRole: ServerRole?
        let compilerFact: String
        if let name = compilerServerHostname?.trimmingCharacters(in: .whitespaces), !name.isEmpty {
            let loopback = ["localhost", "127.0.0.1", "::1"].contains { $0.caseInsensitiveCompare(name) == .orderedSame }
            if loopback {
                compilerRole = .deploymentController
                compilerFact = "CompilerServerHostname \(name) names whichever server reads it, this one included"
            } else if let match = own.first(where: { $0.caseInsensitiveCompare(name) == .orderedSame }) {
                compilerRole = .deploymentController
                compilerFact = "CompilerServerHostname \(name) names this server (\(match))"
            } else if let address = compilerAddresses.first(where: { ownAddresses.contains($0) }) {
                compilerRole = .deploymentController
                compilerFact = "CompilerServerHostname \(name) resolves to this server's address \(address)"
            } else {
                compilerRole = .frontEnd
                compilerFact = "CompilerServerHostname \(name) is not one of this server's names (\(own.joined(separator: ", ")))"
            }
        } else {
            compilerRole = nil
            compilerFact = "server.hsconf has no CompilerServerHostname"
        }
        return RoleEvidence(
            fromServices: servicesRole, servicesFact: servicesFact, fromCompilerServerHostname: compilerRole,
            compilerServerHostnameFact: compilerFact, ownNames: own)
    }

    /// The role both facts decide, and how it was read; nil with both facts named when they disagree.
    public static func decide(_ evidence: RoleEvidence, services: [ServiceStatus]) -> (ServerRole?, String) {
        if evidence.conflict {
            return (nil, "undecided: \(evidence.servicesFact), but \(evidence.compilerServerHostnameFact)")
        }
        if evidence.fromServices != nil { return role(services) }
        guard let role = evidence.fromCompilerServerHostname else {
            return (nil, "Unknown role: \(evidence.servicesFact); \(evidence.compilerServerHostnameFact)")
        }
        let name = role == .deploymentController ? "Deployment Controller" : "Front-end"
        return (role, "\(name) (\(evidence.compilerServerHostnameFact); \(evidence.servicesFact))")
    }
}
