import FarmProtocol
import Foundation

/// Every secret this osfarm process has been given, and the environment variables that hold them:
/// the admin password and its `--admin-password-env` variable, key passphrases and their variable.
/// A hook (a program of the operator's, run on the jump host) sees none of these variables unless
/// its inventory passes it by name, and what it prints is masked before anything stores or shows it.
public enum KnownSecrets {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var variableNames: Set<String> = [ConnectionSettings.defaultPassphraseVariable]
    nonisolated(unsafe) private static var secrets: [Secret] = []

    /// A variable whose value is a secret, wherever it was named.
    public static func register(variable: String?) {
        guard let variable, !variable.isEmpty else { return }
        lock.withLock { _ = variableNames.insert(variable) }
    }

    public static func register(_ secret: Secret?) {
        guard let secret, !secret.reveal().isEmpty else { return }
        lock.withLock { if !secrets.contains(secret) { secrets.append(secret) } }
    }

    public static var variables: Set<String> { lock.withLock { variableNames } }

    /// The secret values: those given, and what the secret variables hold now.
    static func values(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        let (names, given) = lock.withLock { (variableNames, secrets) }
        let held = names.compactMap { environment[$0] }
        // Longest first, so a secret that contains another is masked whole.
        return Set(given.map { $0.reveal() } + held).filter { !$0.isEmpty }.sorted { $0.count > $1.count }
    }

    /// `text` with every known secret replaced by `<redacted>`.
    public static func mask(_ text: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        values(environment: environment).reduce(text) { $0.replacingOccurrences(of: $1, with: Secret.redacted) }
    }
}
