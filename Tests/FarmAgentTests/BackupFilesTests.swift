import FarmAgent
import FarmProtocol
import Foundation
import XCTest

/// The agent's own files: backups owner-only, rewrites that keep the original's mode, and the
/// list and prune operations, on a simulated C: tree in a temporary folder.
final class BackupFilesTests: XCTestCase {
    private var root = ""
    private var environment: HostEnvironment { HostEnvironment(root: root, localAddress: "127.0.0.1") }
    private var files: ServerFiles { ServerFiles(environment: environment) }

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "osfarm-files-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root + "/C/Data", withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: root)
    }

    private func mode(_ windowsPath: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: environment.localPath(windowsPath))
        return try XCTUnwrap(attributes[.posixPermissions] as? Int)
    }

    private func leftovers(in windowsFolder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: environment.localPath(windowsFolder)).filter { $0.contains(".osfarm-") }
    }

    func testOwnerOnlyFilesAndFoldersWhateverTheUmask() throws {
        let previous = umask(0)
        defer { umask(previous) }
        try files.createOwnerOnlyDirectory(#"C:\Data\backups\run-1"#)
        XCTAssertEqual(try mode(#"C:\Data\backups\run-1"#), 0o700)
        try files.writeOwnerOnly(Data("secret".utf8), to: #"C:\Data\backups\run-1\server.hsconf"#)
        XCTAssertEqual(try mode(#"C:\Data\backups\run-1\server.hsconf"#), 0o600)
        XCTAssertEqual(try files.read(#"C:\Data\backups\run-1\server.hsconf"#), Data("secret".utf8))
        // Written again (an earlier attempt that did not finish): still owner-only.
        try files.writeOwnerOnly(Data("again".utf8), to: #"C:\Data\backups\run-1\server.hsconf"#)
        XCTAssertEqual(try mode(#"C:\Data\backups\run-1\server.hsconf"#), 0o600)
        XCTAssertEqual(try leftovers(in: #"C:\Data\backups\run-1"#), [])

        // A folder an older agent left world-readable is narrowed.
        try FileManager.default.createDirectory(
            atPath: environment.localPath(#"C:\Data\backups\old"#), withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o755])
        try files.createOwnerOnlyDirectory(#"C:\Data\backups\old"#)
        XCTAssertEqual(try mode(#"C:\Data\backups\old"#), 0o700)
    }

    func testAReplacedFileKeepsItsMode() throws {
        for original in [0o600, 0o640, 0o644] {
            let path = #"C:\Data\server.hsconf"#
            let local = environment.localPath(path)
            try? FileManager.default.removeItem(atPath: local)
            _ = FileManager.default.createFile(atPath: local, contents: Data("before".utf8), attributes: [.posixPermissions: original])
            try files.replace(Data("after".utf8), at: path)
            XCTAssertEqual(try mode(path), original, String(original, radix: 8))
            XCTAssertEqual(try files.read(path), Data("after".utf8))
        }
        XCTAssertEqual(try leftovers(in: #"C:\Data"#), [])
    }

    private func backup(_ runID: String, files names: [String: String], modified: Date) throws {
        let folder = environment.localPath(WindowsLocations.join(WindowsLocations.backupRoot, runID))
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (name, content) in names {
            _ = FileManager.default.createFile(atPath: folder + "/" + name, contents: Data(content.utf8))
            try FileManager.default.setAttributes([.modificationDate: modified], ofItemAtPath: folder + "/" + name)
        }
    }

    func testListAndPruneBackupsPerRun() throws {
        try backup(
            "20261101-100000-aaaa", files: ["server.hsconf": "12345", "private.key": "key", "manifest.json": "{}"],
            modified: Date(timeIntervalSince1970: 1_790_000_000))
        try backup("20261102-100000-bbbb", files: ["server.hsconf": "1234567"], modified: Date(timeIntervalSince1970: 1_790_100_000))
        try backup("not a run", files: ["x": "y"], modified: Date())
        let operations = ServerOperations(environment: environment, facts: { HostFacts(hostname: "h", operatingSystem: "o", processID: 1) })
        func perform(_ operation: AgentOperation) -> Outcome { operations.perform(operation) { _ in } }

        guard case let .ok(.backupListing(listing)) = perform(.listBackups(BackupListArguments())) else { return XCTFail() }
        XCTAssertEqual(listing.root, WindowsLocations.backupRoot)
        XCTAssertEqual(listing.runs.map(\.runID), ["20261102-100000-bbbb", "20261101-100000-aaaa"], "the newest first; other folders skipped")
        XCTAssertEqual(listing.runs[0].complete, false, "no manifest: a backup that did not finish")
        XCTAssertEqual(listing.runs[1].complete, true)
        XCTAssertEqual(listing.runs[1].files.map(\.name), ["manifest.json", "private.key", "server.hsconf"])
        XCTAssertEqual(listing.runs[1].totalBytes, 10)
        XCTAssertEqual(listing.runs[1].lastModified, "2026-09-21T14:13:20Z")
        XCTAssertEqual(listing.runs[0].directory, #"C:\ProgramData\osfarm\backups\20261102-100000-bbbb"#)

        guard case let .ok(.backupListing(one)) = perform(.listBackups(BackupListArguments(maxRuns: 1))) else { return XCTFail() }
        XCTAssertEqual(one.runs.count, 1)
        XCTAssertEqual(one.omittedRuns, 1)

        guard case let .ok(.backupPruned(pruned)) = perform(.pruneBackups(BackupArguments(runID: "20261101-100000-aaaa"))) else { return XCTFail() }
        XCTAssertEqual(pruned.removedFiles.map(\.name), ["manifest.json", "private.key", "server.hsconf"])
        XCTAssertEqual(pruned.freedBytes, 10)
        XCTAssertFalse(files.exists(WindowsLocations.join(WindowsLocations.backupRoot, "20261101-100000-aaaa")))
        guard case let .ok(.backupPruned(again)) = perform(.pruneBackups(BackupArguments(runID: "20261101-100000-aaaa"))) else { return XCTFail() }
        XCTAssertEqual(again.removedFiles, [], "nothing left to prune is not an error")

        for hostile in ["..", "../etc", "a\\b", "", String(repeating: "r", count: 65), "é"] {
            guard case let .failure(error) = perform(.pruneBackups(BackupArguments(runID: hostile))) else { return XCTFail(hostile) }
            XCTAssertEqual(error.code, .invalidArguments, hostile)
        }
        XCTAssertTrue(files.exists(WindowsLocations.join(WindowsLocations.backupRoot, "not a run")), "never touched")
    }
}
