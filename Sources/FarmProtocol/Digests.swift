import Crypto
import Foundation

// osfarm's digests, backed by swift-crypto (BoringSSL on Linux and Windows, CryptoKit on Apple
// platforms; swift-crypto's own CI builds it on Windows, so the agent uses it too).
//
// - SHA-256: backups, binary pushes, the journal's record, host key fingerprints.
// - HMAC-SHA1: OpenSSH's hashed known_hosts names (`|1|salt|hash`); SHA-1 only because that
//   format is defined with it.

/// SHA-256 in the shapes osfarm uses: a whole buffer, or incrementally for files read in chunks.
public enum SHA256 {
    /// An incremental SHA-256, for files read in chunks.
    public struct Hasher: Sendable {
        private var inner = Crypto.SHA256()

        public init() {}

        public mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
            let done: Void? = bytes.withContiguousStorageIfAvailable { inner.update(bufferPointer: UnsafeRawBufferPointer($0)) }
            if done == nil { inner.update(data: Array(bytes)) }
        }

        public mutating func finalize() -> [UInt8] { Array(inner.finalize()) }
    }

    public static func hash<Bytes: Sequence>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        var hasher = Hasher()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// Lower-case hex of the digest, as in `sha256sum`.
    public static func hex<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        hash(bytes).hexString
    }
}

public enum SHA1 {
    public static func hash(_ message: [UInt8]) -> [UInt8] { Array(Insecure.SHA1.hash(data: message)) }
}

public enum HMACSHA1 {
    /// HMAC-SHA1 (RFC 2104), as OpenSSH uses for hashed known_hosts names.
    public static func authenticationCode(key: [UInt8], message: [UInt8]) -> [UInt8] {
        Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }
}

extension Sequence where Element == UInt8 {
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xf)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
