import FarmProtocol
import Foundation

/// `check-logins` on this server: reads each moving section's users from server.hsconf, decrypts
/// their passwords with private.key here (they never leave the server), and has the fixed login
/// check script (LoginCheckScript, run by Windows PowerShell with .NET Framework's SqlClient) log
/// in as each of them. The script's input, passwords included, goes on its stdin, never on a
/// command line; what comes back holds no password, and neither does the result.
///
/// Why SqlClient through PowerShell rather than a TDS client of our own: it is on every OutSystems
/// server (the platform is a .NET Framework application), so the check reaches SQL Server exactly
/// as the platform does: the same TLS negotiation, SQL Server Browser lookup, SSPI for integrated
/// authentication and error numbers, with nothing to ship or prove.
///
/// On a farm on integrated (Windows) authentication the check logs in with the SSH session's own
/// identity, the one the Configuration Tool gets: a key-authenticated Win32-OpenSSH session has no
/// network credentials (Win32-OpenSSH issues 518, 1264), so SQL Server sees NT AUTHORITY\ANONYMOUS
/// LOGON, as the tool would.
struct LoginChecker {
    let runner: any CommandRunner
    let files: ServerFiles
    let installation: Installation

    /// One login the script tries.
    struct Attempt {
        var id: String
        var section: DatabaseSection
        var role: DatabaseUserRole
        var user: String
        var server: String
        var catalog: String
        var integrated: Bool
        var password: Secret?
    }

    func check(_ arguments: LoginCheckArguments, progress: (String) -> Void) throws(AgentError) -> LoginCheckResult {
        let hsconf: HsconfDocument
        do {
            hsconf = try HsconfDocument(data: try files.read(installation.hsconf))
        } catch let problem as HsconfDocument.Problem {
            throw AgentError(.operationFailed, "server.hsconf: \(problem.message)")
        } catch let error as AgentError {
            throw error
        } catch {
            throw AgentError(.operationFailed, "server.hsconf: \(error)")
        }
        let key = (try? files.read(installation.privateKey)).flatMap { HsconfCipher.keyBytes(privateKeyFile: String(decoding: $0, as: UTF8.self)) }
        var attempts: [Attempt] = []
        var findings: [LoginFinding] = []
        var integratedFarm = false
        for (section, target) in arguments.targets.moving {
            let element = section.elementName
            let catalog = target.catalog ?? hsconf.value(section: element, child: "Catalog") ?? ""
            let server = target.server.description
            let integrated = hsconf.value(section: element, child: "UsedAuthenticationMode") == "Windows Authentication"
            integratedFarm = integratedFarm || integrated
            for role in DatabaseUserRole.of(section) {
                let user = hsconf.value(section: element, child: role.userElement) ?? ""
                func notChecked(_ why: String) {
                    findings.append(
                        LoginFinding(section: section, role: role, user: user, server: server, catalog: catalog, kind: .notChecked, message: why))
                }
                if integrated {
                    // The session's own identity, once per section: what the Configuration Tool logs in as.
                    if role != DatabaseUserRole.of(section).first { continue }
                    attempts.append(
                        Attempt(
                            id: "\(section.rawValue)-\(role.rawValue)", section: section, role: role, user: user, server: server, catalog: catalog,
                            integrated: true))
                    continue
                }
                guard !user.isEmpty else {
                    notChecked("server.hsconf names no \(role.userElement) in \(element)")
                    continue
                }
                let stored = hsconf.value(section: element, child: role.passwordElement) ?? ""
                let password: String
                if stored.hasPrefix("$2$") {
                    guard let key else {
                        notChecked("cannot read private.key to decrypt \(element)/\(role.passwordElement)")
                        continue
                    }
                    guard let clear = HsconfCipher.decrypt(stored, key: key) else {
                        notChecked("\(element)/\(role.passwordElement) does not decrypt with this server's private.key")
                        continue
                    }
                    password = clear
                } else {
                    password = stored  // clear text, as an operator may write it before the Configuration Tool encrypts it
                }
                attempts.append(
                    Attempt(
                        id: "\(section.rawValue)-\(role.rawValue)", section: section, role: role, user: user, server: server, catalog: catalog,
                        integrated: false, password: Secret(password)))
            }
        }
        guard !attempts.isEmpty else { return LoginCheckResult(findings: findings) }
        progress("logging in to " + Set(attempts.map(\.server)).sorted().joined(separator: ", ") + " as " + attempts.map(\.user).joined(separator: ", "))
        let outcome = try run(attempts, timeoutSeconds: arguments.timeoutSeconds)
        for var attempt in attempts {
            // Integrated: the session logs in as itself, whoever server.hsconf names.
            if attempt.integrated, let identity = outcome.identity { attempt.user = identity }
            findings.append(LoginClassifier.finding(attempt, outcome.records[attempt.id], refined: outcome.refinements[attempt.id]))
        }
        let order = Dictionary(uniqueKeysWithValues: DatabaseSection.allCases.enumerated().map { ($1, $0) })
        findings.sort { (order[$0.section] ?? 0, $0.role.rawValue) < (order[$1.section] ?? 0, $1.role.rawValue) }
        return LoginCheckResult(sessionIdentity: integratedFarm ? outcome.identity : nil, findings: findings)
    }

    struct ScriptOutput {
        var records: [String: LoginClassifier.Record] = [:]
        var refinements: [String: LoginClassifier.Refinement] = [:]
        var identity: String?
    }

    /// Runs the script once for every attempt; its input (passwords included) on stdin.
    private func run(_ attempts: [Attempt], timeoutSeconds: Double) throws(AgentError) -> ScriptOutput {
        struct Check: Encodable {
            var id, server, catalog, user, password: String
            var integrated: Bool
            var roles: [String]
        }
        struct Input: Encodable {
            var timeoutSeconds: Double
            var checks: [Check]
        }
        let input = Input(
            timeoutSeconds: timeoutSeconds,
            checks: attempts.map {
                Check(
                    id: $0.id, server: $0.server, catalog: $0.catalog, user: $0.user, password: $0.password?.reveal() ?? "", integrated: $0.integrated,
                    roles: $0.role.requiredRoles)
            })
        let data: Data
        do {
            data = try JSONEncoder().encode(input)
        } catch {
            throw AgentError(.internalError, "cannot encode the login check's input")
        }
        let output = try runner.run(
            FixedScript.powerShell, FixedScript.arguments(LoginCheckScript.text), input: data, timeout: timeoutSeconds * Double(attempts.count * 2) + 60)
        var parsed = ScriptOutput()
        let decoder = JSONDecoder()
        for line in output.output.split(whereSeparator: \.isNewline) {
            let bytes = Data(line.utf8)
            if let refinement = try? decoder.decode(LoginClassifier.Refinement.self, from: bytes), refinement.refined != nil {
                parsed.refinements[refinement.id] = refinement
            } else if let record = try? decoder.decode(LoginClassifier.Record.self, from: bytes), record.ok != nil {
                parsed.records[record.id] = record
            } else if let identity = try? decoder.decode([String: String].self, from: bytes)["identity"] {
                parsed.identity = identity
            }
        }
        if parsed.records.isEmpty {
            let said = output.output.split(whereSeparator: \.isNewline).prefix(3).joined(separator: " ")
            throw AgentError(
                .operationFailed,
                "the login check script gave no answer (powershell.exe exited \(output.exitCode)\(output.timedOut ? ", timed out" : ""): \(said.prefix(300)))")
        }
        return parsed
    }
}
