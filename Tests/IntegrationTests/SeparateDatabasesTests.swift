import FarmController
import FarmProtocol
@testable import FarmSimulator
import Foundation
import XCTest

/// Farms whose session and logging sections live on database servers of their own: `farm status`
/// shows each section's server per server, so a move of only the platform server can be judged.
final class SeparateDatabasesTests: XCTestCase {
    func testEachSectionOnItsOwnServerAndAPlatformOnlyMoveJudgedPerSection() async throws {
        let farm = try TestFarm(frontEnds: 1, layout: SimulatedLayout(separateSessionDatabase: true, separateLoggingDatabase: true))
        defer { farm.shutdown() }
        let session = try XCTUnwrap(farm.record.sessionDatabase), logging = try XCTUnwrap(farm.record.loggingDatabase)
        XCTAssertEqual(session.name, SimulatedLayout.sessionDatabaseName)
        XCTAssertEqual(logging.name, SimulatedLayout.loggingDatabaseName)
        XCTAssertEqual(Set(farm.record.allDatabases.map(\.address)).count, 4, "each server on its own address")
        let hosts = try String(contentsOfFile: try farm.file(WindowsHostsFile.path, on: "fe1"), encoding: .utf8)
        XCTAssertTrue(hosts.contains("\(session.address)\t\(session.name)") && hosts.contains("\(logging.address)\t\(logging.name)"))
        for server in try farm.status().servers {
            XCTAssertEqual(server.databaseServers, ["platform": farm.oldDatabase, "session": session.server, "logging": logging.server])
            XCTAssertNil(server.database, "the sections differ")
            XCTAssertTrue(server.allRunning)
        }

        // Move only the platform section of dc1, and run the Configuration Tool against all three servers.
        let agent = try await farm.session("dc1")
        guard case let .inspection(before) = try await agent.answer(.inspect).data else { return XCTFail("no inspection") }
        XCTAssertEqual(before.platform?.databases.map(\.server), [farm.oldDatabase, session.server, logging.server])
        let arguments = RepointArguments(
            targets: DatabaseTargets(
                platform: DatabaseTarget(server: try DatabaseServerAddress(parsing: farm.newDatabase)),
                session: DatabaseTarget(server: try DatabaseServerAddress(parsing: session.server)),
                logging: DatabaseTarget(server: try DatabaseServerAddress(parsing: logging.server))))
        guard case let .repoint(result) = try await agent.answer(.repointDatabase(arguments)).data else { return XCTFail("no repoint") }
        XCTAssertEqual(result.changes.map(\.section), [.platform])
        let upgrade = ConfigurationToolArguments(mode: .upgradeInstall(integratedAuthenticationPassword: nil), installServiceCenter: true, timeoutSeconds: 60)
        let (_, progress) = try await agent.answer(.runConfigurationTool(upgrade), timeout: 90)
        await agent.close()
        for server in [farm.newDatabase, session.server, logging.server] {
            XCTAssertTrue(progress.contains("Checking connection to database server \(server)..."), "\(progress)")
        }

        // The ground truth, as the CLI prints it.
        let json = try runProgram(TestFarm.binary("osfarm-sim"), ["farm", "status", "--dir", farm.directory, "--json"])
        let document = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let servers = try XCTUnwrap(document["servers"] as? [[String: Any]])
        XCTAssertEqual(
            servers.first { $0["name"] as? String == "dc1" }?["databaseServers"] as? [String: String],
            ["platform": farm.newDatabase, "session": session.server, "logging": logging.server])
        XCTAssertEqual(
            servers.first { $0["name"] as? String == "fe1" }?["databaseServers"] as? [String: String],
            ["platform": farm.oldDatabase, "session": session.server, "logging": logging.server])
        XCTAssertEqual((document["sessionDatabase"] as? [String: Any])?["name"] as? String, session.name)

        let sessionsStay = try runProgram(
            TestFarm.binary("osfarm-sim"),
            [
                "farm", "status", "--dir", farm.directory, "--expect-section", "session=\(session.server)",
                "--expect-section", "logging=\(logging.server)",
            ])
        XCTAssertEqual(sessionsStay.status, 0, sessionsStay.stderr)
        let platformMoved = try runProgram(
            TestFarm.binary("osfarm-sim"),
            ["farm", "status", "--dir", farm.directory, "--expect-section", "platform=\(farm.newDatabase)"])
        XCTAssertEqual(platformMoved.status, 1, "fe1 still names the old server")
        XCTAssertTrue(platformMoved.stderr.contains("platform not on \(farm.newDatabase): fe1 (\(farm.oldDatabase))"), platformMoved.stderr)
    }
}
