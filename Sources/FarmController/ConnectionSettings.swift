import FarmProtocol
import FarmSSH
import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// How the controller reaches servers: known_hosts, host key policy, keys and their passphrases,
/// deadlines. Built once per command, before any connection.
public struct ConnectionSettings: Sendable {
    public static let defaultPassphraseVariable = "OSFARM_KEY_PASSPHRASE"

    public var knownHostsPath: String
    public var hostKeyPolicy: HostKeyPolicy
    /// Seconds allowed for each phase (connect, handshake, auth, channel) and each agent answer.
    public var timeout: Double
    /// Seconds between SSH keepalives while a session waits (`Bounds.keepaliveIntervalSeconds`).
    public var keepaliveInterval: Int
    /// Keepalives in a row left unanswered before a server is declared lost (`Bounds.keepaliveCount`):
    /// a server that stops answering fails within about interval × (count + 1) seconds, whatever
    /// the request it was in.
    public var keepaliveCount: Int
    private var passphrases: [String: Secret]

    public static let defaultKeepaliveInterval = 15
    public static let defaultKeepaliveCount = 3

    public init(
        knownHostsPath: String, hostKeyPolicy: HostKeyPolicy = .strict, timeout: Double = 10,
        keepaliveInterval: Int = defaultKeepaliveInterval, keepaliveCount: Int = defaultKeepaliveCount,
        passphrases: [String: Secret] = [:]
    ) {
        self.knownHostsPath = knownHostsPath
        self.hostKeyPolicy = hostKeyPolicy
        self.timeout = timeout
        self.keepaliveInterval = keepaliveInterval
        self.keepaliveCount = keepaliveCount
        self.passphrases = passphrases
    }

    public func options(for server: ServerEntry) -> SSHOptions {
        let authentication: SSHAuthentication = server.identity.map { .keyFile(path: $0, passphrase: passphrases[$0]) } ?? .agent
        return SSHOptions(
            knownHostsPath: knownHostsPath, hostKeyPolicy: hostKeyPolicy, authentication: authentication,
            timeouts: .uniform(timeout, keepaliveInterval: keepaliveInterval, keepaliveCountMax: keepaliveCount))
    }

    /// Finds a passphrase for every passphrase-protected key the servers use: from the environment
    /// variable, else by asking on the terminal. Never from the command line.
    public mutating func resolvePassphrases(
        for servers: [ServerEntry], variable: String = defaultPassphraseVariable,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws {
        KnownSecrets.register(variable: variable)
        let keys = Set(servers.compactMap(\.identity)).sorted()
        for path in keys where passphrases[path] == nil {
            let key = try ClientKeyFile.inspect(path: path)
            guard key.isEncrypted else { continue }
            if let value = environment[variable] {
                passphrases[path] = Secret(value)
            } else if isatty(STDIN_FILENO) == 1, let typed = getpass("Passphrase for \(path): ") {
                passphrases[path] = Secret(String(cString: typed))
            } else {
                throw SSHError.keyFile(path: path, reason: "is protected by a passphrase: set \(variable) or run on a terminal to be asked")
            }
            KnownSecrets.register(passphrases[path])
        }
    }
}
