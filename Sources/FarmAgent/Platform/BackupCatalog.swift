import FarmProtocol
import Foundation

/// osfarm's backups on this server, one folder per run under `WindowsLocations.backupRoot`:
/// listed (files, sizes, times) and pruned one run at a time.
struct BackupCatalog {
    let files: ServerFiles

    static let manifestName = "manifest.json"

    /// The folder of a run's backup. A run id is 1–64 ASCII letters, digits, '-' or '_', so it can
    /// never name anything outside the backup root.
    static func runDirectory(_ runID: String) throws(AgentError) -> String {
        guard isRunID(runID) else {
            throw AgentError(.invalidArguments, "run id \"\(runID.prefix(80))\" must be 1–64 letters, digits, '-' or '_'")
        }
        return WindowsLocations.join(WindowsLocations.backupRoot, runID)
    }

    static func isRunID(_ text: String) -> Bool { BackupArguments.isValidRunID(text) }

    /// Every run's backup, the newest first, at most `maxRuns` of them.
    func list(maxRuns: Int) throws(AgentError) -> BackupListing {
        let root = WindowsLocations.backupRoot
        var runs: [(run: BackupRunInfo, newest: Date)] = []
        for name in files.entries(in: root) where Self.isRunID(name) {
            let directory = WindowsLocations.join(root, name)
            guard files.info(directory)?.isDirectory == true else { continue }
            let contents = self.contents(of: directory)
            let newest = contents.compactMap(\.modified).max() ?? .distantPast
            let run = BackupRunInfo(
                runID: name, directory: directory, files: contents.map(\.file),
                complete: contents.contains { $0.file.name == Self.manifestName })
            runs.append((run, newest))
        }
        runs.sort { $0.newest != $1.newest ? $0.newest > $1.newest : $0.run.runID > $1.run.runID }
        let kept = max(0, maxRuns)
        return BackupListing(root: root, runs: runs.prefix(kept).map(\.run), omittedRuns: max(0, runs.count - kept))
    }

    /// Removes a run's backup folder. A server without one has nothing to do and says so by an
    /// empty list of removed files.
    func prune(runID: String) throws(AgentError) -> BackupPruneResult {
        let directory = try Self.runDirectory(runID)
        guard let info = files.info(directory) else {
            return BackupPruneResult(runID: runID, directory: directory, removedFiles: [])
        }
        guard info.isDirectory else {
            throw AgentError(.operationFailed, "\(directory) is not a folder; osfarm did not make it and leaves it alone")
        }
        let removed = contents(of: directory).map(\.file)
        try files.remove(directory)
        return BackupPruneResult(runID: runID, directory: directory, removedFiles: removed)
    }

    /// The regular files of a folder, by name.
    private func contents(of directory: String) -> [(file: BackupFileInfo, modified: Date?)] {
        let stamp = ISO8601DateFormatter()
        stamp.timeZone = TimeZone(identifier: "UTC")
        stamp.formatOptions = [.withInternetDateTime]
        return files.entries(in: directory).sorted().compactMap { name in
            guard let info = files.info(WindowsLocations.join(directory, name)), info.isRegularFile else { return nil }
            return (BackupFileInfo(name: name, bytes: info.bytes, modified: info.modified.map { stamp.string(from: $0) }), info.modified)
        }
    }
}
