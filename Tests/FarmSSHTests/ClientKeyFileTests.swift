import Crypto
@testable import FarmSSH
import Foundation
import XCTest

final class ClientKeyFileTests: XCTestCase {
    private var folder: String!

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "osfarm-keys-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    private func keygen(_ type: String, passphrase: String = "") throws -> String {
        let path = "\(folder!)/\(type)-\(passphrase.isEmpty ? "plain" : "locked")"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-keygen")
        process.arguments = ["-q", "-t", type, "-N", passphrase, "-f", path] + (type == "rsa" ? ["-b", "1024"] : [])
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        return path
    }

    /// The key osfarm signs with itself (read once, not by libssh2 per connection): the public key
    /// ssh-keygen wrote, signatures that verify; any other key is left to libssh2.
    func testAnUnencryptedEd25519KeyIsReadOnceAndSignsWhatItsPublicKeyVerifies() throws {
        let path = try keygen("ed25519")
        let key = try XCTUnwrap(Ed25519ClientKey.shared(path: path))
        let published = try String(contentsOfFile: path + ".pub", encoding: .utf8).split(separator: " ")
        XCTAssertEqual(Data(key.publicKeyBlob).base64EncodedString(), String(published[1]))
        XCTAssertTrue(Ed25519ClientKey.shared(path: path) === key, "read once while the file is unchanged")

        let message: [UInt8] = Array("session id and userauth request".utf8)
        let signature = try XCTUnwrap(message.withUnsafeBufferPointer { key.signature(for: $0) })
        XCTAssertEqual(signature.count, 64)
        let publicKey = try Curve25519.Signing.PublicKey(rawRepresentation: key.publicKeyBlob.suffix(32))
        XCTAssertTrue(publicKey.isValidSignature(signature, for: message))
        XCTAssertFalse(publicKey.isValidSignature(signature, for: message + [0]))

        XCTAssertNil(Ed25519ClientKey.shared(path: try keygen("ed25519", passphrase: "s3cret pass")), "a passphrase: libssh2's path")
        XCTAssertNil(Ed25519ClientKey.shared(path: try keygen("ecdsa")))
        XCTAssertNil(Ed25519ClientKey.shared(path: try keygen("rsa")))
        XCTAssertNil(Ed25519ClientKey.shared(path: "\(folder!)/nope"))

        // Another key written over the file is read again.
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.removeItem(atPath: path + ".pub")
        _ = try keygen("ed25519")
        let replaced = try XCTUnwrap(Ed25519ClientKey.shared(path: path))
        XCTAssertNotEqual(replaced.publicKeyBlob, key.publicKeyBlob)
    }

    func testReadsTypeAndEncryptionOfOpenSSHKeys() throws {
        XCTAssertEqual(
            try ClientKeyFile.inspect(path: keygen("ed25519")), ClientKeyFile(path: "\(folder!)/ed25519-plain", keyType: "ssh-ed25519", isEncrypted: false))
        let locked = try ClientKeyFile.inspect(path: keygen("ed25519", passphrase: "s3cret pass"))
        XCTAssertEqual(locked.keyType, "ssh-ed25519")
        XCTAssertTrue(locked.isEncrypted)
        XCTAssertTrue(try ClientKeyFile.inspect(path: keygen("rsa")).isRSA)
        XCTAssertEqual(try ClientKeyFile.inspect(path: keygen("ecdsa")).keyType, "ecdsa-sha2-nistp256")
    }

    func testMissingAndGarbageFilesAreClearErrors() throws {
        XCTAssertThrowsError(try ClientKeyFile.inspect(path: "\(folder!)/nope")) {
            XCTAssertEqual("\($0)", "client key \(folder!)/nope: does not exist")
        }
        try "hello".write(toFile: "\(folder!)/garbage", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ClientKeyFile.inspect(path: "\(folder!)/garbage")) {
            XCTAssertTrue("\($0)".contains("not a private key"), "\($0)")
        }
    }
}
