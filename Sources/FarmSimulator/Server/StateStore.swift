import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// A simulated server's state.json, changed only under an exclusive file lock so the emulated
/// programs, the network process and `farm status` can all use it at once.
public struct StateStore: Sendable {
    public let serverDirectory: String

    public init(serverDirectory: String) { self.serverDirectory = serverDirectory }

    var statePath: String { serverDirectory + "/state.json" }
    var lockPath: String { serverDirectory + "/state.lock" }

    /// Reads the state (pending states advanced), lets `body` change it, writes it back.
    @discardableResult
    public func update<T>(_ body: (inout ServerState) throws -> T) throws -> T {
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SimulatorError.badFarmRecord(path: lockPath, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 && errno == EINTR {}
        defer { flock(fd, LOCK_UN) }
        let before = try load()
        var state = before
        state.advance()
        let result = try body(&state)
        // Compared as values, not as two encodings: an emulated program is a process start per
        // sc.exe or reg.exe query, and encoding the state twice was a tenth of its CPU.
        if state != before { try save(state) }
        return result
    }

    /// The state as it is now (pending states advanced).
    public func read() throws -> ServerState {
        try update { $0 }
    }

    private func load() throws -> ServerState {
        let data = try contents()
        if let kept = LastReadState.shared.state(path: statePath, bytes: data) { return kept }
        do {
            let state = try ServerState(stateJSON: data)
            LastReadState.shared.keep(state, path: statePath, bytes: data)
            return state
        } catch {
            throw SimulatorError.badFarmRecord(path: statePath, reason: "\(error)")
        }
    }

    private func contents() throws -> [UInt8] {
        // Read with open/read: FileManager's first use is a cost at every emulated program's start.
        let fd = open(statePath, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SimulatorError.badFarmRecord(path: statePath, reason: errno == ENOENT ? "missing" : String(cString: strerror(errno))) }
        defer { close(fd) }
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw SimulatorError.badFarmRecord(path: statePath, reason: String(cString: strerror(errno))) }
            if count == 0 { break }
            data += chunk[..<count]
        }
        return data
    }

    func save(_ state: ServerState) throws {
        let bytes = state.stateJSONBytes
        try Data(bytes).write(to: URL(fileURLWithPath: statePath), options: .atomic)
        LastReadState.shared.keep(state, path: statePath, bytes: bytes)
    }
}

/// The state this process last read or wrote, with the file's bytes it was parsed from. An
/// emulated program reads the state twice (its language first, then for its operation): reading
/// the file again is cheap, parsing it is not, and bytes that are the same parse to the same state.
private final class LastReadState: @unchecked Sendable {
    static let shared = LastReadState()
    private let lock = NSLock()
    private var kept: (path: String, bytes: [UInt8], state: ServerState)?

    func state(path: String, bytes: [UInt8]) -> ServerState? {
        lock.withLock { kept.flatMap { $0.path == path && $0.bytes == bytes ? $0.state : nil } }
    }

    func keep(_ state: ServerState, path: String, bytes: [UInt8]) { lock.withLock { kept = (path, bytes, state) } }
}
