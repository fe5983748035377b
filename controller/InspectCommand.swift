import ArgumentParser
import FarmController
import FarmProtocol
import Foundation

extension Osfarm {
    /// A command of its own rather than `check --save`: check answers "can osfarm work on this
    /// farm now" (its exit status, --database logins); inspect records the farm's shape for a
    /// rehearsal, read-only, with the same `inspect` request behind it.
    struct Inspect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read every selected server, read-only, into one JSON snapshot (no secret) for osfarm-sim farm up --from.",
            discussion: """
                The snapshot holds each server's name, role and its evidence, language and code pages, shell, services with \
                start types and states (IIS among them), platform version, server.hsconf's sections, servers, catalogs and \
                authentication mode (secret values as stand-ins of the same form; private.key is not in it), the agent's \
                version, the inventory's targeting, tags, hooks and options, and the step durations of the last completed \
                run on this farm in --state-dir, when there is one.
                """)

        @OptionGroup var connection: ConnectionOptions

        @Option(help: "Write the snapshot here.") var save: String

        @Option(help: "Where runs are journaled, for their durations (default: $XDG_STATE_HOME/osfarm/runs).") var stateDir: String?

        @Option(help: "How many servers to contact at once.")
        var concurrency: Int = FarmCheck.defaultConcurrency

        func validate() throws {
            guard (1...1024).contains(concurrency) else { throw ValidationError("--concurrency must be 1…1024") }
        }

        func run() async throws {
            let (inventory, servers, settings) = try connection.prepare()
            let checks = await FarmCheck.run(servers, settings: settings, concurrency: concurrency)
            let snapshot = FarmSnapshotTaking.snapshot(
                inventory: inventory, checks: checks, stateDirectory: stateDir ?? RunJournal.defaultStateDirectory())
            do {
                try FarmSnapshotFile.write(snapshot, to: save)
            } catch {
                throw failUsage("cannot write the snapshot \(save): \(error.localizedDescription)")
            }
            print(FarmSnapshotText.summary(snapshot, path: save), terminator: "")
            throw OsfarmExit(status: CheckReport(checks).exitStatus)
        }
    }
}
