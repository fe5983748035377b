import FarmProtocol
import Foundation

/// The agent's side of a session: say hello, then read request lines and answer each with zero or
/// more progress events and exactly one result, until end of input or `shutdown`.
///
/// A request line that cannot be served (not JSON, unknown operation, too long, wrong version, a
/// number out of its documented range) gets a typed error and the loop goes on; only a request
/// for another major protocol version ends it, because nothing that follows can be understood.
/// An answer too long for one protocol line becomes an `oversize_result` error for that request.
public final class RequestLoop: @unchecked Sendable {
    /// How often a request that is still running says so (a heartbeat progress event).
    public static let defaultHeartbeatSeconds = 5.0

    public typealias ChunkReader = () -> [UInt8]?
    public typealias LineWriter = ([UInt8]) throws -> Void
    /// Runs one decoded operation, passing progress events on, and returns its outcome.
    public typealias Performer = (AgentOperation, @escaping (ProgressEvent) -> Void) -> Outcome

    /// A progress message longer than this is cut (a tool can print anything on one line).
    public static let maxProgressMessageBytes = 16 * 1024

    private let hello: () -> Hello
    private let perform: Performer
    private let input: SessionInput
    private let writeLine: LineWriter
    private let log: AgentLog
    private let heartbeatSeconds: Double
    /// Progress, heartbeats and results come from more than one thread; lines must not interleave.
    private let writeLock = NSLock()
    private var framer = LineFramer()
    private let changes: ChangeGuard?

    public convenience init(
        operations: ServerOperations, readChunk: @escaping ChunkReader, writeLine: @escaping LineWriter, log: AgentLog,
        heartbeatSeconds: Double = RequestLoop.defaultHeartbeatSeconds
    ) {
        self.init(
            hello: operations.hello, perform: { operations.perform($0, progress: $1) }, readChunk: readChunk, writeLine: writeLine,
            log: log, heartbeatSeconds: heartbeatSeconds,
            changes: ChangeGuard(environment: operations.environment, processID: ProcessInfo.processInfo.processIdentifier))
    }

    /// `changes`: the claim and step records changing requests go through (nil in tests of the loop alone).
    public init(
        hello: @escaping () -> Hello, perform: @escaping Performer, readChunk: @escaping ChunkReader,
        writeLine: @escaping LineWriter, log: AgentLog, heartbeatSeconds: Double = RequestLoop.defaultHeartbeatSeconds,
        changes: ChangeGuard? = nil
    ) {
        self.hello = hello
        self.perform = perform
        self.input = SessionInput(readChunk)
        self.writeLine = writeLine
        self.log = log
        self.heartbeatSeconds = heartbeatSeconds
        self.changes = changes
    }

    /// Runs the session to its end. Returns normally on end of input or shutdown; throws only when
    /// the output can no longer be written.
    public func run() throws {
        defer { changes?.end() }
        var greeting = hello()
        greeting.heartbeatSeconds = heartbeatSeconds
        try send(.hello(greeting))
        input.start()
        while let chunk = input.next() {
            for item in framer.feed(chunk) {
                guard try serve(item) else { return }
            }
        }
        if let rest = framer.finish() { _ = try serve(rest) }
        log.info("end of input; session over")
    }

    /// Serves one framed line; false when the session must end.
    private func serve(_ item: LineFramer.Item) throws -> Bool {
        switch item {
        case let .oversize(count):
            log.warning("refused a request line of \(count) bytes")
            try send(
                .result(
                    requestID: nil,
                    .failure(
                        AgentError(
                            .oversizeRequest, "a request line of \(count) bytes is over the \(WireCodec.maxLineBytes)-byte limit"))))
            return true
        case let .line(bytes):
            if bytes.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) { return true }
            let request: Request
            do {
                request = try WireCodec.decodeRequest(bytes)
            } catch {
                log.warning("refused a request: \(error.error)")
                try send(.result(requestID: error.requestID, .failure(error.error)))
                return error.error.code != .versionMismatch
            }
            log.info("request \(request.id): \(request.operation.name)")
            let operation = request.operation.name
            let heartbeat = Heartbeat(interval: heartbeatSeconds) { [weak self] in
                try? self?.send(.progress(requestID: request.id, ProgressEvent(step: operation, message: "working", heartbeat: true)))
            }
            let progress: (ProgressEvent) -> Void = { [weak self] event in
                try? self?.send(.progress(requestID: request.id, Self.bounded(event)))
            }
            let outcome: Outcome
            if let changes, request.operation.kind.changesServer {
                outcome = changes.perform(request, say: { progress(ProgressEvent(step: operation, message: $0)) }, inputEnded: { [input] in input.hasEnded }) {
                    perform(request.operation, progress)
                }
            } else {
                outcome = perform(request.operation, progress)
            }
            heartbeat.stop()
            try answer(request, outcome)
            if case .failure(let error) = outcome { log.warning("request \(request.id) failed: \(error)") }
            if case .shutdown = request.operation { return false }
            return true
        }
    }

    /// Sends the request's result; one too long for a protocol line is replaced by a typed error,
    /// so the controller learns what happened and the session goes on.
    private func answer(_ request: Request, _ outcome: Outcome) throws {
        let line: [UInt8]
        do {
            line = try WireCodec.encode(AgentMessage.result(requestID: request.id, outcome))
        } catch {
            let replacement: AgentError
            if case let WireError.oversizeLine(count) = error {
                replacement = AgentError(
                    .oversizeResult,
                    "the answer to \(request.operation.name) would be \(count) bytes, over the \(WireCodec.maxLineBytes)-byte line limit")
            } else {
                replacement = AgentError(.internalError, "the answer to \(request.operation.name) cannot be encoded: \(error)")
            }
            log.warning("request \(request.id): \(replacement.message)")
            try send(.result(requestID: request.id, .failure(replacement)))
            return
        }
        try writeLock.withLock { try writeLine(line) }
    }

    static func bounded(_ event: ProgressEvent) -> ProgressEvent {
        guard event.message.utf8.count > maxProgressMessageBytes || event.step.utf8.count > 256 else { return event }
        func cut(_ text: String, _ limit: Int) -> String {
            text.utf8.count <= limit ? text : String(decoding: text.utf8.prefix(limit), as: UTF8.self) + "…"
        }
        return ProgressEvent(step: cut(event.step, 256), message: cut(event.message, maxProgressMessageBytes))
    }

    private func send(_ message: AgentMessage) throws {
        let line = try WireCodec.encode(message)
        try writeLock.withLock { try writeLine(line) }
    }
}
