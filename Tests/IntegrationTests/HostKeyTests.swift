import FarmController
import FarmProtocol
import FarmSimulator
import FarmSSH
import Foundation
import XCTest

/// known_hosts checking against a real sshd: what is refused is refused before authentication.
final class HostKeyTests: XCTestCase {
    private var farm: TestFarm!
    private var server: LocalFarmRecord.Server!
    private var entry: ServerEntry!
    /// "ssh-ed25519 AAAA…" of the server's real host key.
    private var realKey: String!

    override func setUpWithError() throws {
        farm = try TestFarm(frontEnds: 0)
        server = try farm.simulated("dc1")
        entry = try farm.server("dc1")
        let fields = try String(contentsOfFile: server.directory + "/ssh/ssh_host_ed25519_key.pub", encoding: .utf8).split(separator: " ")
        realKey = "\(fields[0]) \(fields[1])"
    }

    override func tearDown() {
        farm.shutdown()
        farm = nil
    }

    private func knownHosts(_ text: String) throws -> String {
        let path = farm.directory + "/kh-\(UUID().uuidString.prefix(6))"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func connect(knownHosts path: String, policy: HostKeyPolicy = .strict) async throws -> SSHConnection {
        let options = farm.settings(knownHosts: path, policy: policy).options(for: entry)
        return try await SSHConnection.connect(to: entry.endpoint, options: options)
    }

    private func refusal(knownHosts path: String, policy: HostKeyPolicy = .strict) async throws -> SSHError {
        let loginsBefore = try farm.acceptedLogins(on: "dc1")
        do {
            let connection = try await connect(knownHosts: path, policy: policy)
            await connection.close()
            XCTFail("connected although the host key should have been refused")
            throw SSHError.cancelled
        } catch let error as SSHError {
            XCTAssertEqual(try farm.acceptedLogins(on: "dc1"), loginsBefore, "refused only after authenticating")
            return error
        }
    }

    private var bracketed: String { "[\(server.address)]:\(server.port)" }

    func testMatchingBracketedEntryConnects() async throws {
        let connection = try await connect(knownHosts: try knownHosts("\(bracketed) \(realKey!)\n"))
        XCTAssertEqual(connection.hostKey.fingerprint, server.hostKeyFingerprint)
        XCTAssertTrue(connection.negotiatedAlgorithms.contains("hostkey=ssh-ed25519"), connection.negotiatedAlgorithms)
        await connection.close()
    }

    func testChangedKeyIsRefused() async throws {
        let other = try farm.newClientKey("impostor")
        let otherKey = try String(contentsOfFile: other + ".pub", encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
        let path = try knownHosts("# farm\n\(bracketed) \(otherKey)\n")
        let error = try await refusal(knownHosts: path)
        XCTAssertEqual(
            error,
            .hostKeyChanged(
                host: server.address, port: server.port, keyType: "ssh-ed25519",
                fingerprint: server.hostKeyFingerprint, knownHosts: path, lines: [2]))
        XCTAssertTrue(error.description.contains("HOST KEY CHANGED"), error.description)
        // accept-new never overrides a changed key.
        let again = try await refusal(knownHosts: path, policy: .acceptNew)
        XCTAssertEqual(again, error)
    }

    func testUnknownHostIsRefusedUnderStrictWithItsFingerprint() async throws {
        let path = try knownHosts("")
        let error = try await refusal(knownHosts: path)
        guard case let .hostKeyUnknown(_, _, type, fingerprint, _) = error else { return XCTFail("\(error)") }
        XCTAssertEqual(type, "ssh-ed25519")
        XCTAssertEqual(fingerprint, server.hostKeyFingerprint)
        XCTAssertTrue(error.description.contains(server.hostKeyFingerprint), error.description)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "", "strict never writes")
    }

    func testAcceptNewEnrolsTheKeyThenStrictAcceptsIt() async throws {
        let path = farm.directory + "/enrolled_known_hosts"
        let first = try await connect(knownHosts: path, policy: .acceptNew)
        await first.close()
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "\(bracketed) \(realKey!)\n")
        let second = try await connect(knownHosts: path)
        await second.close()
    }

    func testHashedEntryConnects() async throws {
        let path = try knownHosts("\(bracketed) \(realKey!)\n")
        try runProgram("/usr/bin/ssh-keygen", ["-H", "-f", path])
        XCTAssertFalse(try String(contentsOfFile: path, encoding: .utf8).contains(server.address))
        let connection = try await connect(knownHosts: path)
        await connection.close()
    }

    func testPortlessEntryDoesNotMatchTheNon22Port() async throws {
        let error = try await refusal(knownHosts: try knownHosts("\(server.address) \(realKey!)\n"))
        guard case .hostKeyUnknown = error else { return XCTFail("\(error)") }
    }

    func testRevokedKeyIsRefused() async throws {
        let path = try knownHosts("\(bracketed) \(realKey!)\n@revoked * \(realKey!)\n")
        let error = try await refusal(knownHosts: path)
        guard case let .hostKeyRevoked(_, _, _, _, _, line) = error else { return XCTFail("\(error)") }
        XCTAssertEqual(line, 2)
    }

    func testUnparsableLineIsReportedWithItsNumber() async throws {
        let path = try knownHosts("\(bracketed) \(realKey!)\n# note\nnot a valid line at all\n")
        let error = try await refusal(knownHosts: path)
        XCTAssertEqual(error.description, "\(path) line 3: the key is not valid base64 of an SSH public key")
    }
}
