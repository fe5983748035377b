import FarmProtocol
import FarmSSH
import Foundation
import Logging

/// The controller's side of one session with one server's agent: one SSH connection, one agent
/// process, requests sent one at a time.
///
/// A request succeeds only when the agent's final result says so. If the agent's output ends
/// first, the request failed ("ended without a result"), whatever exit status libssh2 reports.
///
/// Every request is bounded twice, and both bounds hold while data flows: `timeout` is the
/// longest silence (no message at all for that long fails it), `overall` bounds the request as a
/// whole, however much the agent talks. A line over the protocol's limit fails it at once. A server
/// that stops answering fails it as `connectionLost` within its SSH keepalives (interval × count,
/// see `SSHTimeouts`), whatever the request's own deadlines.
///
/// Safe to share between tasks: all mutable state is behind `lock`, and requests take turns (a
/// second `perform` waits until the first one has its answer), so ids and replies never mix.
public final class AgentSession: @unchecked Sendable {
    public let server: ServerEntry
    public let hello: Hello
    public let hostKey: HostKey
    public let negotiatedAlgorithms: String
    private let connection: SSHConnection
    private let channel: ExecChannel
    private let timeout: Double
    /// Each request and answer (secrets redacted), at debug level: a run's debug.log keeps them.
    private let logger: Logger

    private let lock = NSLock()
    // Guarded by `lock`:
    private var nextRequest = 1
    private var reader = AgentReplyReader()
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []
    /// Why the session cannot carry another request (the connection or the channel is gone, or
    /// the agent broke the protocol).
    private var broken: AgentSessionError?

    private init(server: ServerEntry, connection: SSHConnection, channel: ExecChannel, hello: Hello, timeout: Double) {
        self.server = server
        self.connection = connection
        self.channel = channel
        self.hello = hello
        self.timeout = timeout
        hostKey = connection.hostKey
        negotiatedAlgorithms = connection.negotiatedAlgorithms
        var logger = Logger(label: "osfarm.session")
        logger[metadataKey: "server"] = "\(server.name)"
        self.logger = logger
        // --verbose shows each connection and each request's outcome (the wire itself under --debug).
        logger.info(
            "connected to \(server.address) (host key \(connection.hostKey.fingerprint)); agent \(hello.agentVersion) (protocol \(hello.protocolVersion)) on \(hello.host.hostname), heartbeat \(hello.heartbeatSeconds.map { "\($0) s" } ?? "none")"
        )
    }

    /// Connects, starts the agent and reads its hello. `timeout` bounds every phase.
    public static func open(_ server: ServerEntry, options: SSHOptions, timeout: Double) async throws(AgentSessionError) -> AgentSession {
        let connection: SSHConnection
        do {
            connection = try await SSHConnection.connect(to: server.endpoint, options: options)
        } catch let error as SSHError {
            var logger = Logger(label: "osfarm.session")
            logger[metadataKey: "server"] = "\(server.name)"
            logger.info("cannot connect to \(server.address): \(error)")
            throw .unreachable(error)
        } catch {
            throw AgentSessionError.wrap(error)
        }
        do {
            let channel = try await connection.exec(server.agentCommand)
            let (hello, preamble) = try await readHello(channel, timeout: timeout)
            guard hello.protocolVersion.isCompatible(with: .current) else {
                throw AgentSessionError.versionMismatch(agent: hello.protocolVersion, agentVersion: hello.agentVersion)
            }
            let session = AgentSession(server: server, connection: connection, channel: channel, hello: hello, timeout: timeout)
            if !preamble.lines.isEmpty {
                session.logger.debug(
                    "the shell printed \(preamble.byteCount) bytes before the agent's hello, skipped: \(preamble.lines.joined(separator: " | "))")
            }
            return session
        } catch {
            await connection.close()
            throw AgentSessionError.wrap(error)
        }
    }

    /// Reads up to the agent's hello, skipping what the server's shell printed before it
    /// (`ShellPreamble`) within the hello's deadline.
    private static func readHello(_ channel: ExecChannel, timeout: Double) async throws -> (Hello, ShellPreamble) {
        let deadline = Deadline.after(seconds: timeout)
        var preamble = ShellPreamble()
        while true {
            let item: LineFramer.Item?
            do {
                item = try await channel.readLine(deadline: deadline, seconds: timeout, phase: "waiting for the agent's hello")
            } catch SSHError.timedOut(let phase, let seconds) where !preamble.lines.isEmpty {
                throw preamble.failure(ended: "no hello within \(Int(seconds.rounded())) s (\(phase))")
            }
            guard let item else {
                let exit = await describeExit(channel)
                if !preamble.lines.isEmpty { throw preamble.failure(ended: "the output ended (\(exit))") }
                throw AgentSessionError.endedBeforeHello(exit: exit, stderrTail: channel.stderr.tail)
            }
            if let hello = try preamble.read(item) { return (hello, preamble) }
        }
    }

    /// Sends one request and waits for its result, passing progress events on.
    ///
    /// - Parameters:
    ///   - timeout: the longest silence allowed, in seconds (default: the session's): "no news for
    ///     this long" fails the request; every message from the agent is news.
    ///   - overall: the whole request, however much the agent talks (default: `timeout`).
    public func perform(
        _ operation: AgentOperation, context: RequestContext? = nil, timeout: Double? = nil, overall: Double? = nil,
        progress: (ProgressEvent) -> Void = { _ in }
    ) async throws(AgentSessionError) -> ResultData {
        await takeTurn()
        defer { passTurn() }
        let (id, refusal) = lock.withLock { () -> (String, AgentSessionError?) in
            let id = String(nextRequest)
            nextRequest += 1
            if broken == nil { reader.begin(id: id, operation: operation.name) }
            return (id, broken)
        }
        let request = "\(operation.name) (request \(id))"
        if let refusal { throw Self.refusal(refusal, request: request) }

        let silence = timeout ?? self.timeout
        let whole = overall ?? silence
        let began = Date()
        let end = Deadline.after(seconds: whole)
        let wholePhase = "\(request) as a whole"
        var sent = false
        do {
            let outgoing = Request(id: id, operation: operation, context: context)
            let line = try WireCodec.encode(outgoing)
            if logger.logLevel <= .debug, let record = try? WireCodec.encodeForRecord(outgoing) { logger.debug("→ \(record)") }
            try await channel.write(line, deadline: Deadline.after(seconds: silence).earlier(than: end), seconds: silence)
            sent = true
            while true {
                let quiet = Deadline.after(seconds: silence)
                let byEnd = end <= quiet
                let stderrBefore = channel.stderrBytes
                let item: LineFramer.Item?
                do {
                    item = try await channel.readLine(
                        deadline: byEnd ? end : quiet, seconds: byEnd ? whole : silence,
                        phase: byEnd ? wholePhase : "waiting for the agent's answer to \(operation.name)")
                } catch SSHError.timedOut where !byEnd {
                    // Silence, not the request's whole deadline. An agent that sends heartbeats
                    // would have sent several by now: when not a byte came (not even on stderr),
                    // the server stopped answering; an agent that talks but never answers failed.
                    guard let heartbeat = hello.heartbeatSeconds, heartbeat > 0, silence > heartbeat,
                        channel.stderrBytes == stderrBefore
                    else { throw SSHError.timedOut(phase: "waiting for the agent's answer to \(operation.name)", seconds: silence) }
                    throw AgentSessionError.stoppedAnswering(request: request, seconds: silence, heartbeatSeconds: heartbeat)
                }
                guard let item else {
                    throw AgentSessionError.endedWithoutResult(request: request, exit: await Self.describeExit(channel), stderrTail: channel.stderr.tail)
                }
                let reply = try lock.withLock { () throws(AgentSessionError) -> AgentReplyReader.Reply? in try reader.read(item) }
                switch reply {
                case let .progress(event)?:
                    if !event.isHeartbeat { logger.debug("← \(id) progress: \(event.message)") }
                    progress(event)
                case let .result(data)?:
                    logger.info("\(request): answered in \(String(format: "%.1f", Date().timeIntervalSince(began))) s")
                    if logger.logLevel <= .debug, let record = try? WireCodec.encodeForRecord(.result(requestID: id, .ok(data))) {
                        logger.debug("← \(record.prefix(4096))")
                    }
                    return data
                case nil: break
                }
                if end.hasPassed { throw SSHError.timedOut(phase: wholePhase, seconds: whole) }
            }
        } catch {
            let failure = AgentSessionError.wrap(error)
            logger.info("\(request) failed: \(failure)")
            lock.withLock {
                switch failure {
                case .agentFailed:
                    break  // a typed answer: the stream is in step
                case .ssh(.timedOut) where sent:
                    reader.abandonPending()  // its late messages will be skipped
                default:
                    reader.abandonPending()
                    if broken == nil { broken = failure }
                }
            }
            throw failure
        }
    }

    /// What a request gets once the session is broken: the same kind of error, naming this request.
    private static func refusal(_ broken: AgentSessionError, request: String) -> AgentSessionError {
        switch broken {
        case .connectionLost, .unreachable, .stoppedAnswering:
            return broken
        case let .endedWithoutResult(_, exit, tail), let .endedBeforeHello(exit, tail):
            return .endedWithoutResult(request: request, exit: exit, stderrTail: tail)
        default:
            return .protocolViolation("\(request) not sent: the session failed earlier (\(broken))")
        }
    }

    /// Waits until no other request is in flight on this session, then holds the turn.
    private func takeTurn() async {
        await withCheckedContinuation { (turn: CheckedContinuation<Void, Never>) in
            let now = lock.withLock { () -> Bool in
                guard busy else {
                    busy = true
                    return true
                }
                waiting.append(turn)
                return false
            }
            if now { turn.resume() }
        }
    }

    /// Hands the turn to the next waiting request, if any.
    private func passTurn() {
        let next = lock.withLock { () -> CheckedContinuation<Void, Never>? in
            guard !waiting.isEmpty else {
                busy = false
                return nil
            }
            return waiting.removeFirst()
        }
        next?.resume()
    }

    /// Ends the agent (end of input) and the connection; bounded by the close timeout.
    public func close() async {
        _ = try? await channel.finish(deadline: .after(seconds: 2), seconds: 2)
        await connection.close()
    }

    /// The agent's stderr so far (last 64 KiB) and its total size.
    public var agentStderr: (tail: String, totalBytes: Int) { channel.stderr }

    private static func describeExit(_ channel: ExecChannel) async -> String {
        guard let exit = try? await channel.finish(deadline: .after(seconds: 2), seconds: 2) else { return "no exit status" }
        if let signal = exit.signal { return "killed by signal \(signal)" }
        return "exit status \(exit.status) as libssh2 reports it"
    }
}
