import ArgumentParser
import FarmController
import FarmProtocol
import Foundation

extension Osfarm {
    struct Backups: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List or prune the backups of server.hsconf and private.key the agent keeps per run on each server.",
            discussion: """
                Every move backs up server.hsconf and private.key on each server it touches, under the run's id, readable by \
                Administrators and SYSTEM only. They are what rollback restores; once the move is confirmed they only hold \
                secrets (the server.hsconf copy can hold clear-text passwords, private.key decrypts the others): prune them.
                """,
            subcommands: [List.self, Prune.self])

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Each server's backups, per run: files, size, last written (the newest first).")

            @OptionGroup var connection: ConnectionOptions
            @Flag(help: "Print one JSON document instead of the table.") var json = false
            @Option(help: "Runs listed per server, the newest first (\(Bounds.backupRunsListed.rangeDescription)).")
            var maxRuns: Int = BackupListArguments.defaultMaxRuns
            @Option(help: "How many servers at once (\(Bounds.concurrency.rangeDescription)).") var concurrency: Int = FarmCheck.defaultConcurrency

            func validate() throws {
                if let problem = Bounds.backupRunsListed.problem(maxRuns, name: "--max-runs") { throw ValidationError(problem) }
                if let problem = Bounds.concurrency.problem(concurrency, name: "--concurrency") { throw ValidationError(problem) }
            }

            func run() async throws {
                let (_, servers, settings) = try connection.prepare()
                let results = await FarmBackups.list(servers, settings: settings, maxRuns: maxRuns, concurrency: concurrency)
                print(json ? try FarmBackups.listJSON(results) : FarmBackups.listTable(results), terminator: "")
                throw OsfarmExit(status: FarmBackups.exitStatus(results))
            }
        }

        struct Prune: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Remove one run's backups from every selected server (or every finished run's, with --completed).",
                discussion:
                    "After this, rollback of that run is no longer possible on those servers, so only a run whose journal shows it completed or rolled back is pruned; --force prunes one this jump host has no journal of, never one whose journal here shows it still needs its way back. A server without a backup of the run has nothing to do."
            )

            @Argument(
                help: ArgumentHelp("The run whose backups to remove (as 'osfarm runs' and 'osfarm backups list' show it).", valueName: "run"),
                completion: Completions.runIDs)
            var runID: String?
            @OptionGroup var connection: ConnectionOptions
            @Option(help: "How many servers at once (\(Bounds.concurrency.rangeDescription)).") var concurrency: Int = FarmCheck.defaultConcurrency
            @Option(help: "Where runs are journaled (the run must be completed or rolled back there).") var stateDir: String?
            @Flag(help: "Prune a run this jump host has no journal of (you know it is finished); never one whose journal here is unfinished.") var force = false
            @Flag(name: [.short, .long], help: "Do not ask first (unattended; without a terminal it is required).") var yes = false
            @Flag(help: "Prune every run of this farm journaled here as completed or rolled back, instead of one run.") var completed = false

            func validate() throws {
                guard (runID == nil) == completed else { throw ValidationError("give a run id, or --completed") }
                if let runID, !BackupArguments.isValidRunID(runID) {
                    throw ValidationError("\"\(runID.prefix(80))\" is not a run id (1–64 letters, digits, '-' or '_')")
                }
                if let problem = Bounds.concurrency.problem(concurrency, name: "--concurrency") { throw ValidationError(problem) }
            }

            func run() async throws {
                let stateDirectory = stateDir ?? RunJournal.defaultStateDirectory()
                // A run whose journal still needs its backups is refused before anything is asked.
                if let runID {
                    do {
                        try FarmBackups.checkPrunable(runID: runID, stateDirectory: stateDirectory, force: force)
                    } catch let error as UsageProblem {
                        throw failUsage(error)
                    }
                }
                try Confirmation.required(yes: yes, "backups prune removes the way back of " + (runID.map { "run \($0)" } ?? "every finished run"))
                let (inventory, servers, settings) = try connection.prepare()
                let runs = runID.map { [$0] } ?? FarmBackups.prunableRuns(stateDirectory: stateDirectory, inventory: inventory)
                guard !runs.isEmpty else {
                    print("no completed or rolled-back run of this farm is journaled in \(stateDirectory): nothing to prune")
                    return
                }
                if !yes {
                    let which = runs.count == 1 ? "run \(runs[0])'s" : "\(runs.count) runs' (\(runs.joined(separator: ", ")))"
                    let text = """
                        About to remove \(which) backups of server.hsconf and private.key on \(servers.map(\.name).joined(separator: ", ")).
                        After this, \(runs.count == 1 ? "'osfarm rollback \(runs[0])'" : "'osfarm rollback' of those runs") can no longer put those servers back.

                        """
                    guard Confirmation.ask(text, answer: Confirmation.answer(inventory.servers)) else { throw Confirmation.declined() }
                }
                var results: [FarmBackups.ServerResult] = []
                for run in runs { results += await FarmBackups.prune(runID: run, servers, settings: settings, concurrency: concurrency) }
                print(FarmBackups.pruneTable(results), terminator: "")
                throw OsfarmExit(status: FarmBackups.exitStatus(results))
            }
        }
    }
}
