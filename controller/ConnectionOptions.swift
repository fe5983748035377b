import ArgumentParser
import FarmController
import FarmSSH

/// Options every command that talks to servers shares.
struct ConnectionOptions: ParsableArguments {
    @Option(name: [.short, .customLong("inventory")], help: "The farm's inventory (YAML).")
    var inventory: String

    @Option(help: "Which servers: names, globs, comma lists, role:NAME, tag:NAME, !exclusions.")
    var limit: String?

    @Option(help: "Seconds allowed for each connection phase and each agent answer.")
    var timeout: Double = 10

    @Option(help: "What to do with a host key known_hosts does not list: strict (refuse) or accept-new (add it).")
    var hostKeyPolicy: HostKeyPolicy = .strict

    @Option(help: "Environment variable holding the client key's passphrase (never pass it as an argument).")
    var passphraseEnv: String = ConnectionSettings.defaultPassphraseVariable

    func validate() throws {
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be between 0 and 3600 seconds") }
    }

    /// Loads the inventory, applies --limit and prepares connection settings; any problem is a usage error.
    func prepare() throws -> (inventory: Inventory, servers: [ServerEntry], settings: ConnectionSettings) {
        do {
            let inventory = try InventoryLoader.load(path: self.inventory)
            let servers = try TargetSelector(limit).select(from: inventory.servers)
            var settings = ConnectionSettings(knownHostsPath: inventory.knownHostsPath, hostKeyPolicy: hostKeyPolicy, timeout: timeout)
            try settings.resolvePassphrases(for: servers, variable: passphraseEnv)
            return (inventory, servers, settings)
        } catch {
            throw failUsage(error)
        }
    }
}

extension HostKeyPolicy: ExpressibleByArgument {}
