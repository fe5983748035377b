import Foundation

/// The session's input, read ahead on a thread of its own: the request loop takes its chunks from
/// here, and anything that waits (for the server's claim) can ask at any moment whether the input
/// has ended, that is, whether the controller that sent the request is gone (stdin closed: its
/// session ended or its process died). An agent whose session is gone gives up its wait and does
/// not act: nobody would hear what it did, and the server may have been taken back meanwhile.
final class SessionInput: @unchecked Sendable {
    /// Read-ahead stops at this many bytes not yet taken (a controller sends one request at a time).
    static let maxBufferedBytes = 4 * 1024 * 1024

    private let condition = NSCondition()
    private var chunks: [[UInt8]] = []
    private var buffered = 0
    private var ended = false
    private let read: RequestLoop.ChunkReader

    init(_ read: @escaping RequestLoop.ChunkReader) { self.read = read }

    func start() {
        Thread { [self] in
            while let chunk = read() {
                condition.withLock {
                    while buffered > Self.maxBufferedBytes { condition.wait() }
                    chunks.append(chunk)
                    buffered += chunk.count
                    condition.broadcast()
                }
            }
            condition.withLock {
                ended = true
                condition.broadcast()
            }
        }.start()
    }

    /// The next chunk, waiting for one; nil once the input has ended and every chunk was taken.
    func next() -> [UInt8]? {
        condition.withLock {
            while chunks.isEmpty && !ended { condition.wait() }
            guard !chunks.isEmpty else { return nil }
            let chunk = chunks.removeFirst()
            buffered -= chunk.count
            condition.broadcast()
            return chunk
        }
    }

    /// True once the input has ended.
    var hasEnded: Bool { condition.withLock { ended } }
}
