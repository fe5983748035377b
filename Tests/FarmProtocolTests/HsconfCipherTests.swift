import Foundation
import XCTest

@testable import FarmProtocol

/// server.hsconf's `$2$` values in OutSystems' real scheme (AES-CBC, PKCS#7, key = private.key's
/// base64 line, UTF-8 plain text; sources in HsconfCipher.swift and simulator SOURCES.md).
final class HsconfCipherTests: XCTestCase {
    /// The key line is the example key of OutSystems.SetupTools' `test/unit/Get-OSServerPrivateKey.Tests.ps1`,
    /// under a `--` header of our own wording, with CRLF line ends as a Windows server writes them.
    static let privateKeyFile = "--a comment line, as private.key starts with\r\n--and a second one\r\nv4iwANAsGDRpjiEpO8Kt3Q==\r\n"
    static let iv = "UO7DSFYOqdnSIR7W31D3ZA=="

    /// No published value exists (no plain text, cipher text and key triple in any source we read),
    /// so these were made independently of this code, with OpenSSL 3.0's command line and the
    /// scheme as the sources describe it:
    ///     printf '%s' "$PLAIN" | openssl enc -aes-128-cbc -K bf88b000d02c1834698e21293bc2addd \
    ///         -iv 50eec348560ea9d9d2211ed6df50f764 | base64 -w0
    /// (the key is the base64-decoded key line above; the IV was `openssl rand -hex 16`), then
    /// `$2$` + the IV in base64 + that output. The first is 25 UTF-8 bytes (two of them non-ASCII
    /// letters, one a three-byte euro sign), the second exactly one block, so its padding is a whole block.
    static let knownAnswers: [(plain: String, value: String)] = [
        ("Säo Paulo&<OSRUNTIME>€", "$2$UO7DSFYOqdnSIR7W31D3ZA==OAxN6tO0aahA/mlJZ9GA39AUlR4dfXDO3MM5AXd5VpQ="),
        ("sixteen-bytes!!!", "$2$UO7DSFYOqdnSIR7W31D3ZA==EdYAopGYgQEmQhbsTzQv2NAKd2pwKk7mzqNvBPvtKD8="),
    ]

    func testKnownAnswersMadeWithOpenSSLDecrypt() throws {
        let key = try XCTUnwrap(HsconfCipher.keyBytes(privateKeyFile: Self.privateKeyFile))
        XCTAssertEqual(key, [0xbf, 0x88, 0xb0, 0x00, 0xd0, 0x2c, 0x18, 0x34, 0x69, 0x8e, 0x21, 0x29, 0x3b, 0xc2, 0xad, 0xdd])
        for (plain, value) in Self.knownAnswers {
            XCTAssertEqual(HsconfCipher.decrypt(value, key: key), plain)
        }
    }

    func testEncryptionWithTheSameIVGivesOpenSSLsValues() throws {
        let key = try HsconfCipher.key(privateKeyFile: Self.privateKeyFile)
        let iv = Array(try XCTUnwrap(Data(base64Encoded: Self.iv)))
        for (plain, value) in Self.knownAnswers {
            XCTAssertEqual(try HsconfCipher.encrypt(plain, key: key, ivBytes: iv), value)
        }
    }

    func testRoundTripWithAFreshIVEachTime() throws {
        let key = try XCTUnwrap(HsconfCipher.keyBytes(privateKeyFile: HsconfCipher.newPrivateKey()))
        XCTAssertEqual(key.count, 16)
        for plain in ["", "p", "exactly16bytes!!", "Pa$$w0rd&<x>\"'", "パスワード", String(repeating: "long-", count: 100)] {
            let value = HsconfCipher.encrypt(plain, key: key)
            XCTAssertTrue(value.hasPrefix("$2$"), value)
            let iv = try XCTUnwrap(Data(base64Encoded: String(value.dropFirst(3).prefix(24))))
            XCTAssertEqual(iv.count, 16)
            let cipher = try XCTUnwrap(Data(base64Encoded: String(value.dropFirst(27))))
            XCTAssertEqual(cipher.count, (plain.utf8.count / 16 + 1) * 16, "PKCS#7 always adds 1 to 16 bytes")
            XCTAssertEqual(HsconfCipher.decrypt(value, key: key), plain)
            XCTAssertEqual(try HsconfCipher.secret(from: value, key: key).reveal(), plain)
            XCTAssertNotEqual(HsconfCipher.encrypt(plain, key: key), value, "each value gets its own IV")
        }
    }

    func testAnotherFarmsKeyCannotReadTheValue() throws {
        let (plain, value) = Self.knownAnswers[0]
        // `openssl enc -d` with this key answers "bad decrypt" for this value.
        let other: [UInt8] = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]
        XCTAssertNil(HsconfCipher.decrypt(value, key: other))
        XCTAssertThrowsError(try HsconfCipher.secret(from: value, key: other)) { XCTAssertEqual($0 as? HsconfCipher.Failure, .wrongKeyOrDamaged) }
        // Without a MAC a wrong key can pass the padding check by chance, but it never gives the plain text.
        for _ in 0..<50 {
            let key = try XCTUnwrap(HsconfCipher.keyBytes(privateKeyFile: HsconfCipher.newPrivateKey()))
            XCTAssertNotEqual(HsconfCipher.decrypt(value, key: key), plain)
        }
    }

    func testDamagedValuesAreRefusedWithTheirReason() throws {
        let key = try HsconfCipher.key(privateKeyFile: Self.privateKeyFile)
        let value = Self.knownAnswers[0].value
        let cipher = try XCTUnwrap(Data(base64Encoded: String(value.dropFirst(27))))
        // In CBC, a byte of the previous block is XORed into the last block's plain text: this makes
        // the last padding byte (7) into 0x11, which is more than a block.
        var badPadding = cipher
        badPadding[15] ^= 0x07 ^ 0x11
        let cases: [(String, HsconfCipher.Failure)] = [
            ("Tr0ub4dor&3", .notEncryptedFormat),
            ("$1$" + value.dropFirst(3), .notEncryptedFormat),
            ("$2$", .damagedIV),
            ("$2$UO7DSFYOqdnSIR7W", .damagedIV),
            ("$2$UO7DSFYO!!nSIR7W31D3ZA==" + value.dropFirst(27), .damagedIV),
            ("$2$UO7DSFYOqdnSIR7W31D3" + value.dropFirst(27), .damagedIV),
            (String(value.prefix(27)), .damagedCipherText),
            (String(value.prefix(27)) + "not base64!", .damagedCipherText),
            (String(value.prefix(27)) + cipher.prefix(31).base64EncodedString(), .damagedCipherText),
            // The fake value in HsconfDocumentTests: 6 bytes of cipher text.
            ("$2$AAAAAAAAAAAAAAAAAAAAAA==c2VjcmV0", .damagedCipherText),
            (String(value.prefix(27)) + badPadding.base64EncodedString(), .wrongKeyOrDamaged),
        ]
        for (damaged, reason) in cases {
            XCTAssertNil(HsconfCipher.decrypt(damaged, key: key), damaged)
            XCTAssertThrowsError(try HsconfCipher.secret(from: damaged, key: key), damaged) {
                XCTAssertEqual($0 as? HsconfCipher.Failure, reason, damaged)
            }
        }
        XCTAssertThrowsError(try HsconfCipher.secret(from: value, key: Array(key.prefix(12)))) {
            XCTAssertEqual($0 as? HsconfCipher.Failure, .badKeyLength(12))
        }
    }

    func testNeitherErrorsNorTheDecryptedSecretShowThePlainText() throws {
        let key = try HsconfCipher.key(privateKeyFile: Self.privateKeyFile)
        let (plain, value) = Self.knownAnswers[0]
        let secret = try HsconfCipher.secret(from: value, key: key)
        XCTAssertEqual("\(secret)", Secret.redacted)
        XCTAssertEqual(String(reflecting: secret), Secret.redacted)
        let failures: [HsconfCipher.Failure] = [
            .notEncryptedFormat, .damagedIV, .damagedCipherText, .wrongKeyOrDamaged, .badKeyLength(12), .privateKeyHasNoKeyLine, .privateKeyNotBase64,
        ]
        for failure in failures {
            for text in ["\(failure)", String(reflecting: failure), failure.localizedDescription] {
                XCTAssertFalse(text.contains(plain) || text.contains(value) || text.contains("v4iwANAsGDRpjiEpO8Kt3Q"), text)
            }
        }
    }

    func testPrivateKeyFiles() throws {
        // SetupTools' template: `--` lines, then the key line; LF or CRLF, spaces around the key.
        let lf = "--first\n--second\n--third\n  v4iwANAsGDRpjiEpO8Kt3Q==  \n"
        XCTAssertEqual(HsconfCipher.keyBytes(privateKeyFile: lf), HsconfCipher.keyBytes(privateKeyFile: Self.privateKeyFile))
        XCTAssertEqual(HsconfCipher.keyBytes(privateKeyFile: "v4iwANAsGDRpjiEpO8Kt3Q=="), HsconfCipher.keyBytes(privateKeyFile: lf))
        let refused: [(String, HsconfCipher.Failure)] = [
            ("", .privateKeyHasNoKeyLine),
            ("--only\r\n--comments\r\n\r\n", .privateKeyHasNoKeyLine),
            ("--header\r\nnot a key!\r\n", .privateKeyNotBase64),
            ("--header\r\nAAAAAAAAAAAAAAAA\r\n", .badKeyLength(12)),
        ]
        for (file, reason) in refused {
            XCTAssertNil(HsconfCipher.keyBytes(privateKeyFile: file))
            XCTAssertThrowsError(try HsconfCipher.key(privateKeyFile: file)) { XCTAssertEqual($0 as? HsconfCipher.Failure, reason) }
        }
        let made = HsconfCipher.newPrivateKey()
        XCTAssertTrue(made.hasPrefix("--"))
        XCTAssertTrue(made.hasSuffix("\r\n"))
        XCTAssertEqual(try HsconfCipher.key(privateKeyFile: made).count, 16)
        XCTAssertNotEqual(HsconfCipher.keyBytes(privateKeyFile: made), HsconfCipher.keyBytes(privateKeyFile: HsconfCipher.newPrivateKey()))
    }
}
