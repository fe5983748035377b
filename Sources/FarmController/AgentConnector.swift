import Foundation

/// How the jobs reach one server's agent: over SSH in production (`.ssh`), scripted in the
/// engine's unit tests. `DatabaseMove`, `Preflight`, `resume` and `rollback` take one, so the
/// whole job runs in milliseconds on a virtual clock without a real farm.
public struct AgentConnector: Sendable {
    public var open: @Sendable (ServerEntry, ConnectionSettings) async throws(AgentSessionError) -> any AgentClient

    public init(open: @escaping @Sendable (ServerEntry, ConnectionSettings) async throws(AgentSessionError) -> any AgentClient) {
        self.open = open
    }

    /// An SSH session per server, the agent binary at the other end.
    public static let ssh = AgentConnector { server, settings throws(AgentSessionError) in
        try await AgentSession.open(server, options: settings.options(for: server), timeout: settings.timeout)
    }

    /// One agent per server, opened in parallel; the servers that did not answer, with why.
    public func openAll(_ servers: [ServerEntry], settings: ConnectionSettings) async -> ([String: any AgentClient], [String: AgentSessionError]) {
        let results = await BoundedFanOut.map(servers, concurrency: FarmCheck.defaultConcurrency) {
            server -> (String, Swift.Result<any AgentClient, AgentSessionError>) in
            do throws(AgentSessionError) {
                return (server.name, .success(try await open(server, settings)))
            } catch {
                return (server.name, .failure(error))
            }
        }
        var agents: [String: any AgentClient] = [:], failures: [String: AgentSessionError] = [:]
        for (name, result) in results {
            switch result {
            case let .success(agent): agents[name] = agent
            case let .failure(error): failures[name] = error
            }
        }
        return (agents, failures)
    }

    /// Ends every agent, in parallel.
    public static func closeAll(_ agents: [String: any AgentClient]) async {
        await withTaskGroup(of: Void.self) { group in
            for agent in agents.values { group.addTask { await agent.close() } }
        }
    }
}
