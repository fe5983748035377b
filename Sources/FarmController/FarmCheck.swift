import FarmProtocol
import FarmSSH
import Foundation

/// What `osfarm check` found on one server.
public struct ServerCheck: Sendable {
    public enum Status: String, Sendable, Codable {
        case ok
        case failed
        case unreachable
    }

    public var server: ServerEntry
    public var status: Status
    public var hostKey: HostKey?
    public var inspection: ServerInspection?
    /// Round trip of a `ping` over the established session (network and agent, nothing else).
    public var roundTripMilliseconds: Double?
    public var elapsedMilliseconds: Double
    public var error: AgentSessionError?
    /// `--database NEW`: every user server.hsconf names logging in to NEW from this server.
    public var logins: LoginCheckResult? = nil
}

/// Connects to every selected server in parallel (bounded), completes the handshake, runs
/// `inspect`, and reports one `ServerCheck` per server in inventory order.
public enum FarmCheck {
    public static let defaultConcurrency = 32

    public static func run(
        _ servers: [ServerEntry], settings: ConnectionSettings, concurrency: Int = defaultConcurrency, database: DatabaseServerAddress? = nil,
        onResult: @escaping @Sendable (ServerCheck) -> Void = { _ in }
    ) async -> [ServerCheck] {
        await BoundedFanOut.map(servers, concurrency: concurrency) { server in
            let result = await check(server, settings: settings, database: database)
            onResult(result)
            return result
        }
    }

    static func check(_ server: ServerEntry, settings: ConnectionSettings, database: DatabaseServerAddress? = nil) async -> ServerCheck {
        let started = Deadline.now
        func elapsed() -> Double { Double(Deadline.now.uptimeNanoseconds - started.uptimeNanoseconds) / 1_000_000 }
        let session: AgentSession
        do {
            session = try await AgentSession.open(server, options: settings.options(for: server), timeout: settings.timeout)
        } catch {
            return ServerCheck(
                server: server, status: error.isUnreachable ? .unreachable : .failed, hostKey: nil,
                inspection: nil, roundTripMilliseconds: nil, elapsedMilliseconds: elapsed(), error: error)
        }
        var result = ServerCheck(
            server: server, status: .ok, hostKey: session.hostKey, inspection: nil,
            roundTripMilliseconds: nil, elapsedMilliseconds: 0, error: nil)
        do {
            let sent = Deadline.now
            _ = try await session.perform(.ping(PingArguments()))
            result.roundTripMilliseconds = Double(Deadline.now.uptimeNanoseconds - sent.uptimeNanoseconds) / 1_000_000
            if case let .inspection(inspection) = try await session.perform(.inspect, timeout: max(settings.timeout, 60)) {
                result.inspection = inspection
            }
            if let database {
                // Every section to NEW, each keeping its catalog: the logins a move there needs.
                let targets = DatabaseTargets(all: DatabaseTarget(server: database, catalog: nil))
                if case let .loginCheck(logins) = try await session.perform(
                    .checkLogins(LoginCheckArguments(targets: targets, timeoutSeconds: min(15, settings.timeout))), timeout: max(settings.timeout, 60) * 3)
                {
                    result.logins = logins
                    if !logins.passed { result.status = .failed }
                }
            }
        } catch {
            // A server that stopped answering (its keepalives) is unreachable, not failed.
            result.status = error.isUnreachable ? .unreachable : .failed
            result.error = error
        }
        await session.close()
        result.elapsedMilliseconds = elapsed()
        return result
    }
}

/// Runs an async body over items with at most `concurrency` at once; results keep the input order.
public enum BoundedFanOut {
    public static func map<Item: Sendable, Output: Sendable>(
        _ items: [Item], concurrency: Int, _ body: @escaping @Sendable (Item) async -> Output
    ) async -> [Output] {
        await withTaskGroup(of: (Int, Output).self) { group in
            var results = [Output?](repeating: nil, count: items.count)
            var next = 0
            for _ in 0..<min(max(1, concurrency), items.count) {
                let index = next
                group.addTask { (index, await body(items[index])) }
                next += 1
            }
            while let (index, output) = await group.next() {
                results[index] = output
                if next < items.count {
                    let index = next
                    group.addTask { (index, await body(items[index])) }
                    next += 1
                }
            }
            return results.map { $0! }
        }
    }
}

extension AgentSession {
    /// Opens a session with `server`, runs `body` with it and closes it, whatever `body` does;
    /// a failure anywhere comes back as the session error that says whether the server was reached.
    static func withSession(
        _ server: ServerEntry, settings: ConnectionSettings, _ body: (AgentSession) async throws -> Void
    ) async -> AgentSessionError? {
        do {
            let session = try await AgentSession.open(server, options: settings.options(for: server), timeout: settings.timeout)
            do {
                try await body(session)
            } catch {
                await session.close()
                throw error
            }
            await session.close()
            return nil
        } catch {
            return AgentSessionError.wrap(error)
        }
    }
}
