import FarmProtocol
import FarmSSH
import Foundation

/// `osfarm backups`: the copies of server.hsconf and private.key the agent keeps per run on every
/// selected server, listed, and pruned one run at a time once a move is confirmed. Until then they
/// are the way back (`rollback` restores from them); after, they are a liability: the
/// server.hsconf copy can hold clear-text passwords and private.key decrypts the encrypted ones.
public enum FarmBackups {
    public struct ServerResult: Sendable {
        public var server: ServerEntry
        public var status: ServerCheck.Status
        public var listing: BackupListing?
        public var pruned: BackupPruneResult?
        public var error: AgentSessionError?
    }

    /// How long one server may take to answer a list or a prune.
    static let requestTimeout = 120.0

    public static func list(
        _ servers: [ServerEntry], settings: ConnectionSettings, maxRuns: Int = BackupListArguments.defaultMaxRuns,
        concurrency: Int = FarmCheck.defaultConcurrency
    ) async -> [ServerResult] {
        await each(servers, settings: settings, concurrency: concurrency) { session, result in
            guard
                case let .backupListing(listing) = try await session.perform(
                    .listBackups(BackupListArguments(maxRuns: maxRuns)), timeout: max(settings.timeout, requestTimeout))
            else { throw AgentSessionError.protocolViolation("list-backups answered without a listing") }
            result.listing = listing
        }
    }

    /// Removes `runID`'s backups on every server; a server without any has nothing to do.
    public static func prune(
        runID: String, _ servers: [ServerEntry], settings: ConnectionSettings,
        concurrency: Int = FarmCheck.defaultConcurrency
    ) async -> [ServerResult] {
        await each(servers, settings: settings, concurrency: concurrency) { session, result in
            guard
                case let .backupPruned(pruned) = try await session.perform(
                    .pruneBackups(BackupArguments(runID: runID)), timeout: max(settings.timeout, requestTimeout))
            else { throw AgentSessionError.protocolViolation("prune-backups answered without a result") }
            result.pruned = pruned
        }
    }

    private static func each(
        _ servers: [ServerEntry], settings: ConnectionSettings, concurrency: Int,
        _ body: @escaping @Sendable (AgentSession, inout ServerResult) async throws -> Void
    ) async -> [ServerResult] {
        await BoundedFanOut.map(servers, concurrency: concurrency) { server in
            var result = ServerResult(server: server, status: .ok, listing: nil, pruned: nil, error: nil)
            if let failure = await AgentSession.withSession(server, settings: settings, { try await body($0, &result) }) {
                result.status = failure.isUnreachable ? .unreachable : .failed
                result.error = failure
            }
            return result
        }
    }

    public static func exitStatus(_ results: [ServerResult]) -> ExitStatus {
        if results.contains(where: { $0.status == .unreachable }) { return .unreachable }
        if results.contains(where: { $0.status == .failed }) { return .someFailed }
        return .success
    }

    public static func listTable(_ results: [ServerResult]) -> String {
        var table = TextTable(headers: ["SERVER", "RUN", "FILES", "SIZE", "LAST WRITTEN", "STATE"])
        var runs = Set<String>()
        for result in results {
            guard let listing = result.listing else {
                table.add([result.server.name, "-", "-", "-", "-", result.status.rawValue])
                continue
            }
            if listing.runs.isEmpty { table.add([result.server.name, "-", "0", "-", "-", "no backups"]) }
            for run in listing.runs {
                runs.insert(run.runID)
                table.add([
                    result.server.name, run.runID, "\(run.files.count)", size(run.totalBytes), run.lastModified ?? "-",
                    run.complete ? "complete" : "incomplete (no manifest)",
                ])
            }
            if listing.omittedRuns > 0 {
                table.add([result.server.name, "…", "", "", "", "\(listing.omittedRuns) older run\(listing.omittedRuns == 1 ? "" : "s") not shown"])
            }
        }
        var text = table.render() + problems(results)
        if !runs.isEmpty {
            text +=
                "\n\(runs.count) run\(runs.count == 1 ? "" : "s") with backups. They hold server.hsconf (which can hold clear-text passwords) "
                + "and private.key: once a move is confirmed, prune its run with 'osfarm backups prune RUN -i INVENTORY'.\n"
        }
        return text
    }

    public static func pruneTable(_ results: [ServerResult]) -> String {
        var table = TextTable(headers: ["SERVER", "RUN", "REMOVED", "FREED", "STATUS"])
        for result in results {
            guard let pruned = result.pruned else {
                table.add([result.server.name, "-", "-", "-", result.status.rawValue])
                continue
            }
            table.add([
                result.server.name, pruned.runID, pruned.removedFiles.map(\.name).joined(separator: ", ").ifEmpty("nothing"),
                size(pruned.freedBytes), pruned.removedFiles.isEmpty ? "no backup of this run" : "pruned",
            ])
        }
        return table.render() + problems(results)
    }

    private static func problems(_ results: [ServerResult]) -> String {
        let failed = results.compactMap { result in result.error.map { "\(result.server.name): \($0.description)\n" } }
        return failed.isEmpty ? "" : "\n" + failed.joined()
    }

    static func size(_ bytes: Int64) -> String {
        if bytes < 1024 { return "\(bytes) B" }
        if bytes < 1024 * 1024 { return String(format: "%.1f KiB", Double(bytes) / 1024) }
        return String(format: "%.1f MiB", Double(bytes) / 1024 / 1024)
    }

    struct Document: Codable {
        struct Server: Codable {
            var name: String
            var status: ServerCheck.Status
            var root: String?
            var runs: [BackupRunInfo]?
            var omittedRuns: Int?
            var error: CheckDocument.Failure?
        }

        var schema = "osfarm.backups/v1"
        var osfarmVersion = OsfarmVersion.current
        var exitCode: Int32
        var servers: [Server]
    }

    public static func listJSON(_ results: [ServerResult]) throws -> String {
        let document = Document(
            exitCode: exitStatus(results).rawValue,
            servers: results.map {
                Document.Server(
                    name: $0.server.name, status: $0.status, root: $0.listing?.root, runs: $0.listing?.runs,
                    omittedRuns: $0.listing?.omittedRuns, error: $0.error.map { CheckDocument.Failure(code: $0.code, message: $0.description) })
            })
        return String(decoding: try WireCodec.recordEncoder(pretty: true).encode(document), as: UTF8.self) + "\n"
    }
}

extension String {
    fileprivate func ifEmpty(_ replacement: String) -> String { isEmpty ? replacement : self }
}
