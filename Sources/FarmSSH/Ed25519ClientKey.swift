import CLibSSH2
import Crypto
import Foundation

/// An Ed25519 client key without a passphrase, in OpenSSH's format (what `ssh-keygen -t ed25519`
/// writes), read once per process and signing in Swift through libssh2's sign callback.
///
/// libssh2's `publickey_fromfile` reads and parses the key file again for every connection, first
/// with OpenSSL's PEM decoder (which fails on this format, slowly) and then with its own parser:
/// a fifth of `osfarm check`'s controller CPU. Any other key (RSA, ECDSA, PEM, one with a
/// passphrase, one this reader does not take) still goes through libssh2's file path.
final class Ed25519ClientKey: @unchecked Sendable {
    /// The public key as SSH sends it: string "ssh-ed25519", string the 32 key bytes.
    let publicKeyBlob: [UInt8]
    private let key: Curve25519.Signing.PrivateKey

    private init(publicKeyBlob: [UInt8], key: Curve25519.Signing.PrivateKey) {
        self.publicKeyBlob = publicKeyBlob
        self.key = key
    }

    private static let cacheLock = NSLock()
    nonisolated(unsafe) private static var cache: [String: (stamp: FileStamp, key: Ed25519ClientKey?)] = [:]

    /// The key in `path`, read again only when the file changed; nil when it is not an unencrypted
    /// Ed25519 key in OpenSSH's format (or cannot be read: libssh2's path then says why).
    static func shared(path: String) -> Ed25519ClientKey? {
        // Read under the lock: the connections that start together wait for one read.
        cacheLock.lock()
        defer { cacheLock.unlock() }
        guard let stamp = FileStamp(path: path) else { return nil }
        if let cached = cache[path], cached.stamp == stamp { return cached.key }
        let key = FileManager.default.contents(atPath: path).flatMap { read(String(decoding: $0, as: UTF8.self)) }
        cache[path] = (stamp, key)
        return key
    }

    /// Parses the "openssh-key-v1" container: cipher and KDF "none", one key, its private section
    /// (two equal check words, the type, the public key, seed and public key, a comment). The seed
    /// must give the public key the file states.
    static func read(_ text: String) -> Ed25519ClientKey? {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard lines.first == "-----BEGIN OPENSSH PRIVATE KEY-----", lines.contains("-----END OPENSSH PRIVATE KEY-----") else { return nil }
        guard let decoded = Data(base64Encoded: lines.filter { !$0.hasPrefix("-----") }.joined()) else { return nil }
        var reader = SSHWireReader(Array(decoded))
        let magic = Array("openssh-key-v1".utf8) + [0]
        guard reader.take(magic.count) == magic, reader.string() == "none", reader.string() == "none",
            reader.lengthPrefixed() == [], reader.uint32() == 1,
            let publicKeyBlob = reader.lengthPrefixed(), let privateSection = reader.lengthPrefixed()
        else { return nil }
        var blob = SSHWireReader(publicKeyBlob)
        guard blob.string() == "ssh-ed25519", let publicKey = blob.lengthPrefixed(), publicKey.count == 32 else { return nil }
        var section = SSHWireReader(privateSection)
        guard let check = section.uint32(), section.uint32() == check, section.string() == "ssh-ed25519",
            section.lengthPrefixed() == publicKey, let secret = section.lengthPrefixed(), secret.count == 64,
            Array(secret[32...]) == publicKey,
            let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: secret[..<32]),
            Array(key.publicKey.rawRepresentation) == publicKey
        else { return nil }
        return Ed25519ClientKey(publicKeyBlob: publicKeyBlob, key: key)
    }

    /// The raw 64-byte Ed25519 signature of `data` (libssh2 adds the "ssh-ed25519" wrapping).
    func signature(for data: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        (try? key.signature(for: Data(buffer: data))).map { Array($0) }
    }

    /// One step of public-key authentication as `user` (libssh2 non-blocking: EAGAIN to call again).
    func authenticate(_ session: OpaquePointer, user: String) -> Int32 {
        let holder = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: 1)
        defer { holder.deallocate() }
        holder.initialize(to: Unmanaged.passUnretained(self).toOpaque())
        return publicKeyBlob.withUnsafeBufferPointer { blob in
            libssh2_userauth_publickey(session, user, blob.baseAddress, blob.count, signWithEd25519Key, holder)
        }
    }
}

/// libssh2's sign callback: `abstract` points at the key; the signature is handed over in memory
/// from malloc, which libssh2 frees (the sessions use its default allocator).
private let signWithEd25519Key:
    @convention(c) (
        OpaquePointer?, UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?, UnsafeMutablePointer<Int>?, UnsafePointer<UInt8>?, Int,
        UnsafeMutablePointer<UnsafeMutableRawPointer?>?
    ) -> Int32 = { _, signature, length, data, count, abstract in
        guard let signature, let length, let data, let pointer = abstract?.pointee else { return -1 }
        let key = Unmanaged<Ed25519ClientKey>.fromOpaque(pointer).takeUnretainedValue()
        guard let bytes = key.signature(for: UnsafeBufferPointer(start: data, count: count)),
            let out = malloc(bytes.count)?.assumingMemoryBound(to: UInt8.self)
        else { return -1 }
        out.initialize(from: bytes, count: bytes.count)
        signature.pointee = out
        length.pointee = bytes.count
        return 0
    }
