/// Splits a byte stream into newline-delimited lines, enforcing the protocol's line limit.
///
/// A line longer than the limit is not buffered: its bytes are counted and dropped up to the
/// next newline, and one `.oversize` is reported in its place, so a reader can answer with an
/// error and go on with the following line.
///
/// With `reportsOversizeAtLimit`, the `.oversize` comes as soon as the limit is passed instead of
/// at the line's end: a reader that treats an oversize line as fatal (the controller) then never
/// waits for a newline that may never come.
public struct LineFramer: Sendable {
    public enum Item: Sendable, Equatable {
        case line([UInt8])
        case oversize(byteCount: Int)
    }

    public let maxLineBytes: Int
    public let reportsOversizeAtLimit: Bool
    private var pending: [UInt8] = []
    private var discarding = false
    private var discardedCount = 0

    public init(maxLineBytes: Int = WireCodec.maxLineBytes, reportsOversizeAtLimit: Bool = false) {
        self.maxLineBytes = max(1, maxLineBytes)
        self.reportsOversizeAtLimit = reportsOversizeAtLimit
    }

    /// Bytes received but not yet ended by a newline.
    public var pendingByteCount: Int { discarding ? discardedCount : pending.count }

    public mutating func feed<Bytes: Collection>(_ bytes: Bytes) -> [Item] where Bytes.Element == UInt8 {
        if let items = bytes.withContiguousStorageIfAvailable({ feed(contiguous: $0) }) { return items }
        var items: [Item] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                endLine(into: &items)
                continue
            }
            if discarding {
                discardedCount &+= 1
            } else if pending.count >= maxLineBytes {
                discarding = true
                discardedCount = pending.count + 1
                pending = []
                if reportsOversizeAtLimit { items.append(.oversize(byteCount: discardedCount)) }
            } else {
                pending.append(byte)
            }
        }
        return items
    }

    /// The same as the byte loop above, a stretch at a time: the bytes up to each newline are
    /// found and copied at once. A caller in another module reaches `feed` unspecialized, and the
    /// byte loop then cost a generic iterator call per byte: a fifth of the controller's
    /// instructions for an `inspect` answer.
    public mutating func feed(contiguous bytes: UnsafeBufferPointer<UInt8>) -> [Item] {
        var items: [Item] = []
        var start = 0
        while start < bytes.count {
            let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n"))
            let stretch = UnsafeBufferPointer(rebasing: bytes[start..<(newline ?? bytes.count)])
            if discarding {
                discardedCount &+= stretch.count
            } else if pending.count + stretch.count <= maxLineBytes {
                pending.append(contentsOf: stretch)
            } else {
                // As the byte loop: pending fills to the limit, the next byte starts the discard,
                // and every byte of the line so far is counted.
                discarding = true
                discardedCount = pending.count + stretch.count
                pending = []
                if reportsOversizeAtLimit { items.append(.oversize(byteCount: maxLineBytes + 1)) }
            }
            guard let newline else { break }
            endLine(into: &items)
            start = newline + 1
        }
        return items
    }

    /// A newline: the line pending is complete (its CR dropped), or the oversized line being
    /// discarded is reported, once, when it was not already at the limit.
    private mutating func endLine(into items: inout [Item]) {
        if discarding {
            if !reportsOversizeAtLimit { items.append(.oversize(byteCount: discardedCount)) }
            discarding = false
            discardedCount = 0
        } else {
            if pending.last == UInt8(ascii: "\r") { pending.removeLast() }
            items.append(.line(Self.rightSizedCopy(of: pending)))
            pending.removeAll(keepingCapacity: true)
        }
    }

    /// A copy whose buffer holds just the line. Handing out `pending` itself shares its buffer,
    /// and the `removeAll(keepingCapacity:)` after it then allocates a fresh one as large as the
    /// longest line so far, for every line: heartbeats queued behind a `--parallel` slot each held
    /// kilobytes that way. (`Array(pending)` would share the buffer too.)
    private static func rightSizedCopy(of bytes: [UInt8]) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: bytes.count) { buffer, initialized in
            initialized = buffer.initialize(fromContentsOf: bytes)
        }
    }

    /// At end of input: the unterminated rest, if any.
    public mutating func finish() -> Item? {
        defer {
            pending = []
            discarding = false
            discardedCount = 0
        }
        if discarding { return reportsOversizeAtLimit ? nil : .oversize(byteCount: discardedCount) }
        return pending.isEmpty ? nil : .line(pending)
    }
}
