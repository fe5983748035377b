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
