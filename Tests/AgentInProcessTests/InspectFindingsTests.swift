import FarmAgent
import FarmProtocol
@testable import FarmSimulator
import Foundation
import XCTest

/// What `inspect` reports for the checks a database move depends on (issue 11, item 7), each case
/// produced by the simulator and judged against its files, never against the agent alone.
/// The agent runs in-process (`InProcessRunner`) on a farm without sshd.
final class InspectFindingsTests: XCTestCase {
    private func inspect(_ farm: InProcessFarm, _ name: String) throws -> PlatformInspection {
        let answer = try farm.operations(name).answer(.inspect).data
        guard case let .inspection(inspection) = answer else { throw AgentError(.internalError, "no inspection") }
        return try XCTUnwrap(inspection.platform, inspection.platformProblem ?? "no platform")
    }

    private func sha256(_ farm: InProcessFarm, _ name: String) throws -> String {
        SHA256.hex(Array(try Data(contentsOf: URL(fileURLWithPath: try farm.file(ServerBuilder.installDirectory + #"\private.key"#, on: name)))))
    }

    func testADefaultFarmReportsOneKeyOneVersionAndOnlyTheCacheHost() throws {
        let farm = try InProcessFarm(frontEnds: 1)
        defer { farm.shutdown() }
        let dcAddress = try farm.simulated("dc1").address
        for name in ["dc1", "fe1"] {
            let platform = try inspect(farm, name)
            XCTAssertEqual(platform.privateKeySHA256, try sha256(farm, name))
            XCTAssertEqual(platform.version, ServerBuilder.platformVersion)
            // "Max Pool Size=100;Application Name=OutSystems & Friends" names no server.
            XCTAssertEqual(
                platform.serverReferences, [ServerReference(location: "CacheInvalidationConfiguration/ServiceHost", keyword: nil, server: dcAddress)])
            XCTAssertEqual(platform.databaseProviders?.map(\.provider), [.sqlServer, .sqlServer, .sqlServer])
            XCTAssertNil(platform.inMemorySession)
            XCTAssertEqual(platform.databases.map(\.authentication), [.database, .database, .database])
            XCTAssertEqual(Set(platform.services.filter { $0.kind == .iis }.map(\.name)), ["W3SVC", "WAS"])
            XCTAssertTrue(platform.services.filter { $0.name.hasPrefix("OutSystems") }.allSatisfy { $0.kind == .platform })
            XCTAssertEqual(platform.services.first { $0.name == "RabbitMQ" }?.kind, name == "dc1" ? .other : nil)
        }
        XCTAssertEqual(try sha256(farm, "dc1"), try sha256(farm, "fe1"), "one private.key for the farm")
    }

    func testADriftedServerShowsEveryFinding() throws {
        let farm = try InProcessFarm(frontEnds: 1)
        defer { farm.shutdown() }
        var fault = FaultRequest()
        fault.drift.newPrivateKey = true
        fault.drift.platformVersion = "11.24.1.3"
        fault.drift.failoverPartner = farm.record.oldDatabase!.server
        fault.drift.cacheServiceHost = farm.record.oldDatabase!.server
        fault.drift.compilerServerHostname = "localhost"
        try farm.inject(fault, on: "fe1")
        let dc = try inspect(farm, "dc1")
        let fe = try inspect(farm, "fe1")
        XCTAssertEqual(fe.privateKeySHA256, try sha256(farm, "fe1"))
        XCTAssertNotEqual(fe.privateKeySHA256, dc.privateKeySHA256)
        XCTAssertEqual(fe.version, "11.24.1.3")
        XCTAssertEqual(dc.version, ServerBuilder.platformVersion)
        XCTAssertEqual(
            fe.serverReferences,
            [
                ServerReference(
                    location: "PlatformDatabaseConfiguration/RuntimeAdvancedSettings", keyword: "Failover Partner", server: farm.record.oldDatabase!.server),
                ServerReference(location: "CacheInvalidationConfiguration/ServiceHost", keyword: nil, server: farm.record.oldDatabase!.server),
            ])
        XCTAssertEqual(fe.compilerServerHostname, "localhost")
        // localhost names every server, so it says "deployment controller" where the Disabled service says "front-end".
        XCTAssertNil(fe.role)
        XCTAssertEqual(
            fe.roleDescription,
            "undecided: the Deployment Controller service is Disabled, but CompilerServerHostname localhost names "
                + "whichever server reads it, this one included")
        XCTAssertEqual(fe.roleEvidence?.fromServices, .frontEnd)
        XCTAssertEqual(fe.roleEvidence?.fromCompilerServerHostname, .deploymentController)
        let hsconf = try String(contentsOfFile: try farm.file(ServerBuilder.installDirectory + #"\server.hsconf"#, on: "fe1"), encoding: .utf8)
        XCTAssertTrue(
            hsconf.contains(
                "<RuntimeAdvancedSettings>Max Pool Size=100;Application Name=OutSystems &amp; Friends;Failover Partner=\(farm.record.oldDatabase!.server)</RuntimeAdvancedSettings>"
            ))
    }

    func testAnOracleFarmReportsItsProviderAndListener() throws {
        let farm = try InProcessFarm(frontEnds: 1, layout: SimulatedLayout(oracle: true))
        defer { farm.shutdown() }
        let platform = try inspect(farm, "fe1")
        XCTAssertEqual(platform.databases, [], "no SQL Server section")
        let providers = try XCTUnwrap(platform.databaseProviders)
        XCTAssertEqual(providers.map(\.section), [.platform, .session, .logging])
        XCTAssertTrue(providers.allSatisfy { $0.provider == .oracle && $0.providerKey == "Oracle" })
        XCTAssertEqual(
            providers.first?.oracle,
            OracleAddress(namingType: "Service Name", host: SimulatedLayout.oldDatabaseName, port: "1521", serviceName: "OUTSYS", tnsName: nil))
        XCTAssertEqual(try farm.status().servers.first?.databaseServers["platform"], "\(SimulatedLayout.oldDatabaseName),1521")
        XCTAssertTrue(try farm.status().servers.allSatisfy(\.allRunning), "the controller initialised against the Oracle listener")
    }

    func testARedisSessionFarmReportsTheEndpointsButNotThePassword() throws {
        let farm = try InProcessFarm(frontEnds: 0, layout: SimulatedLayout(redisSessions: true))
        defer { farm.shutdown() }
        let operations = try farm.operations("dc1")
        guard case let .inspection(inspection) = try operations.answer(.inspect).data else { return XCTFail("no inspection") }
        let storage = try XCTUnwrap(inspection.platform?.inMemorySession)
        XCTAssertEqual(storage, InMemorySessionStorage(providerKey: "Redis", endpoints: ["redis.farm.test:6379"], connectionStringEncrypted: false))
        let hsconf = try String(contentsOfFile: try farm.file(ServerBuilder.installDirectory + #"\server.hsconf"#, on: "dc1"), encoding: .utf8)
        XCTAssertTrue(hsconf.contains(ServerBuilder.redisPassword), "the password is in the file")
        let record = String(decoding: try WireCodec.recordEncoder().encode(inspection), as: UTF8.self)
        XCTAssertFalse(record.contains(ServerBuilder.redisPassword), "but not in what the agent reports")
    }

    func testAnIntegratedAuthenticationFarmSaysSoAsAType() throws {
        let farm = try InProcessFarm(frontEnds: 0, windowsAuthentication: true)
        defer { farm.shutdown() }
        let platform = try inspect(farm, "dc1")
        XCTAssertEqual(platform.databases.map(\.authentication), [.windows, .windows, .windows])
        XCTAssertEqual(platform.databases.first?.authenticationMode, "Windows Authentication")
    }
}
