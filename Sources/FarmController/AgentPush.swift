import FarmProtocol
import FarmSSH
import Foundation

/// `osfarm agent push`: updates the agent through the agent itself, then confirms in a fresh
/// handshake that the agent answering is the pushed binary (by its SHA-256). `--rollback` swaps the
/// previous binary back the same way.
public enum AgentPush {
    public struct ServerResult: Sendable {
        public var server: ServerEntry
        public var before: String?
        public var after: String?
        public var note: String
        public var error: AgentSessionError?
    }

    public static func push(
        binary: Data, to servers: [ServerEntry], settings: ConnectionSettings,
        progress: @escaping @Sendable (String, String) -> Void = { _, _ in }
    ) async -> [ServerResult] {
        let digest = SHA256.hex(binary)
        return await BoundedFanOut.map(servers, concurrency: 8) { server in
            var result = ServerResult(server: server, before: nil, after: nil, note: "", error: nil)
            do {
                let session = try await AgentSession.open(server, options: settings.options(for: server), timeout: settings.timeout)
                do {
                    result.before = try await runningSHA256(session)
                    if result.before == digest {
                        result.note = "already this binary"
                    } else {
                        _ = try await transfer(binary, declaredSHA256: digest, over: session) { progress(server.name, $0) }
                    }
                } catch {
                    await session.close()
                    throw error
                }
                await session.close()
                result.after = try await confirm(server, settings: settings)
                guard result.after == digest else {
                    throw AgentSessionError.protocolViolation("after the swap the agent answering has sha256 \(result.after ?? "?"), not the pushed \(digest)")
                }
                if result.note.isEmpty { result.note = "updated; previous kept for --rollback" }
            } catch {
                result.error = AgentSessionError.wrap(error)
            }
            return result
        }
    }

    public static func rollback(_ servers: [ServerEntry], settings: ConnectionSettings) async -> [ServerResult] {
        await BoundedFanOut.map(servers, concurrency: 8) { server in
            var result = ServerResult(server: server, before: nil, after: nil, note: "", error: nil)
            do {
                let session = try await AgentSession.open(server, options: settings.options(for: server), timeout: settings.timeout)
                let swapped: AgentUpdateStatus
                do {
                    result.before = try await runningSHA256(session)
                    guard case let .agentUpdate(_, status) = try await session.perform(.rollbackAgentUpdate, timeout: 120) else {
                        throw AgentSessionError.protocolViolation("rollback-agent-update answered without a status")
                    }
                    swapped = status
                } catch {
                    await session.close()
                    throw error
                }
                await session.close()
                result.after = try await confirm(server, settings: settings)
                guard result.after == swapped.sha256 else {
                    throw AgentSessionError.protocolViolation("the agent answering has sha256 \(result.after ?? "?"), not the restored \(swapped.sha256)")
                }
                result.note = "rolled back to the previous binary"
            } catch {
                result.error = AgentSessionError.wrap(error)
            }
            return result
        }
    }

    /// Sends the binary in chunks and asks the agent to swap it in. `declaredSHA256` is what the
    /// agent checks the received bytes against.
    public static func transfer(
        _ binary: Data, declaredSHA256: String, over session: AgentSession,
        progress: (String) -> Void = { _ in }
    ) async throws -> AgentUpdateStatus {
        _ = try await session.perform(.beginAgentUpdate(AgentUpdateBegin(sha256: declaredSHA256, size: binary.count)), timeout: 60)
        var offset = 0
        while offset < binary.count {
            let end = min(offset + AgentUpdateChunk.size, binary.count)
            let chunk = AgentUpdateChunk(offset: offset, data: binary[offset..<end].base64EncodedString())
            _ = try await session.perform(.agentUpdateChunk(chunk), timeout: 60)
            offset = end
        }
        progress("sent \(binary.count) bytes")
        guard case let .agentUpdate(_, status) = try await session.perform(.finishAgentUpdate, timeout: 300) else {
            throw AgentSessionError.protocolViolation("finish-agent-update answered without a status")
        }
        return status
    }

    private static func runningSHA256(_ session: AgentSession) async throws -> String? {
        guard case let .agentUpdate(_, status) = try await session.perform(.agentStatus, timeout: 120) else { return nil }
        return status.sha256
    }

    /// A fresh connection and handshake: which binary answers now.
    private static func confirm(_ server: ServerEntry, settings: ConnectionSettings) async throws -> String? {
        let session = try await AgentSession.open(server, options: settings.options(for: server), timeout: settings.timeout)
        do {
            let digest = try await runningSHA256(session)
            await session.close()
            return digest
        } catch {
            await session.close()
            throw error
        }
    }

    public static func exitStatus(_ results: [ServerResult]) -> ExitStatus {
        if results.contains(where: { $0.error?.isUnreachable ?? false }) { return .unreachable }
        if results.contains(where: { $0.error != nil }) { return .someFailed }
        return .success
    }

    public static func table(_ results: [ServerResult]) -> String {
        var table = TextTable(headers: ["SERVER", "BEFORE", "AFTER", "RESULT"])
        for result in results {
            table.add([
                result.server.name, result.before.map { String($0.prefix(12)) } ?? "-", result.after.map { String($0.prefix(12)) } ?? "-",
                result.error.map { "FAILED: \($0.description)" } ?? result.note,
            ])
        }
        return table.render()
    }
}
