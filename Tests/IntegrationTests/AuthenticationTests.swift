import FarmController
import FarmProtocol
import FarmSimulator
import FarmSSH
import Foundation
import XCTest

/// Client authentication against a real sshd: keys, passphrases, ssh-agent, and clear refusals.
final class AuthenticationTests: XCTestCase {
    private var farm: TestFarm!

    override func setUpWithError() throws { farm = try TestFarm(frontEnds: 0) }

    override func tearDown() {
        farm.shutdown()
        farm = nil
    }

    private func open(identity: String?, settings: ConnectionSettings? = nil) async throws -> AgentSession {
        var server = try farm.server("dc1")
        server.identity = identity
        let settings = settings ?? farm.settings()
        return try await AgentSession.open(server, options: settings.options(for: server), timeout: 10)
    }

    private func failure(identity: String?, settings: ConnectionSettings? = nil) async throws -> AgentSessionError {
        do {
            let session = try await open(identity: identity, settings: settings)
            await session.close()
            XCTFail("authentication should have failed")
            throw SSHError.cancelled
        } catch let error as AgentSessionError {
            return error
        }
    }

    func testAKeyTheServerDoesNotKnowIsRefusedClearly() async throws {
        let stranger = try farm.newClientKey("stranger")
        let error = try await failure(identity: stranger)
        XCTAssertEqual(error, .unreachable(.authenticationFailed(user: farm.record.user, detail: "the server did not accept the key \(stranger)")))
        XCTAssertEqual(error.code, "authentication")
    }

    func testAnRSAKeyGetsTheLibssh2Explanation() async throws {
        let rsa = try farm.newClientKey("legacy_rsa", type: "rsa")
        try farm.authorize(publicKeyFile: rsa + ".pub", on: "dc1")
        let error = try await failure(identity: rsa)
        XCTAssertEqual(error, .unreachable(.rsaKeyRefused(user: farm.record.user, keyPath: rsa)))
        XCTAssertTrue(error.description.contains("libssh2 1.10 cannot sign with rsa-sha2"), error.description)
        XCTAssertTrue(error.description.contains("Use an Ed25519 key"), error.description)
    }

    func testAPassphraseProtectedKeyWorksFromTheEnvironment() async throws {
        let passphrase = "correct horse battery staple"
        let locked = try farm.newClientKey("locked", passphrase: passphrase)
        try farm.authorize(publicKeyFile: locked + ".pub", on: "dc1")
        var server = try farm.server("dc1")
        server.identity = locked

        var withoutVariable = farm.settings()
        XCTAssertThrowsError(try withoutVariable.resolvePassphrases(for: [server], environment: [:])) {
            XCTAssertTrue("\($0)".contains("set OSFARM_KEY_PASSPHRASE"), "\($0)")
        }
        var wrong = farm.settings()
        try wrong.resolvePassphrases(for: [server], environment: ["OSFARM_KEY_PASSPHRASE": "wrong"])
        let wrongError = try await failure(identity: locked, settings: wrong)
        XCTAssertTrue(wrongError.description.contains("wrong passphrase"), wrongError.description)

        var settings = farm.settings()
        try settings.resolvePassphrases(for: [server], environment: ["OSFARM_KEY_PASSPHRASE": passphrase])
        let session = try await open(identity: locked, settings: settings)
        guard case .inspection = try await session.perform(.inspect) else { return XCTFail("no inspection") }
        await session.close()
    }

    func testSSHAgentAuthentication() async throws {
        let socket = farm.directory + "/agent.sock"
        let agentPID = try Self.startSSHAgent(socket: socket)
        defer { ProcessTree.terminate(agentPID) }
        let added = try runProgram("/usr/bin/ssh-add", [farm.record.clientKey], environment: ["SSH_AUTH_SOCK": socket])
        XCTAssertEqual(added.status, 0, added.stderr)
        setenv("SSH_AUTH_SOCK", socket, 1)
        defer { unsetenv("SSH_AUTH_SOCK") }
        let session = try await open(identity: nil)
        XCTAssertEqual(session.hello.protocolVersion, .current)
        await session.close()
    }

    /// `ssh-agent -D` in the foreground on a private socket; returns its pid once it listens.
    private static func startSSHAgent(socket: String) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-agent")
        process.arguments = ["-D", "-a", socket]
        process.standardOutput = Pipe()
        try process.run()
        let deadline = Date().addingTimeInterval(5)
        while !FileManager.default.fileExists(atPath: socket) && Date() < deadline { usleep(10_000) }
        return process.processIdentifier
    }
}
