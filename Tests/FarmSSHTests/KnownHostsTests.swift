@testable import FarmSSH
import Foundation
import XCTest

final class KnownHostsTests: XCTestCase {
    private var folder: String!
    private var keyA: HostKey!
    private var keyB: HostKey!
    private var lineA: String!  // "ssh-ed25519 AAAA…" of key A

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "osfarm-kh-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        (keyA, lineA) = try makeKey("a")
        (keyB, _) = try makeKey("b")
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    private func makeKey(_ name: String) throws -> (HostKey, String) {
        let path = "\(folder!)/\(name)"
        try run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path])
        let fields = try String(contentsOfFile: path + ".pub", encoding: .utf8).split(separator: " ")
        let key = try XCTUnwrap(HostKey(blob: Array(try XCTUnwrap(Data(base64Encoded: String(fields[1]))))))
        return (key, "\(fields[0]) \(fields[1])")
    }

    private func run(_ tool: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "\(tool) \(arguments)")
    }

    private func parse(_ text: String) throws -> KnownHosts { try KnownHosts.parse(text, path: "kh") }

    func testBracketedEntryMatchesItsPortOnly() throws {
        let file = try parse("[10.0.0.5]:2222 \(lineA!)\n")
        XCTAssertEqual(try file.verdict(for: keyA, host: "10.0.0.5", port: 2222), .match(line: 1))
        XCTAssertEqual(try file.verdict(for: keyA, host: "10.0.0.5", port: 22), .unknown)
        XCTAssertEqual(try file.verdict(for: keyA, host: "10.0.0.5", port: 2200), .unknown)
    }

    func testPortlessEntryDoesNotVouchForAnotherPort() throws {
        let file = try parse("10.0.0.5 \(lineA!)\n")
        XCTAssertEqual(try file.verdict(for: keyA, host: "10.0.0.5", port: 22), .match(line: 1))
        XCTAssertEqual(try file.verdict(for: keyA, host: "10.0.0.5", port: 2222), .unknown)
    }

    func testAChangedKeyNamesTheLinesItContradicts() throws {
        let file = try parse("# farm\n[10.0.0.5]:2222 \(lineA!)\n")
        XCTAssertEqual(try file.verdict(for: keyB, host: "10.0.0.5", port: 2222), .changed(lines: [2]))
    }

    func testHashedEntriesWrittenByOpenSSHMatch() throws {
        let path = "\(folder!)/known_hosts"
        try "[10.0.0.5]:2222 \(lineA!)\nweb.example.com \(lineA!)\n".write(toFile: path, atomically: true, encoding: .utf8)
        try run("/usr/bin/ssh-keygen", ["-H", "-f", path])
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("|1|"), text)
        let file = try KnownHosts.load(path: path)
        XCTAssertEqual(try file.verdict(for: keyA, host: "10.0.0.5", port: 2222), .match(line: 1))
        XCTAssertEqual(try file.verdict(for: keyA, host: "10.0.0.5", port: 22), .unknown)
        XCTAssertEqual(try file.verdict(for: keyA, host: "web.example.com", port: 22), .match(line: 2))
        XCTAssertEqual(try file.verdict(for: keyB, host: "web.example.com", port: 22), .changed(lines: [2]))
    }

    func testWildcardsAndNegations() throws {
        let file = try parse("*.farm.example,!bad.farm.example \(lineA!)\n")
        XCTAssertEqual(try file.verdict(for: keyA, host: "fe1.farm.example", port: 22), .match(line: 1))
        XCTAssertEqual(try file.verdict(for: keyA, host: "FE1.Farm.Example", port: 22), .match(line: 1))
        XCTAssertEqual(try file.verdict(for: keyA, host: "bad.farm.example", port: 22), .unknown)
    }

    func testRevokedKeyIsRefusedEvenWithAMatchingEntry() throws {
        let file = try parse("[10.0.0.5]:2222 \(lineA!)\n@revoked * \(lineA!)\n")
        XCTAssertEqual(try file.verdict(for: keyA, host: "10.0.0.5", port: 2222), .revoked(line: 2))
    }

    func testCertificateAuthorityIsReportedAsUnsupported() throws {
        let file = try parse("@cert-authority *.farm.example \(lineA!)\n")
        XCTAssertThrowsError(try file.verdict(for: keyB, host: "fe1.farm.example", port: 22)) {
            XCTAssertEqual($0 as? KnownHostsError, .certificateAuthorityUnsupported(path: "kh", line: 1))
            XCTAssertTrue("\($0)".contains("not supported"))
        }
        XCTAssertEqual(try file.verdict(for: keyB, host: "other.example", port: 22), .unknown)
    }

    func testUnparsableLinesAreErrorsNamingFileAndLine() {
        XCTAssertThrowsError(try parse("# ok\n\n[10.0.0.5]:2222 ssh-ed25519\n")) {
            XCTAssertEqual($0 as? KnownHostsError, .badLine(path: "kh", line: 3, reason: "expected host patterns, key type and base64 key"))
            XCTAssertEqual("\($0)", "kh line 3: expected host patterns, key type and base64 key")
        }
        XCTAssertThrowsError(try parse("host ssh-ed25519 !!!notbase64\n")) {
            XCTAssertTrue("\($0)".hasPrefix("kh line 1: "), "\($0)")
        }
        XCTAssertThrowsError(try parse("host ecdsa-sha2-nistp256 \(lineA!.split(separator: " ")[1])\n")) {
            XCTAssertTrue("\($0)".contains("does not match the key"), "\($0)")
        }
        XCTAssertThrowsError(try parse("@trusted host \(lineA!)\n")) {
            XCTAssertTrue("\($0)".contains("unknown marker"), "\($0)")
        }
    }

    func testAppendCreatesThePrivateFileAndTheEntryMatches() throws {
        let path = "\(folder!)/sub/known_hosts"
        try KnownHosts.append(keyA, host: "10.0.0.5", port: 2222, to: path)
        try KnownHosts.append(keyB, host: "10.0.0.6", port: 22, to: path)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        let file = try KnownHosts.load(path: path)
        XCTAssertEqual(try file.verdict(for: keyA, host: "10.0.0.5", port: 2222), .match(line: 1))
        XCTAssertEqual(try file.verdict(for: keyB, host: "10.0.0.6", port: 22), .match(line: 2))
    }

    /// Each connection reads the file through `loadShared`: parsed once while it is unchanged, and
    /// again as soon as it changes (accept-new appends, an operator edits it).
    func testTheSharedFileIsParsedAgainOnceItChanges() throws {
        let path = "\(folder!)/known_hosts"
        try KnownHosts.append(keyA, host: "10.0.0.5", port: 2222, to: path)
        let first = try KnownHosts.loadShared(path: path)
        XCTAssertEqual(try first.verdict(for: keyA, host: "10.0.0.5", port: 2222), .match(line: 1))
        XCTAssertEqual(try first.verdict(for: keyB, host: "10.0.0.6", port: 22), .unknown)
        try KnownHosts.append(keyB, host: "10.0.0.6", port: 22, to: path)
        XCTAssertEqual(try KnownHosts.loadShared(path: path).verdict(for: keyB, host: "10.0.0.6", port: 22), .match(line: 2))
        try "[10.0.0.5]:2222 \(lineA!)\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertEqual(try KnownHosts.loadShared(path: path).verdict(for: keyB, host: "10.0.0.6", port: 22), .unknown, "the file was replaced")
        try FileManager.default.removeItem(atPath: path)
        XCTAssertEqual(try KnownHosts.loadShared(path: path).entries.count, 0, "a missing file is an empty list")
    }

    func testAppendAfterALastLineWithoutNewline() throws {
        let path = "\(folder!)/known_hosts"
        try "[10.0.0.5]:2222 \(lineA!)".write(toFile: path, atomically: true, encoding: .utf8)
        try KnownHosts.append(keyB, host: "10.0.0.6", port: 2222, to: path)
        XCTAssertEqual(try KnownHosts.load(path: path).entries.map(\.line), [1, 2])
    }

    func testFingerprintMatchesSSHKeygen() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-keygen")
        process.arguments = ["-l", "-E", "sha256", "-f", "\(folder!)/a.pub"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(output.split(separator: " ")[1], Substring(keyA.fingerprint))
    }
}
