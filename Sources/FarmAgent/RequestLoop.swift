import FarmProtocol
import Foundation

/// The agent's side of a session: say hello, then read request lines and answer each with zero or
/// more progress events and exactly one result, until end of input or `shutdown`.
///
/// A request line that cannot be served (not JSON, unknown operation, too long, wrong version) gets
/// a typed error and the loop goes on; only a request for another major protocol version ends it,
/// because nothing that follows can be understood.
public final class RequestLoop: @unchecked Sendable {
    /// How often a request that is still running says so (a heartbeat progress event).
    public static let defaultHeartbeatSeconds = 5.0

    public typealias ChunkReader = () -> [UInt8]?
    public typealias LineWriter = ([UInt8]) throws -> Void

    private let operations: ServerOperations
    private let readChunk: ChunkReader
    private let writeLine: LineWriter
    private let log: AgentLog
    private let heartbeatSeconds: Double
    /// Progress, heartbeats and results come from more than one thread; lines must not interleave.
    private let writeLock = NSLock()
    private var framer = LineFramer()
    private let changes: ChangeGuard

    public init(operations: ServerOperations, readChunk: @escaping ChunkReader, writeLine: @escaping LineWriter, log: AgentLog,
                heartbeatSeconds: Double = RequestLoop.defaultHeartbeatSeconds) {
        self.operations = operations
        self.readChunk = readChunk
        self.writeLine = writeLine
        self.log = log
        self.heartbeatSeconds = heartbeatSeconds
        self.changes = ChangeGuard(environment: operations.environment, processID: ProcessInfo.processInfo.processIdentifier)
    }

    /// Runs the session to its end. Returns normally on end of input or shutdown; throws only when
    /// the output can no longer be written.
    public func run() throws {
        defer { changes.end() }
        var hello = operations.hello()
        hello.heartbeatSeconds = heartbeatSeconds
        try send(.hello(hello))
        while let chunk = readChunk() {
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
            try send(.result(requestID: nil, .failure(AgentError(
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
            let progress: ServerOperations.ProgressSink = { [weak self] event in
                try? self?.send(.progress(requestID: request.id, event))
            }
            let outcome = request.operation.kind.changesServer
                ? changes.perform(request, say: { progress(ProgressEvent(step: operation, message: $0)) }) { operations.perform(request.operation, progress: progress) }
                : operations.perform(request.operation, progress: progress)
            heartbeat.stop()
            try send(.result(requestID: request.id, outcome))
            if case .failure(let error) = outcome { log.warning("request \(request.id) failed: \(error)") }
            if case .shutdown = request.operation { return false }
            return true
        }
    }

    private func send(_ message: AgentMessage) throws {
        let line = try WireCodec.encode(message)
        try writeLock.withLock { try writeLine(line) }
    }
}
