import FarmProtocol
import Foundation
import Logging
#if canImport(Glibc)
    import Glibc
#endif

/// osfarm's diagnostics through swift-log: on stderr at the level the operator asked for
/// (warnings; `--verbose` adds info, `--debug` everything), and every message at debug level into
/// the run's `debug.log` once the run has a folder (what comes before, the preflight's
/// connections, is kept and written then). What is logged never holds a secret: requests and
/// answers are logged in their redacted record form.
public enum Diagnostics {
    /// Installs the handlers; once per process. A command that never has a run folder
    /// (`keepsDebugLog` false: `check`, `services`…) logs at the stderr level only: its debug
    /// lines would go nowhere, and building them (requests and answers encoded for the record,
    /// a timestamp each) cost more controller CPU per server than the SSH connection itself.
    public static func bootstrap(stderrLevel: Logger.Level, keepsDebugLog: Bool = true) {
        LoggingSystem.bootstrap { label in
            DiagnosticLine(label: label, stderrLevel: stderrLevel, logLevel: keepsDebugLog ? .debug : stderrLevel)
        }
    }

    /// From now on (and for what was kept until now) the log goes to `directory/debug.log`.
    public static func attach(runDirectory directory: String) -> String {
        let path = directory + "/debug.log"
        DebugLogFile.shared.open(path)
        return path
    }
}

/// `2026-11-27T17:01:54.123Z debug osfarm.ssh [server=10.0.0.11:22] message`.
struct DiagnosticLine: LogHandler {
    let label: String
    let stderrLevel: Logger.Level
    var logLevel: Logger.Level = .debug
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
        let all = metadata.merging(extra ?? [:]) { _, new in new }
        let tags = all.isEmpty ? "" : " [" + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") + "]"
        let stamp = UTCTimestamp.milliseconds(Date())
        let text = "\(stamp) \(level) \(label)\(tags) \(message)\n"
        DebugLogFile.shared.write(text)
        if level >= stderrLevel { FileHandle.standardError.write(Data(text.utf8)) }
    }
}

/// The run's debug.log: lines are kept in memory (up to a bound) until the run's folder exists.
final class DebugLogFile: @unchecked Sendable {
    static let shared = DebugLogFile()
    private static let keptBytes = 4 << 20

    private let lock = NSLock()
    private var pending: [String] = []
    private var pendingBytes = 0
    private var descriptor: Int32 = -1

    func open(_ path: String) {
        lock.withLock {
            guard descriptor < 0 else { return }
            descriptor = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
            for line in pending { append(line) }
            pending = []
            pendingBytes = 0
        }
    }

    func write(_ line: String) {
        lock.withLock {
            if descriptor >= 0 {
                append(line)
            } else if pendingBytes < Self.keptBytes {
                pending.append(line)
                pendingBytes += line.utf8.count
            }
        }
    }

    private func append(_ line: String) {
        let bytes = Array(line.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
    }
}
