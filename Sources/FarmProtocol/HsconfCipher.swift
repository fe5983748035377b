import Crypto
import CryptoExtras
import Foundation

/// server.hsconf's encrypted values (`encrypted="true"`), as OutSystems Platform Server 11 stores
/// them, keyed by the farm's private.key. Shared so that the agent reads what the simulator writes,
/// and both follow the real format:
///
///     $2$ <IV: 16 bytes, base64, 24 characters> <cipher text, base64>
///
/// - cipher: AES in CBC mode with PKCS#7 padding; the key is the base64-decoded key line of
///   private.key, used as it is (16 bytes in every published example, so AES-128); no key
///   derivation, no MAC; a fresh random IV for each value;
/// - plain text: UTF-8 bytes;
/// - private.key: lines starting with `--` are comments; the first other non-empty line, trimmed,
///   is the key.
///
/// Sources (read, not copied; see Tests/Fixtures/simulator/SOURCES.md):
/// - OutSystems/techsupp-osdiagtool (MIT, OutSystems' own diagnostics tool) `OSDiagTool/Utils/CryptoUtils.cs`:
///   `Decrypt` (the `$2$` check, the 24-character IV after it, the rest as cipher text, AES-CBC/PKCS7,
///   UTF-8), `GetPrivateKeyFromFile` (the key line). Its `Encrypt` is another format (IV and HMAC
///   appended, no `$2$`) for OSDiagTool's own use, not what server.hsconf holds.
/// - ardoric/ardo.decrypter.net `ardoDecrypter/Program.cs` (`decrypt`, `readKey`), which
///   CryptoUtils.cs names as its origin: the same reading.
/// - OutSystems forum, "Secure Confidential Information" (outsystems.com/forums/discussion/15829):
///   since Platform 9, confidential settings are AES-128, CBC, PKCS7, with a key generated at
///   installation and kept in a file on the server, stored with the algorithm's version and a
///   securely random IV.
/// - OutSystems/OutSystems.SetupTools: `Functions/Get-OSServerPrivateKey.ps1` (skips lines matching
///   `^--*`), `Lib/private.key` (the comment header and the key line), `Lib/Constants.ps1`
///   (`$OSPrivateKeySize = 16`), `Functions/New-OSServerConfig.ps1` (example key of 16 bytes).
///   Its `Get-OSServerConfig` decrypted through the platform's own assembly (`DecryptSetting` in
///   `Lib/Common.ps1`, removed in PR #152), so it shows no algorithm itself.
///
/// Without a MAC, a wrong key is caught only by the padding check (and by refusing bytes that are
/// not UTF-8): about one wrong key in 256 passes the padding by chance and yields garbage, which a
/// login then refuses. Nothing here prints, logs or puts a plain text in an error.
public enum HsconfCipher {
    /// The algorithm version OutSystems writes before the IV.
    public static let prefix = "$2$"
    static let ivCharacters = 24

    /// Why a value or a private.key cannot be read. The messages name the problem, never the value.
    public enum Failure: Error, Equatable, Sendable, CustomStringConvertible {
        /// The value does not start with `$2$` (clear text, or another algorithm version).
        case notEncryptedFormat
        /// The 24 characters after `$2$` are not the base64 of a 16-byte IV (missing or cut short).
        case damagedIV
        /// The cipher text is missing, not base64, or not a whole number of AES blocks.
        case damagedCipherText
        /// The padding is wrong, or the bytes are not UTF-8: another private.key, or a damaged value.
        case wrongKeyOrDamaged
        /// The key is not 16, 24 or 32 bytes (AES's key sizes).
        case badKeyLength(Int)
        /// private.key has no line other than `--` comments and blank lines.
        case privateKeyHasNoKeyLine
        /// private.key's key line is not base64.
        case privateKeyNotBase64

        public var description: String {
            switch self {
            case .notEncryptedFormat: "the value is not in OutSystems' encrypted format (no $2$ prefix)"
            case .damagedIV: "the value's IV is damaged (the 24 characters after $2$ are not base64 of 16 bytes)"
            case .damagedCipherText: "the value's cipher text is damaged (missing, not base64, or not whole AES blocks)"
            case .wrongKeyOrDamaged: "the value does not decrypt with this private.key (another farm's key, or a damaged value)"
            case .badKeyLength(let count): "the key is \(count) bytes; AES needs 16, 24 or 32"
            case .privateKeyHasNoKeyLine: "private.key has no key line (only -- comments or blank lines)"
            case .privateKeyNotBase64: "private.key's key line is not base64"
            }
        }
    }

    /// Encrypts `plain` with a fresh random IV. `key` must be an AES key (16, 24 or 32 bytes), as
    /// `keyBytes(privateKeyFile:)` and `newPrivateKey()` give; any other length is a programming error.
    public static func encrypt(_ plain: String, key: [UInt8]) -> String {
        do {
            return try encrypt(plain, key: key, ivBytes: Array(AES._CBC.IV()))
        } catch {
            preconditionFailure("HsconfCipher.encrypt: \(error)")
        }
    }

    /// Encrypts with a given IV: the random one above, or a fixed one for a known-answer test.
    static func encrypt(_ plain: String, key: [UInt8], ivBytes: [UInt8]) throws(Failure) -> String {
        let symmetricKey = try aesKey(key)
        let cipher: Data
        do {
            cipher = try AES._CBC.encrypt(Array(plain.utf8), using: symmetricKey, iv: try AES._CBC.IV(ivBytes: ivBytes))
        } catch {
            throw .damagedIV  // the key was checked above; only a wrong-sized IV is left
        }
        return prefix + Data(ivBytes).base64EncodedString() + cipher.base64EncodedString()
    }

    /// The plain text, or nil when the value cannot be read with this key (see `secret(from:key:)`
    /// for why).
    public static func decrypt(_ value: String, key: [UInt8]) -> String? {
        try? secret(from: value, key: key).reveal()
    }

    /// The plain text as a `Secret` (so that it prints redacted), or why it cannot be read.
    public static func secret(from value: String, key: [UInt8]) throws(Failure) -> Secret {
        let text = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix(prefix) else { throw .notEncryptedFormat }
        let body = text.dropFirst(prefix.count)
        guard body.count >= ivCharacters, let ivData = Data(base64Encoded: String(body.prefix(ivCharacters))), ivData.count == 16,
            let iv = try? AES._CBC.IV(ivBytes: ivData)
        else { throw .damagedIV }
        guard let cipher = Data(base64Encoded: String(body.dropFirst(ivCharacters))), !cipher.isEmpty, cipher.count % 16 == 0 else {
            throw .damagedCipherText
        }
        let symmetricKey = try aesKey(key)
        let plain: Data
        do {
            plain = try AES._CBC.decrypt(cipher, using: symmetricKey, iv: iv)
        } catch {
            throw .wrongKeyOrDamaged
        }
        // .NET would replace bad sequences; refusing them catches more wrong keys.
        let string = String(decoding: plain, as: UTF8.self)
        guard Array(string.utf8) == Array(plain) else { throw .wrongKeyOrDamaged }
        return Secret(string)
    }

    private static func aesKey(_ key: [UInt8]) throws(Failure) -> SymmetricKey {
        guard [16, 24, 32].contains(key.count) else { throw .badKeyLength(key.count) }
        return SymmetricKey(data: key)
    }

    /// A private.key in the real file's shape: `--` comment lines, then the base64 of 16 random
    /// bytes, CRLF line ends. The comment wording is ours; OutSystems' own header is a warning that
    /// the key is confidential.
    public static func newPrivateKey() -> String {
        let key = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        return "-- OutSystems Platform Server private key\r\n-- Keep this file identical on every server of the farm\r\n\(key)\r\n"
    }

    /// The key bytes of a private.key file; nil when it is not in that format.
    public static func keyBytes(privateKeyFile text: String) -> [UInt8]? {
        try? key(privateKeyFile: text)
    }

    /// The key bytes of a private.key file, or why there are none.
    public static func key(privateKeyFile text: String) throws(Failure) -> [UInt8] {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let line = lines.first(where: { !$0.hasPrefix("--") && !$0.isEmpty }) else { throw .privateKeyHasNoKeyLine }
        guard let data = Data(base64Encoded: line) else { throw .privateKeyNotBase64 }
        guard [16, 24, 32].contains(data.count) else { throw .badKeyLength(data.count) }
        return Array(data)
    }
}
