import Foundation

/// The change records written for a run, listed in its folder, so that a later resume or
/// rollback rewrites them: a record on the change board never keeps saying a run failed
/// (`Exit code | 1`) after a resume finished it.
public enum ChangeRecords {
    static let listName = "change-records"

    /// Writes the record to `path` and lists it with the run.
    public static func write(_ report: MoveReport, to path: String, runDirectory: String?) throws {
        try report.markdown().write(toFile: path, atomically: true, encoding: .utf8)
        guard let runDirectory else { return }
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        guard !listed(runDirectory).contains(absolute) else { return }
        let list = runDirectory + "/" + listName
        if !FileManager.default.fileExists(atPath: list) { FileManager.default.createFile(atPath: list, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: list) else { return }
        defer { try? handle.close() }
        _ = try? handle.seekToEnd()
        try handle.write(contentsOf: Data((absolute + "\n").utf8))
    }

    /// Rewrites every record written earlier for this run with the run's state now; returns the
    /// paths rewritten. A listed file that no longer is this run's record is left alone.
    @discardableResult
    public static func refresh(_ report: MoveReport, runDirectory: String) -> [String] {
        let heading = "# Change record: OutSystems database move \(report.record.runID)\n"
        return listed(runDirectory).filter { path in
            guard let text = try? String(contentsOfFile: path, encoding: .utf8), text.hasPrefix(heading) else { return false }
            return (try? report.markdown().write(toFile: path, atomically: true, encoding: .utf8)) != nil
        }
    }

    private static func listed(_ runDirectory: String) -> [String] {
        let text = (try? String(contentsOfFile: runDirectory + "/" + listName, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }
}
