import FarmAgent
import FarmProtocol
@testable import FarmSimulator
import Foundation
import XCTest

/// A new database that is a named instance without a port: SQL Server Browser on UDP 1434 of its
/// host announces its dynamic port. The agent's probe resolves it from each server, as SqlClient
/// would; Browser off, or an instance it does not announce, gets a message that suggests host\INST,port.
/// The agent runs in-process; Browser and the instances are the simulator's network process.
final class NamedInstanceTests: XCTestCase {
    static let instance = "OSNEW"

    private func probe(_ operations: ServerOperations, _ server: String, browserTimeout: Double = 1) throws -> DatabaseProbeResult {
        let address = try DatabaseServerAddress(parsing: server)
        guard
            case let .databaseProbe(result) = try operations.answer(
                .probeDatabase(DatabaseProbeArguments(address: address, timeoutSeconds: 2, browserTimeoutSeconds: browserTimeout))
            ).data
        else { throw AgentError(.internalError, "no probe result") }
        return result
    }

    func testANamedInstanceIsFoundThroughBrowserFromEachServer() throws {
        let farm = try InProcessFarm(frontEnds: 1, layout: SimulatedLayout(newDatabaseInstance: Self.instance))
        defer { farm.shutdown() }
        let new = try XCTUnwrap(farm.record.newDatabase)
        XCTAssertEqual(new.server, "sql-new.farm.test\\\(Self.instance)", "no port in the server value")
        XCTAssertNotEqual(new.port, DatabaseServerAddress.defaultPort)
        for name in ["dc1", "fe1"] {
            let operations = try farm.operations(name)
            let found = try probe(operations, new.server)
            XCTAssertTrue(found.reachable, found.message)
            XCTAssertEqual(found.port, new.port, "the port Browser announced is the instance's real one")
            XCTAssertEqual(found.portSource, .browser)
            XCTAssertEqual(found.message, "sql-new.farm.test\\\(Self.instance) answers on TCP \(new.port) (announced by SQL Server Browser)")

            let given = try probe(operations, "\(new.server),\(new.port)")
            XCTAssertTrue(given.reachable)
            XCTAssertEqual(given.portSource, .given)
            let old = try probe(operations, farm.record.oldDatabase!.server)
            XCTAssertTrue(old.reachable)
            XCTAssertEqual(old.portSource, .defaultPort)
            XCTAssertEqual(old.port, 1433)

            // What osfarm did before: probe the instance's host on 1433, which is not where it listens.
            guard case let .probe(tcp) = try operations.answer(.probeTCP(TCPProbeArguments(host: new.server, port: 1433, timeoutSeconds: 2))).data else {
                return XCTFail("no probe")
            }
            XCTAssertFalse(tcp.reachable, "1433 on the named instance's host does not answer")
        }
    }

    func testAnInstanceBrowserDoesNotKnowIsNamedWithTheSuggestion() throws {
        let farm = try InProcessFarm(frontEnds: 0, layout: SimulatedLayout(newDatabaseInstance: Self.instance))
        defer { farm.shutdown() }
        let unknown = try probe(try farm.operations("dc1"), "sql-new.farm.test\\NOSUCH")
        XCTAssertFalse(unknown.reachable)
        XCTAssertEqual(unknown.failure, .instanceUnknown)
        XCTAssertEqual(unknown.browserInstances, [Self.instance])
        XCTAssertEqual(
            unknown.message,
            "SQL Server Browser on sql-new.farm.test does not know instance NOSUCH (it lists \(Self.instance); "
                + "a hidden instance is never listed); give the port in the address: sql-new.farm.test\\NOSUCH,PORT")
    }

    func testAHiddenInstanceIsUnknownToBrowser() throws {
        let farm = try InProcessFarm(frontEnds: 0, layout: SimulatedLayout(newDatabaseInstance: Self.instance, newDatabaseHidden: true))
        defer { farm.shutdown() }
        let new = try XCTUnwrap(farm.record.newDatabase)
        let operations = try farm.operations("dc1")
        let hidden = try probe(operations, new.server)
        // With its port, the hidden instance answers: only Browser keeps quiet about it.
        let direct = try probe(operations, "\(new.server),\(new.port)")
        XCTAssertEqual(hidden.failure, .browserSilent, "Browser knows no visible instance: it ignores both requests ([MC-SQLR] 3.1.5.2)")
        XCTAssertTrue(hidden.message.hasSuffix("give the port in the address: sql-new.farm.test\\\(Self.instance),PORT"), hidden.message)
        XCTAssertTrue(direct.reachable, direct.message)
    }

    func testNoBrowserFailsWithinItsDeadlineWithTheSuggestion() throws {
        let farm = try InProcessFarm(frontEnds: 1, layout: SimulatedLayout(newDatabaseInstance: Self.instance, newDatabaseBrowser: false))
        defer { farm.shutdown() }
        let new = try XCTUnwrap(farm.record.newDatabase)
        let operations = try farm.operations("fe1")
        let started = Date()
        let silent = try probe(operations, new.server, browserTimeout: 0.5)
        XCTAssertLessThan(Date().timeIntervalSince(started), 3)
        XCTAssertFalse(silent.reachable)
        XCTAssertNil(silent.port)
        XCTAssertEqual(silent.failure, .browserSilent)
        XCTAssertTrue(silent.message.hasPrefix("SQL Server Browser on sql-new.farm.test did not answer (UDP 1434 refused"), silent.message)
        XCTAssertTrue(silent.message.hasSuffix("give the port in the address: sql-new.farm.test\\\(Self.instance),PORT"), silent.message)
    }

    /// The fast profile on the wall clock: the services start and initialise in the simulator's time.
    func testTheConfigurationToolAndTheServicesReachANamedInstanceOnlyThroughBrowser() throws {
        let farm = try InProcessFarm(frontEnds: 0, profile: .fast, layout: SimulatedLayout(newDatabaseInstance: Self.instance))
        defer { farm.shutdown() }
        let new = try XCTUnwrap(farm.record.newDatabase)
        let operations = try farm.operations("dc1")
        let services = ServiceControlArguments(serviceTimeoutSeconds: 10)
        _ = try operations.answer(.stopServices(services))
        let target = DatabaseTarget(server: try DatabaseServerAddress(parsing: new.server))
        _ = try operations.answer(.repointDatabase(RepointArguments(targets: DatabaseTargets(all: target))))
        let upgrade = ConfigurationToolArguments(mode: .upgradeInstall(integratedAuthenticationPassword: nil), installServiceCenter: true, timeoutSeconds: 60)
        let (_, progress) = try operations.answer(.runConfigurationTool(upgrade))
        XCTAssertTrue(progress.contains("Checking connection to database server \(new.server)..."), "\(progress)")
        _ = try operations.answer(.startServices(services))
        // The Deployment Controller initialises only once its platform database answers: through Browser here.
        guard case let .readiness(ready) = try operations.answer(.waitForReadiness(ReadinessArguments(timeoutSeconds: 20))).data else {
            return XCTFail("no readiness")
        }
        XCTAssertTrue(ready.ports.contains { $0.port == 12000 && $0.answered })

        var fault = FaultRequest()
        fault.browserDown = ["new"]
        try farm.inject(fault, on: "dc1")
        let error = try operations.refusal(.runConfigurationTool(upgrade))
        XCTAssertTrue(error.message.contains("error: 26 - Error Locating Server/Instance Specified"), error.message)
    }
}
