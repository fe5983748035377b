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
        let results = await BoundedFanOut.map(servers, concurrency: FarmCheck.defaultConcurrency) { server -> Opened in
            do throws(AgentSessionError) {
                return Opened(name: server.name, agent: try await open(server, settings), failure: nil)
            } catch {
                return Opened(name: server.name, agent: nil, failure: error)
            }
        }
        var agents: [String: any AgentClient] = [:], failures: [String: AgentSessionError] = [:]
        for result in results {
            if let agent = result.agent { agents[result.name] = agent }
            if let failure = result.failure { failures[result.name] = failure }
        }
        return (agents, failures)
    }

    /// One server's opening: its agent, or why not. A struct, not a tuple holding a
    /// `Result<any AgentClient, AgentSessionError>`: the release build of that tuple as a task
    /// group's child result crashed in the runtime's copy of it (swift 6.3.1, static stdlib).
    private struct Opened: Sendable {
        var name: String
        var agent: (any AgentClient)?
        var failure: AgentSessionError?
    }

    /// Ends every agent, in parallel.
    public static func closeAll(_ agents: [String: any AgentClient]) async {
        await withTaskGroup(of: Void.self) { group in
            for agent in agents.values { group.addTask { await agent.close() } }
        }
    }
}
