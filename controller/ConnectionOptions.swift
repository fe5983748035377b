import ArgumentParser
import FarmController
import FarmProtocol
import FarmSSH

/// How much osfarm says on stderr about what it does (a run's debug.log always has everything).
struct DiagnosticOptions: ParsableArguments {
    @Flag(help: "Say on stderr what osfarm does: connections, requests.") var verbose = false
    @Flag(help: "Say everything on stderr: each SSH phase with its time, each request and answer (secrets redacted).") var debug = false
}

/// Options every command that talks to the servers of an inventory shares.
struct ConnectionOptions: ParsableArguments {
    @Option(name: [.short, .customLong("inventory")], help: "The farm's inventory (YAML).")
    var inventory: String

    @Option(help: "Which servers: names, globs, comma lists, role:NAME, tag:NAME, !exclusions.", completion: Completions.limit)
    var limit: String?

    @OptionGroup var reach: ReachOptions

    /// Loads the inventory, applies --limit and prepares connection settings; any problem is a usage error.
    func prepare() throws -> (inventory: Inventory, servers: [ServerEntry], settings: ConnectionSettings) {
        do {
            let inventory = try InventoryLoader.load(path: self.inventory)
            let servers = try TargetSelector(limit).select(from: inventory.servers)
            return (inventory, servers, try reach.settings(for: inventory, servers: servers))
        } catch {
            throw failUsage(error)
        }
    }
}

/// How osfarm reaches servers: deadlines, keepalives, host keys, the key's passphrase. Shared by
/// the commands that take an inventory and by resume and rollback (whose inventory is the run's).
struct ReachOptions: ParsableArguments {
    @Option(help: "Seconds allowed for each connection phase and each agent answer (\(Bounds.connectionTimeoutSeconds.rangeDescription)).")
    var timeout: Double = 10

    @Option(help: "Seconds between SSH keepalives while waiting on a server (\(Bounds.keepaliveIntervalSeconds.rangeDescription)).")
    var keepaliveInterval: Int = ConnectionSettings.defaultKeepaliveInterval

    @Option(help: "Unanswered keepalives in a row before a server is declared lost (\(Bounds.keepaliveCount.rangeDescription)).")
    var keepaliveCount: Int = ConnectionSettings.defaultKeepaliveCount

    @Option(help: "What to do with a host key known_hosts does not list: strict (refuse) or accept-new (add it).")
    var hostKeyPolicy: HostKeyPolicy = .strict

    @Option(help: "Environment variable holding the client key's passphrase (never pass it as an argument).")
    var passphraseEnv: String = ConnectionSettings.defaultPassphraseVariable

    @OptionGroup var diagnostics: DiagnosticOptions

    func validate() throws {
        if let problem = Bounds.connectionTimeoutSeconds.problem(timeout, name: "--timeout") { throw ValidationError(problem) }
        if let problem = Bounds.keepaliveIntervalSeconds.problem(keepaliveInterval, name: "--keepalive-interval") { throw ValidationError(problem) }
        if let problem = Bounds.keepaliveCount.problem(keepaliveCount, name: "--keepalive-count") { throw ValidationError(problem) }
    }

    /// The settings for these servers of the inventory (all of them by default), their keys'
    /// passphrases read from the environment.
    func settings(for inventory: Inventory, servers: [ServerEntry]? = nil) throws -> ConnectionSettings {
        var settings = ConnectionSettings(
            knownHostsPath: inventory.knownHostsPath, hostKeyPolicy: hostKeyPolicy, timeout: timeout, keepaliveInterval: keepaliveInterval,
            keepaliveCount: keepaliveCount)
        try settings.resolvePassphrases(for: servers ?? inventory.servers, variable: passphraseEnv)
        return settings
    }
}

extension HostKeyPolicy: ExpressibleByArgument {}
