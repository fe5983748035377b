import FarmProtocol
import Foundation

/// Receives a new agent binary in chunks, checks it and swaps it in beside the running one.
///
/// The running binary is only ever renamed, never overwritten (Windows can rename a running
/// executable but not replace it), and it stays as `<name>.previous` for a rollback. A wrong hash,
/// a write error (a full disk) or a transfer that stops half-way leave the running agent in place.
final class AgentUpdater: @unchecked Sendable {
    private let lock = NSLock()
    private let executablePath: String
    private var expected: AgentUpdateBegin?
    private var received = 0
    private var hasher = SHA256.Hasher()
    private var staging: FileHandle?

    init(executablePath: String) { self.executablePath = executablePath }

    var stagedPath: String { executablePath + ".new" }
    var previousPath: String { executablePath + ".previous" }

    /// The binary at the agent's path and the one kept for a rollback. Hashed on request only
    /// (never in inspect or hello: hashing a multi-megabyte binary is not free).
    func currentStatus() -> AgentUpdateStatus {
        lock.lock()
        defer { lock.unlock() }
        return status()
    }

    static func hash(file path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        var hasher = SHA256.Hasher()
        while let chunk = try? handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(chunk) }
        return hasher.finalize().hexString
    }

    private func status() -> AgentUpdateStatus {
        AgentUpdateStatus(
            path: executablePath, sha256: Self.hash(file: executablePath) ?? "", received: received,
            previousSHA256: FileManager.default.fileExists(atPath: previousPath) ? Self.hash(file: previousPath) : nil)
    }

    func begin(_ request: AgentUpdateBegin) throws(AgentError) -> AgentUpdateStatus {
        guard request.size > 0, request.size <= AgentUpdateBegin.maximumSize else {
            throw AgentError(.invalidArguments, "an agent binary of \(request.size) bytes is out of range")
        }
        guard request.sha256.count == 64, request.sha256.allSatisfy(\.isHexDigit) else {
            throw AgentError(.invalidArguments, "sha256 must be 64 hex digits")
        }
        lock.lock()
        defer { lock.unlock() }
        discardStaging()
        guard FileManager.default.createFile(atPath: stagedPath, contents: nil), let handle = FileHandle(forWritingAtPath: stagedPath) else {
            throw AgentError(.operationFailed, "cannot create \(stagedPath)")
        }
        staging = handle
        expected = request
        received = 0
        hasher = SHA256.Hasher()
        return AgentUpdateStatus(path: executablePath, sha256: "", received: 0, previousSHA256: nil)
    }

    func append(_ chunk: AgentUpdateChunk) throws(AgentError) -> AgentUpdateStatus {
        lock.lock()
        defer { lock.unlock() }
        guard let expected, let staging else { throw AgentError(.operationFailed, "no agent update in progress (begin-agent-update first)") }
        guard chunk.offset == received else {
            throw AgentError(.invalidArguments, "chunk at offset \(chunk.offset), expected \(received)")
        }
        guard let bytes = Data(base64Encoded: chunk.data) else { throw AgentError(.invalidArguments, "chunk data is not base64") }
        guard received + bytes.count <= expected.size else {
            throw AgentError(.invalidArguments, "more bytes than the announced \(expected.size)")
        }
        do {
            try staging.write(contentsOf: bytes)
        } catch {
            discardStaging()
            throw AgentError(.operationFailed, "cannot write \(stagedPath) (disk full?): \(error.localizedDescription); the running agent is unchanged")
        }
        hasher.update(bytes)
        received += bytes.count
        return AgentUpdateStatus(path: executablePath, sha256: "", received: received, previousSHA256: nil)
    }

    func finish() throws(AgentError) -> AgentUpdateStatus {
        lock.lock()
        defer { lock.unlock() }
        guard let expected, let staging else { throw AgentError(.operationFailed, "no agent update in progress") }
        do {
            try staging.synchronize()
            try staging.close()
        } catch {
            discardStaging()
            throw AgentError(.operationFailed, "cannot finish writing \(stagedPath): \(error.localizedDescription)")
        }
        self.staging = nil
        let digest = hasher.finalize().hexString
        guard received == expected.size, digest == expected.sha256, Self.hash(file: stagedPath) == expected.sha256 else {
            discardStaging()
            throw AgentError(
                .operationFailed,
                "the received agent (\(received) bytes, sha256 \(digest)) does not match the announced \(expected.size) bytes, sha256 \(expected.sha256); the running agent is unchanged"
            )
        }
        #if !os(Windows)
            try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: stagedPath)
        #endif
        try swap(into: stagedPath)
        self.expected = nil
        return status()
    }

    func rollback() throws(AgentError) -> AgentUpdateStatus {
        lock.lock()
        defer { lock.unlock() }
        guard FileManager.default.fileExists(atPath: previousPath) else {
            throw AgentError(.notFound, "no previous agent at \(previousPath) to roll back to")
        }
        let manager = FileManager.default
        let parked = executablePath + ".rollback"
        do {
            try? manager.removeItem(atPath: parked)
            try manager.moveItem(atPath: previousPath, toPath: parked)
        } catch {
            throw AgentError(.operationFailed, "cannot move \(previousPath): \(error.localizedDescription)")
        }
        try swap(into: parked)
        return status()
    }

    /// current → previous, `replacement` → current; on failure the current one goes back.
    private func swap(into replacement: String) throws(AgentError) {
        let manager = FileManager.default
        do {
            try? manager.removeItem(atPath: previousPath)
            try manager.moveItem(atPath: executablePath, toPath: previousPath)
        } catch {
            throw AgentError(.operationFailed, "cannot set the running agent aside: \(error.localizedDescription)")
        }
        do {
            try manager.moveItem(atPath: replacement, toPath: executablePath)
        } catch {
            try? manager.moveItem(atPath: previousPath, toPath: executablePath)
            throw AgentError(.operationFailed, "cannot put the new agent in place: \(error.localizedDescription); the running agent is unchanged")
        }
    }

    private func discardStaging() {
        try? staging?.close()
        staging = nil
        expected = nil
        received = 0
        try? FileManager.default.removeItem(atPath: stagedPath)
    }
}
