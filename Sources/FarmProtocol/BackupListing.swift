/// The backups the agent keeps on a server (one folder per run under its backup root): listed per
/// run, and pruned one run at a time once the move is confirmed. The copies of server.hsconf may
/// hold clear-text passwords and private.key decrypts them, so they must not outlive their use.

public struct BackupListArguments: Codable, Sendable, Equatable {
    /// At most this many runs, the newest first (1…1000; default 200).
    public var maxRuns: Int?

    public init(maxRuns: Int? = nil) { self.maxRuns = maxRuns }

    public static let defaultMaxRuns = 200
}

public struct BackupFileInfo: Codable, Sendable, Equatable {
    /// The file's name in the run's folder, e.g. "server.hsconf".
    public var name: String
    public var bytes: Int64
    /// When it was last written, ISO 8601 in UTC; nil when the system does not say.
    public var modified: String?

    public init(name: String, bytes: Int64, modified: String?) {
        self.name = name
        self.bytes = bytes
        self.modified = modified
    }
}

public struct BackupRunInfo: Codable, Sendable, Equatable {
    public var runID: String
    /// Where the copies are (Windows path).
    public var directory: String
    public var files: [BackupFileInfo]
    /// False when the run's manifest is missing (a backup that did not finish).
    public var complete: Bool

    public init(runID: String, directory: String, files: [BackupFileInfo], complete: Bool) {
        self.runID = runID
        self.directory = directory
        self.files = files
        self.complete = complete
    }

    public var totalBytes: Int64 { files.reduce(0) { $0 &+ $1.bytes } }

    /// The newest write among the run's files.
    public var lastModified: String? { files.compactMap(\.modified).max() }
}

public struct BackupListing: Codable, Sendable, Equatable {
    /// Where the agent keeps its backups (Windows path).
    public var root: String
    /// The newest first.
    public var runs: [BackupRunInfo]
    /// Runs not listed because of `maxRuns`.
    public var omittedRuns: Int

    public init(root: String, runs: [BackupRunInfo], omittedRuns: Int = 0) {
        self.root = root
        self.runs = runs
        self.omittedRuns = omittedRuns
    }
}

public struct BackupPruneResult: Codable, Sendable, Equatable {
    public var runID: String
    public var directory: String
    /// What was removed; empty when the server held no backup for the run.
    public var removedFiles: [BackupFileInfo]

    public init(runID: String, directory: String, removedFiles: [BackupFileInfo]) {
        self.runID = runID
        self.directory = directory
        self.removedFiles = removedFiles
    }

    public var freedBytes: Int64 { removedFiles.reduce(0) { $0 &+ $1.bytes } }
}

extension BackupArguments {
    /// A run id as backups use it: 1–64 ASCII letters, digits, '-' or '_', so it can never name a
    /// folder outside the backup root.
    public static func isValidRunID(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 64
            && text.utf8.allSatisfy { byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
            }
    }
}
