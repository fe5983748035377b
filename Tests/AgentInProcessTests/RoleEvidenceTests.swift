import FarmAgent
import FarmProtocol
@testable import FarmSimulator
import Foundation
import XCTest

/// The role from CompilerServerHostname against the server's own names, together with the
/// services: a front-end whose Deployment Controller service is Manual is still a front-end, and
/// facts that disagree leave the role undecided with both named. The agent runs in-process
/// (`InProcessRunner`) on a farm without sshd.
final class RoleEvidenceTests: XCTestCase {
    private func inspect(_ farm: InProcessFarm, _ name: String) throws -> PlatformInspection {
        let answer = try farm.operations(name).answer(.inspect).data
        guard case let .inspection(inspection) = answer, let platform = inspection.platform else { throw AgentError(.internalError, "no inspection") }
        return platform
    }

    func testAFrontEndWithAManualControllerServiceIsAFrontEnd() throws {
        let farm = try InProcessFarm(frontEnds: 1, layout: SimulatedLayout(frontEndControllerService: .manual))
        defer { farm.shutdown() }
        let truth = try XCTUnwrap(
            try farm.status().servers.first { $0.name == "fe1" }?.services.first { $0.name == "OutSystems Deployment Controller Service" })
        XCTAssertEqual(truth.startType, .manual)
        XCTAssertEqual(truth.state, .stopped)
        let dcAddress = try farm.simulated("dc1").address, feAddress = try farm.simulated("fe1").address

        let fe = try inspect(farm, "fe1")
        XCTAssertEqual(fe.role, .frontEnd)
        let evidence = try XCTUnwrap(fe.roleEvidence)
        XCTAssertNil(evidence.fromServices)
        XCTAssertEqual(evidence.fromCompilerServerHostname, .frontEnd)
        XCTAssertEqual(evidence.ownNames, ["fe1", "fe1.\(ServerBuilder.domain)", feAddress])
        XCTAssertEqual(
            fe.roleDescription,
            "Front-end (CompilerServerHostname \(dcAddress) is not one of this server's names (fe1, fe1.farm.test, "
                + "\(feAddress)); the Deployment Controller service is Manual and STOPPED, which fits either role)")

        let dc = try inspect(farm, "dc1")
        XCTAssertEqual(dc.role, .deploymentController)
        XCTAssertEqual(dc.roleEvidence?.fromServices, .deploymentController)
        XCTAssertEqual(dc.roleEvidence?.compilerServerHostnameFact, "CompilerServerHostname \(dcAddress) names this server (\(dcAddress))")

        // Stopping and starting the services leaves the Manual controller service of the front-end stopped.
        let operations = try farm.operations("fe1")
        let services = ServiceControlArguments(serviceTimeoutSeconds: 10)
        _ = try operations.answer(.stopServices(services))
        guard case let .services(_, started) = try operations.answer(.startServices(services)).data else { return XCTFail("no report") }
        XCTAssertTrue(started.skipped.contains("OutSystems Deployment Controller Service: Manual and stopped, left stopped"), "\(started.skipped)")
        let after = try XCTUnwrap(try farm.status().servers.first { $0.name == "fe1" })
        XCTAssertEqual(after.services.first { $0.name == "OutSystems Deployment Controller Service" }?.state, .stopped)
        XCTAssertTrue(after.allRunning, "\(after.services)")
    }

    func testFactsThatDisagreeLeaveTheRoleUndecidedNamingBoth() throws {
        let farm = try InProcessFarm(frontEnds: 2, layout: SimulatedLayout(frontEndControllerService: .manual))
        defer { farm.shutdown() }
        let fe2Address = try farm.simulated("fe2").address
        // fe1 is configured as if it were the controller (a file copied from the wrong server).
        var fault = FaultRequest()
        fault.drift.compilerServerHostname = "fe1.\(ServerBuilder.domain)"
        try farm.inject(fault, on: "fe1")
        // fe2 names the controller by its address, but the controller's service is Automatic on it.
        fault.drift.compilerServerHostname = fe2Address
        try farm.inject(fault, on: "fe2")
        try farm.store("fe2").update { state in
            if let index = state.serviceIndex("OutSystems Deployment Controller Service") { state.services[index].startType = .automatic }
        }

        // Manual service: the name decides, and fe1 reads as a deployment controller (the inventory check catches it);
        // a start of its services starts the Manual controller service too.
        let fe1 = try inspect(farm, "fe1")
        XCTAssertEqual(fe1.role, .deploymentController)
        XCTAssertEqual(fe1.roleEvidence?.compilerServerHostnameFact, "CompilerServerHostname fe1.farm.test names this server (fe1.farm.test)")
        let operations = try farm.operations("fe1")
        _ = try operations.answer(.startServices(ServiceControlArguments(serviceTimeoutSeconds: 10)))
        XCTAssertEqual(try farm.store("fe1").read().service("OutSystems Deployment Controller Service")?.state, .running)

        // On the dc, CompilerServerHostname names fe2 while its service is Automatic: the facts disagree.
        fault = FaultRequest()
        fault.drift.compilerServerHostname = fe2Address
        try farm.inject(fault, on: "dc1")
        let dc = try inspect(farm, "dc1")
        XCTAssertNil(dc.role)
        XCTAssertEqual(dc.roleEvidence?.conflict, true)
        XCTAssertTrue(
            dc.roleDescription.hasPrefix(
                "undecided: the Deployment Controller service is running, but CompilerServerHostname \(fe2Address) is not one of this server's names"),
            dc.roleDescription)

        let fe2 = try inspect(farm, "fe2")
        XCTAssertEqual(fe2.role, .deploymentController, "Automatic service and its own address agree")
    }
}
