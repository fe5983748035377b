import FarmProtocol
import FarmSSH
import Foundation

/// The controller's side of one session with one server's agent: one SSH connection, one agent
/// process, requests sent one at a time.
///
/// A request succeeds only when the agent's final result says so. If the agent's output ends
/// first, the request failed ("ended without a result"), whatever exit status libssh2 reports.
public final class AgentSession: @unchecked Sendable {
    public let server: ServerEntry
    public let hello: Hello
    public let hostKey: HostKey
    public let negotiatedAlgorithms: String
    private let connection: SSHConnection
    private let channel: ExecChannel
    private var nextRequest = 1
    private let timeout: Double

    private init(server: ServerEntry, connection: SSHConnection, channel: ExecChannel, hello: Hello, timeout: Double) {
        self.server = server
        self.connection = connection
        self.channel = channel
        self.hello = hello
        self.timeout = timeout
        hostKey = connection.hostKey
        negotiatedAlgorithms = connection.negotiatedAlgorithms
    }

    /// Connects, starts the agent and reads its hello. `timeout` bounds every phase.
    public static func open(_ server: ServerEntry, options: SSHOptions, timeout: Double) async throws(AgentSessionError) -> AgentSession {
        let connection: SSHConnection
        do {
            connection = try await SSHConnection.connect(to: server.endpoint, options: options)
        } catch let error as SSHError {
            throw .unreachable(error)
        } catch {
            throw AgentSessionError.wrap(error)
        }
        do {
            let channel = try await connection.exec(server.agentCommand)
            let hello = try await readHello(channel, timeout: timeout)
            guard hello.protocolVersion.isCompatible(with: .current) else {
                throw AgentSessionError.versionMismatch(agent: hello.protocolVersion, agentVersion: hello.agentVersion)
            }
            return AgentSession(server: server, connection: connection, channel: channel, hello: hello, timeout: timeout)
        } catch {
            await connection.close()
            throw AgentSessionError.wrap(error)
        }
    }

    private static func readHello(_ channel: ExecChannel, timeout: Double) async throws -> Hello {
        let deadline = Deadline.after(seconds: timeout)
        guard let item = try await channel.readLine(deadline: deadline, seconds: timeout, phase: "waiting for the agent's hello") else {
            throw AgentSessionError.endedBeforeHello(exit: await describeExit(channel), stderrTail: channel.stderr.tail)
        }
        switch try decode(item) {
        case let .hello(hello): return hello
        default: throw AgentSessionError.protocolViolation("the agent's first message was not hello")
        }
    }

    /// Sends one request and waits for its result, passing progress events on.
    /// `timeout` (default: the session's) bounds the wait for each message.
    public func perform(_ operation: AgentOperation, context: RequestContext? = nil, timeout: Double? = nil,
                        progress: (ProgressEvent) -> Void = { _ in }) async throws(AgentSessionError) -> ResultData {
        let id = String(nextRequest)
        nextRequest += 1
        let seconds = timeout ?? self.timeout
        do {
            let request = Request(id: id, operation: operation, context: context)
            try await channel.write(try WireCodec.encode(request), deadline: .after(seconds: seconds), seconds: seconds)
            while true {
                let phase = "waiting for the agent's answer to \(operation.name)"
                guard let item = try await channel.readLine(deadline: .after(seconds: seconds), seconds: seconds, phase: phase) else {
                    throw AgentSessionError.endedWithoutResult(
                        request: "\(operation.name) (request \(id))", exit: await Self.describeExit(channel), stderrTail: channel.stderr.tail)
                }
                switch try Self.decode(item) {
                case let .progress(requestID, event) where requestID == id:
                    progress(event)
                case let .result(requestID, outcome) where requestID == id:
                    switch outcome {
                    case let .ok(data):
                        guard data.operationName == operation.name else {
                            throw AgentSessionError.protocolViolation("the result for \(operation.name) carries data for \(data.operationName)")
                        }
                        return data
                    case let .failure(error):
                        throw AgentSessionError.agentFailed(operation: operation.name, error)
                    }
                case let .result(nil, .failure(error)):
                    throw AgentSessionError.protocolViolation("the agent could not read request \(id): \(error)")
                default:
                    throw AgentSessionError.protocolViolation("unexpected message while waiting for request \(id)")
                }
            }
        } catch {
            throw AgentSessionError.wrap(error)
        }
    }

    /// Ends the agent (end of input) and the connection; bounded by the close timeout.
    public func close() async {
        _ = try? await channel.finish(deadline: .after(seconds: 2), seconds: 2)
        await connection.close()
    }

    /// The agent's stderr so far (last 64 KiB) and its total size.
    public var agentStderr: (tail: String, totalBytes: Int) { channel.stderr }

    private static func decode(_ item: LineFramer.Item) throws -> AgentMessage {
        switch item {
        case let .oversize(count):
            throw AgentSessionError.protocolViolation(WireError.oversizeLine(byteCount: count).description)
        case let .line(bytes):
            do {
                return try WireCodec.decodeAgentMessage(bytes)
            } catch {
                throw AgentSessionError.protocolViolation(error.description)
            }
        }
    }

    private static func describeExit(_ channel: ExecChannel) async -> String {
        guard let exit = try? await channel.finish(deadline: .after(seconds: 2), seconds: 2) else { return "no exit status" }
        if let signal = exit.signal { return "killed by signal \(signal)" }
        return "exit status \(exit.status) as libssh2 reports it"
    }
}
