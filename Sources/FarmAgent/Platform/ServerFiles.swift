import FarmProtocol
import Foundation

/// Files on the server by their Windows paths: read, hash, and write atomically.
public struct ServerFiles: Sendable {
    let environment: HostEnvironment

    public init(environment: HostEnvironment) { self.environment = environment }

    public func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: environment.localPath(path)) }

    public func read(_ path: String) throws(AgentError) -> Data {
        guard let data = FileManager.default.contents(atPath: environment.localPath(path)) else {
            throw AgentError(.notFound, exists(path) ? "cannot read \(path)" : "\(path) does not exist")
        }
        return data
    }

    /// Writes through a temporary file and a rename, so a reader never sees half a file.
    public func write(_ data: Data, to path: String) throws(AgentError) {
        do {
            try data.write(to: URL(fileURLWithPath: environment.localPath(path)), options: .atomic)
        } catch {
            throw AgentError(.operationFailed, "cannot write \(path): \(error.localizedDescription)")
        }
    }

    public func createDirectory(_ path: String) throws(AgentError) {
        do {
            try FileManager.default.createDirectory(atPath: environment.localPath(path), withIntermediateDirectories: true)
        } catch {
            throw AgentError(.operationFailed, "cannot create \(path): \(error.localizedDescription)")
        }
    }

    /// Free bytes on the volume holding `path`, when the system says.
    public func freeBytes(near path: String) -> Int64? {
        let attributes = try? FileManager.default.attributesOfFileSystem(forPath: environment.localPath(path))
        return (attributes?[.systemFreeSize] as? NSNumber)?.int64Value
    }

    /// The last `count` lines of a text file, starting at byte `offset` (what was appended since).
    public func tail(_ path: String, lines count: Int, from offset: Int = 0) -> [String] {
        guard let data = try? read(path), offset <= data.count else { return [] }
        let text = String(decoding: data[offset...], as: UTF8.self)
        return text.split(whereSeparator: \.isNewline).suffix(count).map(String.init)
    }

    public func size(_ path: String) -> Int { (try? read(path).count) ?? 0 }
}
