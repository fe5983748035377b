import FarmController
import FarmProtocol
@testable import FarmSimulator
import FarmSSH
import Foundation
import XCTest

/// Getting osfarm onto a farm: host-key enrolment, agent push, the jump host's systemd units and the
/// Windows install scripts.
final class DeploymentTests: XCTestCase {
    static let deploy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("deploy")

    // MARK: hosts enroll

    private func realFingerprints(_ farm: TestFarm) -> [String: String] {
        Dictionary(uniqueKeysWithValues: farm.record.servers.map { ($0.name, $0.hostKeyFingerprint) })
    }

    func testEnrolmentAnsweredOnATerminal() throws {
        let farm = try TestFarm(frontEnds: 1, profile: nil)
        defer { farm.shutdown() }
        try "".write(toFile: farm.record.knownHosts, atomically: true, encoding: .utf8)
        let session = try PseudoTerminalSession(TestFarm.binary("osfarm"), ["hosts", "enroll", "-i", farm.record.inventory])
        let first = try session.read(until: "[y/N]")
        XCTAssertTrue(first.contains("dc1") && first.contains(realFingerprints(farm)["dc1"]!), first)
        session.write("y\n")
        let second = try session.read(until: "[y/N]")
        XCTAssertTrue(second.contains(realFingerprints(farm)["fe1"]!), second)
        session.write("n\n")
        let (status, rest) = try session.finish()
        XCTAssertEqual(status, 1, rest)
        XCTAssertTrue(rest.contains("REFUSED: not confirmed by the operator"), rest)
        let known = try String(contentsOfFile: farm.record.knownHosts, encoding: .utf8)
        XCTAssertEqual(known.split(separator: "\n").count, 1)
        XCTAssertTrue(known.hasPrefix("[\(try farm.simulated("dc1").address)]:\(try farm.simulated("dc1").port) ssh-ed25519 "), known)
        XCTAssertEqual(try osfarm(["check", "-i", farm.record.inventory, "--limit", "dc1"]).status, 0, "strict checking accepts the enrolled key")
    }

    func testUnattendedEnrolmentOnlyWithExpectedFingerprints() throws {
        let farm = try TestFarm(frontEnds: 1, profile: nil)
        defer { farm.shutdown() }
        try "".write(toFile: farm.record.knownHosts, atomically: true, encoding: .utf8)
        let blind = try osfarm(["hosts", "enroll", "-i", farm.record.inventory])
        XCTAssertEqual(blind.status, 1)
        XCTAssertTrue(blind.stdout.contains("give the expected fingerprints with --expect FILE"), blind.stdout)
        XCTAssertEqual(try String(contentsOfFile: farm.record.knownHosts, encoding: .utf8), "")

        let wrong = farm.directory + "/wrong.txt"
        try "dc1 SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\nfe1 \(realFingerprints(farm)["fe1"]!)\n".write(
            toFile: wrong, atomically: true, encoding: .utf8)
        let mismatch = try osfarm(["hosts", "enroll", "-i", farm.record.inventory, "--expect", wrong])
        XCTAssertEqual(mismatch.status, 1)
        XCTAssertTrue(mismatch.stdout.contains("is not an expected fingerprint for dc1"), mismatch.stdout)
        XCTAssertEqual(try String(contentsOfFile: farm.record.knownHosts, encoding: .utf8).split(separator: "\n").count, 1, "only fe1")

        let right = farm.directory + "/right.txt"
        try "# from the servers' administrators\n\(realFingerprints(farm)["dc1"]!)\n".write(toFile: right, atomically: true, encoding: .utf8)
        let match = try osfarm(["hosts", "enroll", "-i", farm.record.inventory, "--expect", right])
        XCTAssertEqual(match.status, 0, match.stdout)
        XCTAssertTrue(match.stdout.contains("enrolled") && match.stdout.contains("already known"), match.stdout)
        XCTAssertEqual(try osfarm(["check", "-i", farm.record.inventory]).status, 0)
    }

    func testAnExistingDifferentEntryIsNeverOverwritten() throws {
        let farm = try TestFarm(frontEnds: 0, profile: nil)
        defer { farm.shutdown() }
        let other = try farm.newClientKey("not-the-host-key")
        let otherKey = try String(contentsOfFile: other + ".pub", encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
        let server = try farm.simulated("dc1")
        let before = "[\(server.address)]:\(server.port) \(otherKey)\n"
        try before.write(toFile: farm.record.knownHosts, atomically: true, encoding: .utf8)
        let expect = farm.directory + "/expect.txt"
        try "\(server.hostKeyFingerprint)\n".write(toFile: expect, atomically: true, encoding: .utf8)
        let result = try osfarm(["hosts", "enroll", "-i", farm.record.inventory, "--expect", expect])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stdout.contains("a different key is on record"), result.stdout)
        XCTAssertEqual(try String(contentsOfFile: farm.record.knownHosts, encoding: .utf8), before)
    }

    // MARK: agent push

    /// The agent as installed on the simulated server: C:\\Program Files\\osfarm\\osfarm-agent.exe in its C: tree.
    private func agentPath(_ farm: TestFarm, _ name: String) -> String { (try? farm.file(WindowsAgentInstall.path, on: name)) ?? "" }

    private func runningSHA256(_ farm: TestFarm, _ name: String) async throws -> String? {
        let session = try await farm.session(name)
        let result = try await session.perform(.agentStatus)
        await session.close()
        guard case let .agentUpdate(_, status) = result else { return nil }
        return status.sha256
    }

    func testAgentPushVerifiesSwapsConfirmsAndRollsBack() async throws {
        let farm = try TestFarm(frontEnds: 1, privateAgents: true)
        defer { farm.shutdown() }
        let original = try Data(contentsOf: URL(fileURLWithPath: TestFarm.binary("osfarm-agent")))
        // A different binary that still runs: the agent with bytes appended.
        var newer = original
        newer.append(Data("osfarm-test-build \(UUID())".utf8))
        let newerPath = farm.directory + "/osfarm-agent-new"
        try newer.write(to: URL(fileURLWithPath: newerPath))

        let push = try osfarm(["agent", "push", "-i", farm.record.inventory, "--binary", newerPath])
        XCTAssertEqual(push.status, 0, push.stdout + push.stderr)
        for name in ["dc1", "fe1"] {
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: agentPath(farm, name))), newer)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: agentPath(farm, name) + ".previous")), original)
            let running = try await runningSHA256(farm, name)
            XCTAssertEqual(running, SHA256.hex(newer), "a fresh handshake runs the new binary")
        }
        let again = try osfarm(["agent", "push", "-i", farm.record.inventory, "--binary", newerPath])
        XCTAssertTrue(again.stdout.contains("already this binary"), again.stdout)

        let rollback = try osfarm(["agent", "push", "-i", farm.record.inventory, "--rollback"])
        XCTAssertEqual(rollback.status, 0, rollback.stdout + rollback.stderr)
        let restored = try await runningSHA256(farm, "dc1")
        XCTAssertEqual(restored, SHA256.hex(original))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: agentPath(farm, "dc1"))), original)
    }

    func testACorruptOrBrokenTransferLeavesTheOldAgentWorking() async throws {
        let farm = try TestFarm(frontEnds: 0, privateAgents: true)
        defer { farm.shutdown() }
        let original = try Data(contentsOf: URL(fileURLWithPath: agentPath(farm, "dc1")))
        var newer = original
        newer.append(Data("corrupt-me".utf8))

        // The bytes that arrive do not hash to what was announced (a few kilobytes show it as well as
        // a whole agent would; the later push below sends a whole one).
        let session = try await farm.session("dc1")
        do {
            _ = try await AgentPush.transfer(Data(newer.prefix(3 * AgentUpdateChunk.size)), declaredSHA256: SHA256.hex(original), over: session)
            XCTFail("a transfer whose hash does not match must be refused")
        } catch let AgentSessionError.agentFailed(_, error) {
            XCTAssertTrue(error.message.contains("does not match the announced"), error.message)
            XCTAssertTrue(error.message.contains("the running agent is unchanged"), error.message)
        }
        await session.close()
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: agentPath(farm, "dc1"))), original)
        XCTAssertFalse(FileManager.default.fileExists(atPath: agentPath(farm, "dc1") + ".new"))

        // The connection breaks half-way.
        let broken = try await farm.session("dc1")
        _ = try await broken.perform(.beginAgentUpdate(AgentUpdateBegin(sha256: SHA256.hex(newer), size: newer.count)))
        _ = try await broken.perform(.agentUpdateChunk(AgentUpdateChunk(offset: 0, data: newer.prefix(AgentUpdateChunk.size).base64EncodedString())))
        await broken.close()
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: agentPath(farm, "dc1"))), original)
        let stillRunning = try await runningSHA256(farm, "dc1")
        XCTAssertEqual(stillRunning, SHA256.hex(original), "the old agent still answers")

        let newerPath = farm.directory + "/newer"
        try newer.write(to: URL(fileURLWithPath: newerPath))
        XCTAssertEqual(try osfarm(["agent", "push", "-i", farm.record.inventory, "--binary", newerPath]).status, 0, "a later push works")
    }

    // MARK: jump host

    func testSystemdUnitsVerify() throws {
        let folder = NSTemporaryDirectory() + "osfarm-units-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let jumphost = Self.deploy.appendingPathComponent("jumphost")
        let wrapper = jumphost.appendingPathComponent("move-db-from-env").path
        // The unit as installed, but pointing at the wrapper in this checkout (verify checks the program exists).
        let unit = try String(contentsOf: jumphost.appendingPathComponent("osfarm-move-db@.service"), encoding: .utf8)
            .replacingOccurrences(of: "/usr/local/libexec/osfarm/move-db-from-env", with: wrapper)
        XCTAssertFalse(unit.lowercased().contains("password="), "no secret inside a unit")
        try unit.write(toFile: folder + "/osfarm-move-db@.service", atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: jumphost.appendingPathComponent("osfarm-move-db@.timer").path, toPath: folder + "/osfarm-move-db@.timer")
        func verify(_ units: [String]) throws -> CommandResult {
            try runProgram("/usr/bin/systemd-analyze", ["verify", "--man=no"] + units.map { folder + "/" + $0 })
        }
        let good = try verify(["osfarm-move-db@.service", "osfarm-move-db@nov28.service", "osfarm-move-db@nov28.timer"])
        XCTAssertEqual(good.status, 0, good.stdout + good.stderr)
        XCTAssertEqual(good.stderr.trimmingCharacters(in: .whitespacesAndNewlines), "", good.stderr)

        // The check can fail: a broken unit is reported.
        try unit.replacingOccurrences(of: "Type=exec", with: "Type=sometimes").write(toFile: folder + "/broken@.service", atomically: true, encoding: .utf8)
        let broken = try verify(["broken@x.service"])
        XCTAssertTrue(broken.status != 0 || broken.stderr.contains("Failed to parse"), broken.stderr)
    }

    func testTheUnitWrapperBuildsTheArgvAndKeepsTheSecretOffIt() throws {
        let wrapper = Self.deploy.appendingPathComponent("jumphost/move-db-from-env").path
        let credentials = NSTemporaryDirectory() + "osfarm-cred-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: credentials, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: credentials) }
        try "Adm1n-Secret".write(toFile: credentials + "/admin-password", atomically: true, encoding: .utf8)
        let result = try runProgram(
            wrapper, ["nov28"],
            environment: [
                "PATH": "/usr/bin:/bin", "OSFARM_BIN": "/bin/echo", "OSFARM_INVENTORY": "/etc/osfarm/farm.yaml", "OSFARM_TO": "sqlnew",
                "OSFARM_WINDOW": "2026-11-28T22:00:00Z/2026-11-29T02:00:00Z", "OSFARM_DB_RESTORED": "yes", "OSFARM_REPORT_DIR": "/tmp",
                "CREDENTIALS_DIRECTORY": credentials,
            ])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.hasPrefix("move-db run -i /etc/osfarm/farm.yaml --to sqlnew --report /tmp/nov28-"), result.stdout)
        XCTAssertTrue(
            result.stdout.contains("--window 2026-11-28T22:00:00Z/2026-11-29T02:00:00Z --db-restored --admin-password-env OSFARM_ADMIN_PASSWORD"), result.stdout
        )
        XCTAssertFalse(result.stdout.contains("Adm1n-Secret"))
        let missing = try runProgram(wrapper, ["nov28"], environment: ["PATH": "/usr/bin:/bin", "OSFARM_BIN": "/bin/echo"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("set OSFARM_INVENTORY"), missing.stderr)
    }

    // MARK: Windows

    /// The install script cannot run here; this reads what it does where issue 10 found it wrong:
    /// the capability's rule that opens sshd to every address, and a server without sshd yet
    /// (under Set-StrictMode the script must not read properties of a service that is not there).
    func testInstallScriptClosesTheCapabilitysOpenRuleAndCopesWithoutSshd() throws {
        let script = try String(contentsOf: Self.deploy.appendingPathComponent("windows/Install-OsfarmAgent.ps1"), encoding: .utf8)
        let lines = script.components(separatedBy: "\n")
        XCTAssertTrue(lines.contains { $0.contains("Set-StrictMode -Version Latest") })
        XCTAssertTrue(
            lines.contains { $0.trimmingCharacters(in: .whitespaces).hasPrefix("Disable-NetFirewallRule -Name 'OpenSSH-Server-In-TCP'") },
            "the capability's OpenSSH-Server-In-TCP rule allows every address and must be disabled")
        // Every use of $sshd's properties comes after the script has handled a missing sshd.
        let guardLine = try XCTUnwrap(lines.firstIndex { $0.contains("if ($null -eq $sshd)") }, "no check for a missing sshd")
        for (index, line) in lines.enumerated() where line.contains("$sshd.") {
            XCTAssertGreaterThan(index, guardLine, "line \(index + 1) reads $sshd before the check: \(line)")
        }
        // The ssh folder is created when missing (sshd makes it only when it first starts).
        XCTAssertTrue(script.contains("if (-not (Test-Path -LiteralPath $sshFolder))"))
    }

    /// The PowerShell scripts cannot run here; this checks they are built to be idempotent: every
    /// command that changes the machine sits behind a ShouldProcess (so -WhatIf works), and the
    /// script declares SupportsShouldProcess.
    func testWindowsScriptsGuardEveryChange() throws {
        let changing = [
            "Copy-Item", "Add-WindowsCapability", "Set-Service", "Start-Service", "Stop-Service", "Set-Content", "icacls.exe",
            "New-NetFirewallRule", "Set-NetFirewallRule", "Remove-NetFirewallRule", "Disable-NetFirewallRule", "Remove-Item", "Remove-WindowsCapability",
            "New-Item",
        ]
        for script in ["Install-OsfarmAgent.ps1", "Uninstall-OsfarmAgent.ps1"] {
            let lines = try String(contentsOf: Self.deploy.appendingPathComponent("windows/\(script)"), encoding: .utf8).components(separatedBy: "\n")
            XCTAssertTrue(lines.contains { $0.contains("[CmdletBinding(SupportsShouldProcess = $true)]") }, script)
            var guarded = 0
            for (index, line) in lines.enumerated() where changing.contains(where: { line.trimmingCharacters(in: .whitespaces).hasPrefix($0) }) {
                let context = lines[max(0, index - 3)..<index].joined(separator: "\n")
                XCTAssertTrue(context.contains("ShouldProcess("), "\(script) line \(index + 1) changes the machine without ShouldProcess: \(line)")
                guarded += 1
            }
            XCTAssertGreaterThan(guarded, 2, script)
        }
        let readme = try String(contentsOf: Self.deploy.appendingPathComponent("windows/README.md"), encoding: .utf8)
        for step in [
            "swift build -c release --product osfarm-agent", "Install-OsfarmAgent.ps1", "osfarm hosts enroll", "osfarm check", "no network credentials",
        ] {
            XCTAssertTrue(readme.contains(step), "deploy/windows/README.md must explain \(step)")
        }
    }
}
