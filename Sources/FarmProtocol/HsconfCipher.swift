import Foundation

/// server.hsconf's encrypted values (`$2$`, a 24-character base64 IV, base64 cipher text, keyed by
/// private.key), shared so that the agent reads what the simulator writes.
/// Until issue 18 this is a stand-in: a SHA-256 keystream, not OutSystems' scheme.
public enum HsconfCipher {
    public static func encrypt(_ plain: String, key: [UInt8]) -> String {
        let iv = (0..<16).map { _ in UInt8.random(in: 0...255) }
        var bytes = Array(plain.utf8)
        let padding = 16 - bytes.count % 16
        bytes += [UInt8](repeating: UInt8(padding), count: padding)
        let stream = keystream(key: key, iv: iv, count: bytes.count)
        let cipher = zip(bytes, stream).map { $0 ^ $1 }
        return "$2$" + Data(iv).base64EncodedString() + Data(cipher).base64EncodedString()
    }

    public static func decrypt(_ value: String, key: [UInt8]) -> String? {
        guard value.hasPrefix("$2$"), value.count > 27,
            let iv = Data(base64Encoded: String(value.dropFirst(3).prefix(24))),
            let cipher = Data(base64Encoded: String(value.dropFirst(27)))
        else { return nil }
        let plain = zip(cipher, keystream(key: key, iv: Array(iv), count: cipher.count)).map { $0 ^ $1 }
        guard let padding = plain.last, padding > 0, padding <= 16, plain.count >= Int(padding) else { return nil }
        return String(bytes: plain.dropLast(Int(padding)), encoding: .utf8)
    }

    private static func keystream(key: [UInt8], iv: [UInt8], count: Int) -> [UInt8] {
        var stream: [UInt8] = []
        var counter: UInt32 = 0
        while stream.count < count {
            stream += SHA256.hash(key + iv + withUnsafeBytes(of: counter.bigEndian, Array.init))
            counter += 1
        }
        return Array(stream.prefix(count))
    }

    /// A private.key as OutSystems writes it: `--` comment lines, then base64 of 16 random bytes.
    public static func newPrivateKey() -> String {
        let key = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        return "-- OutSystems Platform Server private key\r\n-- Keep this file identical on every server of the farm\r\n\(key)\r\n"
    }

    /// The key bytes of a private.key file; nil when it is not in that format.
    public static func keyBytes(privateKeyFile text: String) -> [UInt8]? {
        let line = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.first { !$0.hasPrefix("--") && !$0.isEmpty }
        guard let line, let data = Data(base64Encoded: line), data.count == 16 else { return nil }
        return Array(data)
    }
}
