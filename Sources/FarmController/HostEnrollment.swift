import FarmProtocol
import FarmSSH
import Foundation

/// `osfarm hosts enroll`: puts each server's host key in known_hosts, after the operator (or a
/// list of expected fingerprints) vouched for it. Never accepts blindly, never overwrites an entry.
public enum HostEnrollment {
    public enum Outcome: Sendable, Equatable {
        case enrolled
        case alreadyKnown
        case refused(String)
        case unreachable(String)
    }

    public struct ServerResult: Sendable {
        public var server: ServerEntry
        public var key: HostKey?
        public var outcome: Outcome
    }

    /// Expected fingerprints: one per line, `SHA256:…` alone (any server) or after a server name,
    /// host or `[host]:port`. `#` starts a comment.
    public struct ExpectedFingerprints: Sendable {
        var any: Set<String> = []
        var byLabel: [String: Set<String>] = [:]

        public static func load(path: String) throws -> ExpectedFingerprints {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw UsageProblem("--expect \(path): cannot read the file")
            }
            var expected = ExpectedFingerprints()
            for (index, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
                let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first?.trimmingCharacters(in: .whitespaces) ?? ""
                if line.isEmpty { continue }
                let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
                guard let fingerprint = fields.last, fingerprint.hasPrefix("SHA256:"), fields.count <= 2 else {
                    throw UsageProblem("--expect \(path) line \(index + 1): expected \"[SERVER] SHA256:…\"")
                }
                if fields.count == 2 { expected.byLabel[fields[0].lowercased(), default: []].insert(fingerprint) } else { expected.any.insert(fingerprint) }
            }
            return expected
        }

        func allows(_ fingerprint: String, for server: ServerEntry) -> Bool {
            if any.contains(fingerprint) { return true }
            let labels = [server.name, server.host, KnownHosts.lookupName(host: server.host, port: server.port)].map { $0.lowercased() }
            return labels.contains { byLabel[$0]?.contains(fingerprint) ?? false }
        }
    }

    /// Asks whether to trust a key; nil when nobody can answer.
    public typealias Confirm = (ServerEntry, HostKey) -> Bool

    public static func run(
        _ servers: [ServerEntry], knownHostsPath: String, timeout: Double, expected: ExpectedFingerprints?,
        confirm: Confirm?
    ) async -> [ServerResult] {
        var results: [ServerResult] = []
        // One at a time: the operator answers for each server in turn.
        for server in servers {
            let key: HostKey
            do {
                key = try await SSHConnection.scanHostKey(of: server.endpoint, timeouts: .uniform(timeout))
            } catch {
                results.append(ServerResult(server: server, key: nil, outcome: .unreachable("\(error)")))
                continue
            }
            results.append(
                ServerResult(server: server, key: key, outcome: decide(server, key, knownHostsPath: knownHostsPath, expected: expected, confirm: confirm)))
        }
        return results
    }

    private static func decide(_ server: ServerEntry, _ key: HostKey, knownHostsPath: String, expected: ExpectedFingerprints?, confirm: Confirm?) -> Outcome {
        do {
            switch try KnownHosts.load(path: knownHostsPath).verdict(for: key, host: server.host, port: server.port) {
            case .match: return .alreadyKnown
            case let .changed(lines):
                return .refused(
                    "a different key is on record in \(knownHostsPath) line\(lines.count == 1 ? "" : "s") \(lines.map(String.init).joined(separator: ", ")); not touched (remove it by hand if the server was really re-keyed)"
                )
            case let .revoked(line): return .refused("this key is @revoked in \(knownHostsPath) line \(line)")
            case .unknown: break
            }
        } catch {
            return .refused("\(error)")
        }
        if let expected {
            guard expected.allows(key.fingerprint, for: server) else { return .refused("\(key.fingerprint) is not an expected fingerprint for \(server.name)") }
        } else if let confirm {
            guard confirm(server, key) else { return .refused("not confirmed by the operator") }
        } else {
            return .refused("no terminal to ask on: give the expected fingerprints with --expect FILE")
        }
        do {
            try KnownHosts.append(key, host: server.host, port: server.port, to: knownHostsPath)
            return .enrolled
        } catch {
            return .refused("\(error)")
        }
    }

    public static func exitStatus(_ results: [ServerResult]) -> ExitStatus {
        if results.contains(where: { if case .unreachable = $0.outcome { return true } else { return false } }) { return .unreachable }
        if results.contains(where: { if case .refused = $0.outcome { return true } else { return false } }) { return .someFailed }
        return .success
    }

    public static func table(_ results: [ServerResult]) -> String {
        var table = TextTable(headers: ["SERVER", "ADDRESS", "KEY", "FINGERPRINT", "RESULT"])
        for result in results {
            let outcome: String
            switch result.outcome {
            case .enrolled: outcome = "enrolled"
            case .alreadyKnown: outcome = "already known"
            case let .refused(reason): outcome = "REFUSED: \(reason)"
            case let .unreachable(reason): outcome = "UNREACHABLE: \(reason)"
            }
            table.add([result.server.name, result.server.address, result.key?.type ?? "-", result.key?.fingerprint ?? "-", outcome])
        }
        return table.render()
    }
}
