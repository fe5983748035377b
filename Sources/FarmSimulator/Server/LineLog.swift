import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The simulator's JSON-lines logs (delays.jsonl, configuration-tool-runs.jsonl, http.log): one
/// line appended in one write with O_APPEND, so processes writing at once never interleave lines.
/// A failure to write is ignored: the logs are for measurement and tests only.
enum LineLog {
    static func append(_ object: PlainJSON, to path: String) {
        append(object.utf8() + [0x0A], to: path)
    }

    static func append(_ line: [UInt8], to path: String) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        _ = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    }
}
