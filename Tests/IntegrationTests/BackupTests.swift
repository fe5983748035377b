import FarmController
import FarmProtocol
import FarmSimulator
import FarmSSH
import Foundation
import XCTest

/// Backups that do not leak, and edits that keep what they do not change, over real sshd on
/// simulated servers; judged by the files themselves, never by the agent's word.
final class BackupTests: XCTestCase {
    private static let hsconf = #"C:\Program Files\OutSystems\Platform Server\server.hsconf"#

    private func mode(_ path: String) throws -> Int {
        try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    func testBackupsAreOwnerOnlyAndARepointKeepsTheFilesModeAndEveryOtherByte() async throws {
        let farm = try TestFarm(frontEnds: 1)
        defer { farm.shutdown() }
        let old = farm.oldDatabase, new = farm.newDatabase
        let path = try farm.file(Self.hsconf, on: "fe1")
        // A server.hsconf an administrator narrowed to 0600, with a comment once saved in
        // Windows-1252 ("é" is the single byte 0xE9 there, and no UTF-8 at all).
        var original = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let comment = Array("<!-- Modifi".utf8) + [0xE9] + Array(" par l'exploitation -->\r\n".utf8)
        let afterDeclaration = try XCTUnwrap(original.firstIndex(of: UInt8(ascii: "\n"))) + 1
        original.insert(contentsOf: comment, at: afterDeclaration)
        try Data(original).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(chmod(path, 0o600), 0)

        let session = try await farm.session("fe1")
        guard case let .backup(_, backup) = try await session.perform(.backupConfiguration(BackupArguments(runID: "run-1")), timeout: 30) else {
            return XCTFail()
        }
        let folder = try farm.file(backup.directory, on: "fe1")
        XCTAssertEqual(try mode(folder), 0o700, "the run's backup folder")
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) {
            XCTAssertEqual(try mode(folder + "/" + name), 0o600, "\(name) is readable by its owner only")
        }
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: folder)), ["server.hsconf", "private.key", "manifest.json"])

        let target = DatabaseTarget(server: try DatabaseServerAddress(parsing: new))
        guard
            case let .repoint(result) = try await session.perform(
                .repointDatabase(RepointArguments(targets: DatabaseTargets(all: target), expectedCurrentServer: try DatabaseServerAddress(parsing: old))),
                timeout: 30)
        else { return XCTFail() }
        XCTAssertEqual(result.changes.count, 3)
        XCTAssertEqual(try mode(path), 0o600, "the rewritten server.hsconf keeps its mode")
        let repointed = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let expected = Array(
            String(decoding: original, as: UTF8.self)
                .replacingOccurrences(of: "<Server>\(old)</Server>", with: "<Server>\(new)</Server>").utf8)
        XCTAssertTrue(repointed != expected, "that String round trip is what the old agent did: 0xE9 became U+FFFD")
        var byteLevel = original
        for _ in 0..<3 {
            let from = Array("<Server>\(old)</Server>".utf8)
            let at = try XCTUnwrap(byteLevel.indices.first { byteLevel[$0...].starts(with: from) })
            byteLevel.replaceSubrange(at..<at + from.count, with: Array("<Server>\(new)</Server>".utf8))
        }
        XCTAssertTrue(repointed == byteLevel, "only the three Server values changed, byte for byte")
        XCTAssertTrue(repointed.contains(0xE9))

        _ = try await session.perform(.restoreConfiguration(BackupArguments(runID: "run-1")), timeout: 30)
        XCTAssertTrue(Array(try Data(contentsOf: URL(fileURLWithPath: path))) == original, "restore gives back every byte")
        XCTAssertEqual(try mode(path), 0o600, "and the restored file keeps its mode too")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: (path as NSString).deletingLastPathComponent).filter { $0.contains(".osfarm-") }
        XCTAssertEqual(leftovers, [], "no temporary file left beside server.hsconf")
        await session.close()
    }

    func testBackupsListAndPruneOnEveryServer() async throws {
        let farm = try TestFarm(frontEnds: 1)
        defer { farm.shutdown() }
        for (server, runs) in [("dc1", ["20261101-090000-aaaa", "20261102-090000-bbbb"]), ("fe1", ["20261101-090000-aaaa"])] {
            let session = try await farm.session(server)
            for run in runs { _ = try await session.perform(.backupConfiguration(BackupArguments(runID: run)), timeout: 30) }
            await session.close()
        }
        let inventory = farm.record.inventory

        let listed = try osfarm(["backups", "list", "-i", inventory, "--json"])
        XCTAssertEqual(listed.status, 0, listed.stdout + listed.stderr)
        let document = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(document["schema"] as? String, "osfarm.backups/v1")
        let servers = try XCTUnwrap(document["servers"] as? [[String: Any]])
        func runs(_ name: String, _ servers: [[String: Any]]) -> [String] {
            ((servers.first { $0["name"] as? String == name }?["runs"] as? [[String: Any]]) ?? []).compactMap { $0["runID"] as? String }
        }
        XCTAssertEqual(Set(runs("dc1", servers)), ["20261101-090000-aaaa", "20261102-090000-bbbb"])
        XCTAssertEqual(runs("fe1", servers), ["20261101-090000-aaaa"])
        let dcRuns = try XCTUnwrap(servers.first?["runs"] as? [[String: Any]])
        let files = try XCTUnwrap(dcRuns.first?["files"] as? [[String: Any]])
        XCTAssertEqual(Set(files.compactMap { $0["name"] as? String }), ["manifest.json", "private.key", "server.hsconf"])
        XCTAssertTrue(files.allSatisfy { ($0["bytes"] as? Int ?? 0) > 0 && ($0["modified"] as? String)?.hasSuffix("Z") == true }, "\(files)")

        let table = try osfarm(["backups", "list", "-i", inventory])
        XCTAssertTrue(table.stdout.hasPrefix("SERVER"), table.stdout)
        XCTAssertTrue(table.stdout.contains("prune its run with 'osfarm backups prune RUN -i INVENTORY'"), table.stdout)

        // No journal of the run on this jump host: its backups may be its way back.
        let unknown = try osfarm(["backups", "prune", "--yes", "20261101-090000-aaaa", "-i", inventory, "--state-dir", farm.stateDirectory])
        XCTAssertEqual(unknown.status, 2, unknown.stdout)
        XCTAssertTrue(unknown.stderr.contains("cannot tell whether run 20261101-090000-aaaa is finished") && unknown.stderr.contains("--force"), unknown.stderr)
        let pruned = try osfarm(["backups", "prune", "--yes", "20261101-090000-aaaa", "-i", inventory, "--force"])
        XCTAssertEqual(pruned.status, 0, pruned.stdout + pruned.stderr)
        XCTAssertEqual(pruned.stdout.components(separatedBy: "pruned").count - 1, 2, pruned.stdout)
        for server in ["dc1", "fe1"] {
            let folder = try farm.file(#"C:\ProgramData\osfarm\backups\20261101-090000-aaaa"#, on: server)
            XCTAssertFalse(FileManager.default.fileExists(atPath: folder), "\(server): the run's backups are gone")
        }
        XCTAssertTrue(
            FileManager.default.fileExists(atPath: try farm.file(#"C:\ProgramData\osfarm\backups\20261102-090000-bbbb"#, on: "dc1")),
            "another run's backups stay")
        let after = try osfarm(["backups", "list", "-i", inventory, "--json"])
        let remaining = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(after.stdout.utf8)) as? [String: Any])?["servers"] as? [[String: Any]])
        XCTAssertEqual(runs("dc1", remaining), ["20261102-090000-bbbb"])
        XCTAssertEqual(runs("fe1", remaining), [])

        let again = try osfarm(["backups", "prune", "--yes", "20261101-090000-aaaa", "-i", inventory, "--limit", "fe1", "--force"])
        XCTAssertEqual(again.status, 0, again.stdout)
        XCTAssertTrue(again.stdout.contains("no backup of this run"), again.stdout)

        let hostile = try osfarm(["backups", "prune", "--yes", "../../Windows", "-i", inventory, "--force"])
        XCTAssertEqual(hostile.status, 2)
        XCTAssertTrue(hostile.stderr.contains("is not a run id"), hostile.stderr)
        let badLimit = try osfarm(["backups", "list", "-i", inventory, "--max-runs", "100000"])
        XCTAssertEqual(badLimit.status, 2)
        XCTAssertTrue(badLimit.stderr.contains("--max-runs must be 1…1000 runs, not 100000"), badLimit.stderr)
    }

    /// A failed run's backups are its way back: prune refuses them until a rollback ends the run.
    func testPruneWaitsUntilTheRunIsFinished() throws {
        let farm = try TestFarm(frontEnds: 1)
        defer { farm.shutdown() }
        let runID = try farm.failedRun(at: "fe1")
        let backups = try farm.file(#"C:\ProgramData\osfarm\backups\"# + runID, on: "dc1")
        let refused = try osfarm(["backups", "prune", "--yes", runID, "-i", farm.record.inventory, "--state-dir", farm.stateDirectory])
        XCTAssertEqual(refused.status, 2, refused.stdout)
        XCTAssertTrue(refused.stderr.contains("run \(runID) is failed: its backups are its way back"), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("osfarm rollback \(runID)"), refused.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: backups), "nothing was pruned")
        // --force is for a run this jump host has no journal of, never one whose journal needs its backups.
        let forced = try osfarm(["backups", "prune", runID, "-i", farm.record.inventory, "--state-dir", farm.stateDirectory, "--force"])
        XCTAssertEqual(forced.status, 2, forced.stdout)
        XCTAssertTrue(forced.stderr.contains("--force does not override a journal that shows it"), forced.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: backups), "nothing was pruned")

        XCTAssertEqual(try osfarm(["rollback", "--yes", runID, "--state-dir", farm.stateDirectory]).status, 0)
        let pruned = try osfarm(["backups", "prune", "--yes", runID, "-i", farm.record.inventory, "--state-dir", farm.stateDirectory])
        XCTAssertEqual(pruned.status, 0, pruned.stdout + pruned.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: backups))
    }
}
