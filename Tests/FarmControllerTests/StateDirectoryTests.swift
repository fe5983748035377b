import FarmController
import Foundation
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// The state directory on this jump host: what a run that could not be journaled leaves there
/// (nothing), and what a journal there forbids (pruning the backups of a run that still needs
/// them, whatever --force says). A full disk is this process's file size limit set to zero: every
/// write to a file then fails as on a full filesystem, without root.
final class StateDirectoryTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "osfarm-state-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs `body` while no byte can be written to a file (RLIMIT_FSIZE 0, SIGXFSZ ignored).
    private func withFullDisk<T>(_ body: () throws -> T) throws -> T {
        var saved = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &saved) == 0 else { throw POSIXError(.EPERM) }
        let previous = signal(SIGXFSZ, SIG_IGN)
        var full = saved
        full.rlim_cur = 0
        guard setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &full) == 0 else { throw POSIXError(.EPERM) }
        defer {
            setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &saved)
            signal(SIGXFSZ, previous)
        }
        return try body()
    }

    func testARunRefusedByAFullStateDirectoryLeavesNoRunFolderAndNoLockFile() throws {
        let farm = ScriptedFarm()
        try withFullDisk {
            let lock = try FarmLock.acquire(farm: farm.servers, stateDirectory: directory, runID: "run-1", command: "move-db run")
            XCTAssertThrowsError(try RunJournal.create(farm.record, stateDirectory: directory)) { error in
                XCTAssertTrue("\(error)".contains("run.json: cannot write"), "\(error)")
            }
            withExtendedLifetime(lock) {}
        }
        let left = try FileManager.default.subpathsOfDirectory(atPath: directory)
        XCTAssertEqual(left.filter { $0 != ".locks" }, [], "no run folder, no lock file")
        XCTAssertEqual(RunCatalog.list(stateDirectory: directory).map(\.runID), [])
        // The next run finds nothing in its way, and its lock is the farm's lock again.
        let lock = try FarmLock.acquire(farm: farm.servers, stateDirectory: directory, runID: "run-2", command: "move-db run")
        XCTAssertThrowsError(try FarmLock.acquire(farm: farm.servers, stateDirectory: directory, runID: "run-3", command: "move-db run"))
        withExtendedLifetime(lock) {}
    }

    func testForceNeverPrunesTheBackupsOfARunWhoseJournalHereShowsItNeedsThem() throws {
        let farm = ScriptedFarm()
        let journal = try RunJournal.create(farm.record, stateDirectory: directory)
        for entry in [
            JournalEntry(server: nil, step: "run", event: .started), JournalEntry(server: nil, step: RunState.phasePrefix + "stop", event: .started),
            JournalEntry(server: nil, step: "run", event: .failed, message: "fe1 failed"),
        ] {
            try journal.append(entry)
        }
        for force in [false, true] {
            XCTAssertThrowsError(try FarmBackups.checkPrunable(runID: "run-1", stateDirectory: directory, force: force)) { error in
                let message = "\(error)"
                XCTAssertTrue(message.contains("run run-1 is failed") && message.contains("osfarm rollback run-1"), message)
                if force { XCTAssertTrue(message.contains("--force does not override"), message) }
            }
        }
        // A run this jump host has no journal of: --force is the operator's word that it is finished.
        XCTAssertThrowsError(try FarmBackups.checkPrunable(runID: "run-9", stateDirectory: directory, force: false))
        XCTAssertNoThrow(try FarmBackups.checkPrunable(runID: "run-9", stateDirectory: directory, force: true))
        try journal.append(JournalEntry(server: nil, step: "rollback", event: .started))
        try journal.append(JournalEntry(server: nil, step: "rollback", event: .finished))
        XCTAssertNoThrow(try FarmBackups.checkPrunable(runID: "run-1", stateDirectory: directory, force: false))
    }
}
