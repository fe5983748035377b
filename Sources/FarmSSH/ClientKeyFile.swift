import Foundation

/// What osfarm needs to know about a private key file before handing it to libssh2:
/// its type (to explain an RSA refusal) and whether it needs a passphrase.
public struct ClientKeyFile: Sendable, Equatable {
    public let path: String
    /// "ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa", … or nil when the format does not say.
    public let keyType: String?
    public let isEncrypted: Bool

    public var isRSA: Bool { keyType == "ssh-rsa" }

    public static func inspect(path: String) throws(SSHError) -> ClientKeyFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .keyFile(path: path, reason: FileManager.default.fileExists(atPath: path) ? "cannot be read (permissions?)" : "does not exist")
        }
        let text = String(decoding: data, as: UTF8.self)
        if text.contains("-----BEGIN OPENSSH PRIVATE KEY-----") {
            return try openSSHFormat(text, path: path)
        }
        if text.contains("-----BEGIN RSA PRIVATE KEY-----") {
            return ClientKeyFile(path: path, keyType: "ssh-rsa", isEncrypted: text.contains("ENCRYPTED"))
        }
        if text.contains("-----BEGIN EC PRIVATE KEY-----") {
            return ClientKeyFile(path: path, keyType: "ecdsa", isEncrypted: text.contains("ENCRYPTED"))
        }
        if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
            return ClientKeyFile(path: path, keyType: nil, isEncrypted: true)
        }
        if text.contains("-----BEGIN PRIVATE KEY-----") {
            return ClientKeyFile(path: path, keyType: nil, isEncrypted: false)
        }
        throw .keyFile(path: path, reason: "not a private key in OpenSSH or PEM format")
    }

    /// The "openssh-key-v1" container: magic, cipher name, KDF name, KDF options, key count, then the
    /// first public key in clear, whose first string is the key type.
    private static func openSSHFormat(_ text: String, path: String) throws(SSHError) -> ClientKeyFile {
        let body = text.components(separatedBy: "\n")
            .filter { !$0.hasPrefix("-----") }
            .joined()
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard let decoded = Data(base64Encoded: body) else {
            throw .keyFile(path: path, reason: "the OpenSSH key body is not valid base64")
        }
        var reader = SSHWireReader(Array(decoded))
        let magic = Array("openssh-key-v1".utf8) + [0]
        guard reader.take(magic.count) == magic,
            let cipher = reader.string(), reader.string() != nil, reader.lengthPrefixed() != nil,
            reader.uint32() != nil, let publicKey = reader.lengthPrefixed()
        else {
            throw .keyFile(path: path, reason: "the OpenSSH key is truncated or corrupt")
        }
        var keyReader = SSHWireReader(publicKey)
        return ClientKeyFile(path: path, keyType: keyReader.string(), isEncrypted: cipher != "none")
    }
}

/// Reads SSH wire encodings: big-endian uint32 and length-prefixed strings.
struct SSHWireReader {
    private let data: [UInt8]
    private var offset = 0

    init(_ data: [UInt8]) { self.data = data }

    mutating func take(_ count: Int) -> [UInt8]? {
        guard count >= 0, offset + count <= data.count else { return nil }
        defer { offset += count }
        return Array(data[offset..<offset + count])
    }

    mutating func uint32() -> UInt32? {
        guard let raw = take(4) else { return nil }
        return raw.reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func lengthPrefixed() -> [UInt8]? {
        guard let length = uint32() else { return nil }
        return take(Int(length))
    }

    mutating func string() -> String? {
        lengthPrefixed().flatMap { String(bytes: $0, encoding: .utf8) }
    }
}
