import FarmProtocol
import FarmSSH
import Foundation

/// How `osfarm check` shows its findings: a table for people, one JSON document for automation.
public struct CheckReport: Sendable {
    public let checks: [ServerCheck]

    public init(_ checks: [ServerCheck]) { self.checks = checks }

    public var exitStatus: ExitStatus {
        if checks.contains(where: { $0.status == .unreachable }) { return .unreachable }
        if checks.contains(where: { $0.status == .failed }) { return .someFailed }
        return .success
    }

    public func table() -> String {
        var table = TextTable(headers: ["SERVER", "ADDRESS", "ROLE", "HOST KEY", "AGENT", "RTT", "DATABASE", "STATUS"])
        for check in checks {
            table.add([
                check.server.name,
                check.server.address,
                check.server.role.rawValue,
                check.hostKey?.fingerprint ?? "-",
                check.inspection?.agentVersion ?? "-",
                check.roundTripMilliseconds.map { String(format: "%.1f ms", $0) } ?? "-",
                check.inspection?.platform.map { Set($0.databases.map(\.server)).sorted().joined(separator: ", ") } ?? "-",
                check.status.rawValue,
            ])
        }
        var text = table.render()
        // The shell sshd starts the agent with, and what in its settings changes the forced command.
        let shells = checks.compactMap { check in check.inspection?.sessionShell.map { (check.server.name, $0) } }
        if !shells.isEmpty {
            text += "\n"
            for (name, shell) in shells {
                text += "\(name): shell \(shell.summary)\n"
                for concern in shell.concerns { text += "\(name): warning: \(concern)\n" }
            }
        }
        let problems = checks.filter { $0.error != nil }
        if !problems.isEmpty {
            text += "\n"
            for check in problems { text += "\(check.server.name): \(check.error!.description)\n" }
        }
        let logins = checks.compactMap { check in check.logins.map { (check.server.name, $0) } }
        if !logins.isEmpty {
            text += "\n"
            for (name, result) in logins {
                for finding in result.findings { text += "\(name): \(LoginCheckText.line(finding))\n" }
            }
        }
        let counts = Dictionary(grouping: checks, by: \.status).mapValues(\.count)
        text +=
            "\n\(checks.count) server\(checks.count == 1 ? "" : "s"): \(counts[.ok] ?? 0) ok, \(counts[.failed] ?? 0) failed, \(counts[.unreachable] ?? 0) unreachable\n"
        return text
    }

    public func json() throws -> String {
        let document = CheckDocument(
            schema: CheckDocument.schemaName,
            osfarmVersion: OsfarmVersion.current,
            generatedAt: ISO8601DateFormatter().string(from: Date()),
            exitCode: exitStatus.rawValue,
            servers: checks.map(CheckDocument.Server.init),
            summary: .init(
                ok: checks.filter { $0.status == .ok }.count,
                failed: checks.filter { $0.status == .failed }.count,
                unreachable: checks.filter { $0.status == .unreachable }.count))
        return String(decoding: try WireCodec.recordEncoder(pretty: true).encode(document), as: UTF8.self) + "\n"
    }
}

/// The `--json` document of `osfarm check`. Versioned by `schema`; fields are only ever added.
struct CheckDocument: Codable {
    static let schemaName = "osfarm.check/v1"

    struct Failure: Codable {
        var code: String
        var message: String
    }

    struct Server: Codable {
        var name: String
        var address: String
        var role: ServerRole
        var status: ServerCheck.Status
        var hostKeyType: String?
        var hostKeyFingerprint: String?
        var agentVersion: String?
        var protocolVersion: String?
        var roundTripMilliseconds: Double?
        var elapsedMilliseconds: Double
        var inspection: ServerInspection?
        var error: Failure?
        var logins: LoginCheckResult?

        init(_ check: ServerCheck) {
            name = check.server.name
            address = check.server.address
            role = check.server.role
            status = check.status
            hostKeyType = check.hostKey?.type
            hostKeyFingerprint = check.hostKey?.fingerprint
            agentVersion = check.inspection?.agentVersion
            protocolVersion = check.inspection?.protocolVersion.description
            roundTripMilliseconds = check.roundTripMilliseconds.map { ($0 * 10).rounded() / 10 }
            elapsedMilliseconds = (check.elapsedMilliseconds * 10).rounded() / 10
            inspection = check.inspection
            error = check.error.map { Failure(code: $0.code, message: $0.description) }
            logins = check.logins
        }
    }

    struct Summary: Codable {
        var ok: Int
        var failed: Int
        var unreachable: Int
    }

    var schema: String
    var osfarmVersion: String
    var generatedAt: String
    var exitCode: Int32
    var servers: [Server]
    var summary: Summary
}
