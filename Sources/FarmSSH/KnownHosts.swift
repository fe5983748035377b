import FarmProtocol
import Foundation

/// A problem with a known_hosts file, naming the file and the line.
public enum KnownHostsError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case badLine(path: String, line: Int, reason: String)
    case certificateAuthorityUnsupported(path: String, line: Int)
    case unwritable(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "cannot read known_hosts file \(path): \(reason)"
        case let .badLine(path, line, reason):
            return "\(path) line \(line): \(reason)"
        case let .certificateAuthorityUnsupported(path, line):
            return "\(path) line \(line): @cert-authority entries are not supported (libssh2 1.10 cannot verify host certificates); "
                + "list the server's own host key instead"
        case let .unwritable(path, reason):
            return "cannot add to known_hosts file \(path): \(reason)"
        }
    }
}

/// A server's host key as it presented it.
public struct HostKey: Sendable, Equatable {
    /// The SSH key type name, e.g. "ssh-ed25519".
    public let type: String
    /// The public key blob (what known_hosts holds in base64).
    public let blob: [UInt8]

    public init(type: String, blob: [UInt8]) {
        self.type = type
        self.blob = blob
    }

    /// The key type read from the blob itself (its first SSH string).
    public init?(blob: [UInt8]) {
        guard blob.count >= 4 else { return nil }
        let length = Int(blob[0]) << 24 | Int(blob[1]) << 16 | Int(blob[2]) << 8 | Int(blob[3])
        guard length > 0, length <= 64, blob.count >= 4 + length,
            let type = String(bytes: blob[4..<4 + length], encoding: .utf8)
        else { return nil }
        self.init(type: type, blob: blob)
    }

    /// The fingerprint as OpenSSH prints it: `SHA256:` and unpadded base64.
    public var fingerprint: String {
        var encoded = Data(SHA256.hash(blob)).base64EncodedString()
        while encoded.hasSuffix("=") { encoded.removeLast() }
        return "SHA256:" + encoded
    }

    /// The known_hosts line that names this key for `host:port`.
    public func knownHostsLine(host: String, port: Int) -> String {
        "\(KnownHosts.lookupName(host: host, port: port)) \(type) \(Data(blob).base64EncodedString())"
    }
}

/// An OpenSSH known_hosts file, read with OpenSSH's meaning:
/// - a server on port 22 is looked up by its name, on any other port as `[name]:port`, so a port-less
///   entry never vouches for another port;
/// - patterns may be comma lists with `*` and `?` wildcards and `!` negations, or hashed `|1|salt|hash`;
/// - `@revoked` refuses the key; `@cert-authority` is reported as unsupported;
/// - a line that cannot be parsed is an error naming the file and the line.
public struct KnownHosts: Sendable {
    public enum Marker: Sendable, Equatable { case none, revoked, certificateAuthority }

    public struct Entry: Sendable {
        public let line: Int
        public let marker: Marker
        let patterns: HostPatterns
        public let key: HostKey
    }

    public enum Verdict: Sendable, Equatable {
        case match(line: Int)
        case unknown
        case changed(lines: [Int])
        case revoked(line: Int)
    }

    public let path: String
    public let entries: [Entry]

    /// Reads the file; a missing file is an empty list.
    public static func load(path: String) throws(KnownHostsError) -> KnownHosts {
        guard FileManager.default.fileExists(atPath: path) else { return KnownHosts(path: path, entries: []) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadable(path: path, reason: "permission denied or not a file")
        }
        return try parse(String(decoding: data, as: UTF8.self), path: path)
    }

    private static let cacheLock = NSLock()
    nonisolated(unsafe) private static var cache: [String: (stamp: FileStamp, hosts: KnownHosts)] = [:]

    /// The file as `load` reads it, parsed again only when it changed since this process last read
    /// it (its inode, size or modification time): every connection checks its host key against
    /// the file, and parsing a 128-line file for each of 128 servers was a fifth of `osfarm
    /// check`'s CPU. A file changed between the look and the read is cached under the older
    /// stamp, so the next connection reads it again. The parse happens under the lock: the
    /// connections that start together (32 at once by default) wait for one parse instead of each
    /// doing its own (they run on their own session threads, never on Swift's cooperative pool).
    public static func loadShared(path: String) throws(KnownHostsError) -> KnownHosts {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        guard let stamp = FileStamp(path: path) else { return try load(path: path) }
        if let cached = cache[path], cached.stamp == stamp { return cached.hosts }
        let hosts = try load(path: path)
        cache[path] = (stamp, hosts)
        return hosts
    }

    private static let lineSpace = CharacterSet.whitespaces.union(CharacterSet(charactersIn: "\r"))

    public static func parse(_ text: String, path: String) throws(KnownHostsError) -> KnownHosts {
        var entries: [Entry] = []
        for (index, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let lineNumber = index + 1
            let line = rawLine.trimmingCharacters(in: lineSpace)
            if line.isEmpty || line.hasPrefix("#") { continue }
            var fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            var marker = Marker.none
            if let first = fields.first, first.hasPrefix("@") {
                switch first {
                case "@revoked": marker = .revoked
                case "@cert-authority": marker = .certificateAuthority
                default: throw .badLine(path: path, line: lineNumber, reason: "unknown marker \(first)")
                }
                fields.removeFirst()
            }
            guard fields.count >= 3 else {
                throw .badLine(path: path, line: lineNumber, reason: "expected host patterns, key type and base64 key")
            }
            guard let blob = Data(base64Encoded: fields[2]), let key = HostKey(blob: Array(blob)) else {
                throw .badLine(path: path, line: lineNumber, reason: "the key is not valid base64 of an SSH public key")
            }
            guard key.type == fields[1] else {
                throw .badLine(path: path, line: lineNumber, reason: "key type \(fields[1]) does not match the key, which is \(key.type)")
            }
            let patterns: HostPatterns
            do {
                patterns = try HostPatterns(fields[0])
            } catch {
                throw .badLine(path: path, line: lineNumber, reason: error.reason)
            }
            entries.append(Entry(line: lineNumber, marker: marker, patterns: patterns, key: key))
        }
        return KnownHosts(path: path, entries: entries)
    }

    /// The name a server is looked up by: `host` on port 22, `[host]:port` elsewhere.
    public static func lookupName(host: String, port: Int) -> String {
        port == 22 ? host : "[\(host)]:\(port)"
    }

    /// Judges the key a server presented.
    public func verdict(for key: HostKey, host: String, port: Int) throws(KnownHostsError) -> Verdict {
        let name = Self.lookupName(host: host, port: port)
        let lowercased = name.lowercased()
        let forHost = entries.filter { $0.patterns.matches(name, lowercased: lowercased) }
        if let revoked = forHost.first(where: { $0.marker == .revoked && $0.key == key }) {
            return .revoked(line: revoked.line)
        }
        let plain = forHost.filter { $0.marker == .none }
        if let match = plain.first(where: { $0.key == key }) { return .match(line: match.line) }
        if !plain.isEmpty { return .changed(lines: plain.map(\.line)) }
        if let authority = forHost.first(where: { $0.marker == .certificateAuthority }) {
            throw .certificateAuthorityUnsupported(path: path, line: authority.line)
        }
        return .unknown
    }

    /// The keys this file trusts for the server (revoked and CA lines left out).
    public func keys(host: String, port: Int) -> [HostKey] {
        let name = Self.lookupName(host: host, port: port)
        return entries.filter { $0.marker == .none && $0.patterns.matches(name) }.map(\.key)
    }

    /// Key types this file knows for the server, so the handshake can ask for one of them.
    public func knownKeyTypes(host: String, port: Int) -> [String] {
        let name = Self.lookupName(host: host, port: port)
        let lowercased = name.lowercased()
        var types: [String] = []
        for entry in entries where entry.marker == .none && entry.patterns.matches(name, lowercased: lowercased) && !types.contains(entry.key.type) {
            types.append(entry.key.type)
        }
        return types
    }

    private static let appendLock = NSLock()

    /// Appends an entry for the server (accept-new, enrolment). Creates the file 0600 when missing.
    public static func append(_ key: HostKey, host: String, port: Int, to path: String) throws(KnownHostsError) {
        appendLock.lock()
        defer { appendLock.unlock() }
        let line = key.knownHostsLine(host: host, port: port) + "\n"
        let manager = FileManager.default
        do {
            if !manager.fileExists(atPath: path) {
                try manager.createDirectory(
                    at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o700])
                guard manager.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                    throw KnownHostsError.unwritable(path: path, reason: "cannot create the file")
                }
            }
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            let end = try handle.seekToEnd()
            var prefix = ""
            if end > 0 {
                try handle.seek(toOffset: end - 1)
                if try handle.read(upToCount: 1) != Data("\n".utf8) { prefix = "\n" }
                try handle.seekToEnd()
            }
            try handle.write(contentsOf: Data((prefix + line).utf8))
            try handle.synchronize()
        } catch let error as KnownHostsError {
            throw error
        } catch {
            throw .unwritable(path: path, reason: error.localizedDescription)
        }
    }
}

/// What tells one version of a file from another without reading it.
struct FileStamp: Equatable {
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var modifiedSeconds: Int
    var modifiedNanoseconds: Int

    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modifiedSeconds = Int(info.st_mtim.tv_sec)
        modifiedNanoseconds = Int(info.st_mtim.tv_nsec)
    }
}

/// The first field of a known_hosts line.
struct HostPatterns: Sendable {
    struct Invalid: Error { let reason: String }

    private enum Kind: Sendable {
        case hashed(salt: [UInt8], hash: [UInt8])
        case list([(pattern: String, negated: Bool, literal: Bool)])
    }

    private let kind: Kind

    init(_ field: String) throws(Invalid) {
        if field.hasPrefix("|") {
            let parts = field.split(separator: "|", omittingEmptySubsequences: false)
            guard parts.count == 4, parts[1] == "1" else { throw Invalid(reason: "hashed host must be |1|salt|hash") }
            guard let salt = Data(base64Encoded: String(parts[2])), let hash = Data(base64Encoded: String(parts[3])),
                salt.count == 20, hash.count == 20
            else { throw Invalid(reason: "hashed host has a bad salt or hash") }
            kind = .hashed(salt: Array(salt), hash: Array(hash))
            return
        }
        var list: [(String, Bool, Bool)] = []
        for raw in field.split(separator: ",", omittingEmptySubsequences: false) {
            var pattern = String(raw)
            let negated = pattern.hasPrefix("!")
            if negated { pattern.removeFirst() }
            guard !pattern.isEmpty else { throw Invalid(reason: "empty host pattern in \"\(field)\"") }
            list.append((pattern.lowercased(), negated, !pattern.contains("*") && !pattern.contains("?")))
        }
        kind = .list(list)
    }

    func matches(_ name: String) -> Bool { matches(name, lowercased: name.lowercased()) }

    /// With the name lowercased once by the caller: a check of 128 servers against a 128-line
    /// file matches 32 768 times. A pattern without wildcards is compared as a string.
    func matches(_ name: String, lowercased candidate: String) -> Bool {
        switch kind {
        case let .hashed(salt, hash):
            return HMACSHA1.authenticationCode(key: salt, message: Array(name.utf8)) == hash
        case let .list(patterns):
            var matched = false
            for (pattern, negated, literal) in patterns where literal ? pattern == candidate : Wildcard.matches(pattern, candidate) {
                if negated { return false }
                matched = true
            }
            return matched
        }
    }
}
