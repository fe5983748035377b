/// Replacing the agent through the agent itself (a forced-command key cannot use SFTP): the binary
/// travels in chunks inside protocol messages, is checked by SHA-256, staged beside the running
/// agent and swapped in; the previous binary is kept for a rollback.
public struct AgentUpdateBegin: Codable, Sendable, Equatable {
    /// Lower-case hex SHA-256 of the whole new binary.
    public var sha256: String
    public var size: Int

    public init(sha256: String, size: Int) {
        self.sha256 = sha256
        self.size = size
    }

    /// The largest binary the agent accepts.
    public static let maximumSize = 512 * 1024 * 1024
}

public struct AgentUpdateChunk: Codable, Sendable, Equatable {
    public var offset: Int
    /// Base64 of the chunk's bytes.
    public var data: String

    public init(offset: Int, data: String) {
        self.offset = offset
        self.data = data
    }

    /// Raw bytes per chunk: its base64 stays well under the 1 MiB line limit.
    public static let size = 512 * 1024
}

/// Where the agent stands after an update step.
public struct AgentUpdateStatus: Codable, Sendable, Equatable {
    /// The agent binary on disk now (Windows path on Windows).
    public var path: String
    public var sha256: String
    /// Bytes received so far (during a transfer).
    public var received: Int
    /// The binary kept for a rollback, if any.
    public var previousSHA256: String?

    public init(path: String, sha256: String, received: Int, previousSHA256: String?) {
        self.path = path
        self.sha256 = sha256
        self.received = received
        self.previousSHA256 = previousSHA256
    }
}
