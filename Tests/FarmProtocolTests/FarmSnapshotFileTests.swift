import FarmProtocol
import Foundation
import XCTest

/// A snapshot is read strictly: a newer format, an agent newer than this build or a field this
/// build does not know is an error naming the file and the field (issue 22).
final class FarmSnapshotFileTests: XCTestCase {
    private let path = "/rehearsals/farm.json"

    private func snapshot() -> FarmSnapshot {
        let platform = PlatformInspection(
            version: "11.23.0.1", installDirectory: #"C:\Program Files\OutSystems\Platform Server"#, role: .deploymentController,
            roleDescription: "Deployment Controller", services: [ServiceStatus(name: "W3SVC", state: .running, startType: .automatic)],
            databases: [
                DatabaseEndpoint(section: .platform, providerKey: "SqlServer", server: #"sql1\OUTSYS"#, catalog: "outsystems", authenticationMode: nil)
            ], compilerServerHostname: "10.0.0.5", configurationToolPresent: true,
            hsconfLayout: HsconfLayout(
                sections: ["PlatformDatabaseConfiguration"],
                secrets: [HsconfSecret(section: "PlatformDatabaseConfiguration", element: "AdminPassword", form: .clear, standIn: "stand-in")]))
        let server = SnapshotServer(
            name: "dc1", status: "ok", agentVersion: "0.1.0", protocolVersion: .current, operatingSystem: "Windows Server 2022",
            locale: HostLocale(installLanguage: "0407", oemCodePage: 850, consoleCodePage: 850), sessionShell: SessionShell(), platform: platform)
        let inventory = SnapshotInventory(
            path: "/etc/osfarm/prod.yaml",
            servers: [
                SnapshotInventoryServer(
                    name: "dc1", host: "10.0.0.5", port: 22, user: "svc", role: .deploymentController, tags: ["dc"], agent: "osfarm-agent serve",
                    hooks: nil, serviceCenter: nil)
            ])
        return FarmSnapshot(
            takenAt: Date(timeIntervalSince1970: 1_800_000_000), inventory: inventory, servers: [server], privateKeysMatch: true,
            durations: SnapshotDurations(runID: "20261101-220000-abcd", stepSeconds: ["configuration-tool": 95], farmDowntimeSeconds: 610))
    }

    /// The snapshot as JSON, changed by `edit`.
    private func file(_ edit: (inout [String: Any]) -> Void = { _ in }) throws -> Data {
        let directory = NSTemporaryDirectory() + "osfarm-snapshot-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FarmSnapshotFile.write(snapshot(), to: directory + "/farm.json")
        var tree = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/farm.json"))) as? [String: Any])
        edit(&tree)
        return try JSONSerialization.data(withJSONObject: tree)
    }

    private func problem(_ data: Data) -> FarmSnapshotFile.Problem? {
        do {
            _ = try FarmSnapshotFile.decode(data, path: path)
            return nil
        } catch {
            return error
        }
    }

    func testWhatWasWrittenReadsBackTheSame() throws {
        XCTAssertEqual(try FarmSnapshotFile.decode(try file(), path: path), snapshot())
        XCTAssertEqual(snapshot().servers[0].locale?.language, "de-DE")
        XCTAssertEqual(snapshot().servers[0].effectiveShell, #"C:\Windows\System32\cmd.exe /c "<command>" (no DefaultShell)"#)
    }

    func testANewerFormatIsRefusedNamingTheFile() throws {
        let refused = problem(try file { $0["format"] = FarmSnapshot.currentFormat + 1 })
        XCTAssertEqual(refused, .newerFormat(path: path, format: FarmSnapshot.currentFormat + 1))
        XCTAssertTrue(
            refused?.description.hasPrefix("\(path): snapshot format 2 is newer than this osfarm reads (1)") == true, "\(String(describing: refused))")
    }

    func testAnUnknownFieldIsRefusedNamingItsPath() throws {
        let top = problem(try file { $0["windowOpensAt"] = "22:00" })
        XCTAssertEqual(top, .unknownField(path: path, field: "windowOpensAt"))
        let nested = problem(
            try file { tree in
                var servers = tree["servers"] as! [[String: Any]]
                var platform = servers[0]["platform"] as! [String: Any]
                platform["iisBindings"] = ["*:443:"]
                servers[0]["platform"] = platform
                tree["servers"] = servers
            })
        XCTAssertEqual(nested, .unknownField(path: path, field: "servers[0].platform.iisBindings"))
        XCTAssertTrue(nested?.description.contains("unknown field servers[0].platform.iisBindings") == true)
        // A null stands for a field left out: not unknown.
        XCTAssertNil(problem(try file { $0["durations"] = NSNull() }))
    }

    func testAnAgentNewerThanThisBuildIsRefused() throws {
        let newer = ProtocolVersion(major: ProtocolVersion.current.major, minor: ProtocolVersion.current.minor + 1)
        let refused = problem(
            try file { tree in
                var servers = tree["servers"] as! [[String: Any]]
                servers[0]["protocolVersion"] = ["major": newer.major, "minor": newer.minor]
                tree["servers"] = servers
            })
        XCTAssertEqual(refused, .newerAgent(path: path, field: "servers[0].protocolVersion (dc1)", version: newer))
    }

    func testOtherDocumentsAndBrokenFieldsAreNamed() throws {
        XCTAssertEqual(problem(Data(#"{"servers": []}"#.utf8)), .notASnapshot(path: path))
        XCTAssertEqual(problem(try file { $0.removeValue(forKey: "inventory") }), .invalid(path: path, field: "inventory", reason: "missing"))
        XCTAssertThrowsError(try FarmSnapshotFile.read(path: "/nonexistent/farm.json")) { error in
            XCTAssertEqual(error as? FarmSnapshotFile.Problem, .unreadable(path: "/nonexistent/farm.json", reason: "no such file, or not readable"))
        }
    }

    func testAnEncryptedValuesStandInHasItsFormAndNothingOfIt() throws {
        let key = Array(repeating: UInt8(7), count: 16)
        for secret in ["x", "Adm1n&Platform", String(repeating: "long password ", count: 5)] {
            let written = HsconfCipher.encrypt(secret, key: key)
            let standIn = HsconfSecret.standIn(form: .encrypted, written: written)
            XCTAssertEqual(standIn.count, written.count, "same length: \(written)")
            XCTAssertTrue(standIn.hasPrefix(HsconfCipher.prefix))
            XCTAssertNotEqual(standIn, written)
            XCTAssertNotEqual(HsconfCipher.decrypt(standIn, key: key), secret)
            XCTAssertEqual(HsconfSecret.standIn(form: .encrypted, written: HsconfCipher.encrypt(secret, key: key)), standIn, "the same for any IV")
        }
        XCTAssertEqual(HsconfSecret.standIn(form: .clear, written: "S3ssion"), HsconfSecret.clearStandIn)
    }
}
