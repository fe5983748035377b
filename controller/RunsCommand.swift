import ArgumentParser
import FarmController
import Foundation

extension Osfarm {
    struct Runs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The journaled runs: list them, or show one.",
            subcommands: [List.self, Show.self, Watch.self], defaultSubcommand: List.self)

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List the journaled runs and their state (the default).")
            @Option(help: "Where runs are journaled.") var stateDir: String?
            @Flag(help: "Print JSON.") var json = false

            func run() async throws {
                let runs = RunCatalog.list(stateDirectory: stateDir ?? RunJournal.defaultStateDirectory())
                print(json ? try RunCatalog.json(runs) : RunCatalog.text(runs), terminator: "")
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "One run from its journal: summary, each server's steps with durations, downtime, and the way out if it is not finished.")
            @Argument(help: "The run id (see osfarm runs).", completion: Completions.runIDs) var runID: String
            @Option(help: "Where runs are journaled.") var stateDir: String?
            @Flag(help: "Print one JSON document instead of text.") var json = false
            @Option(help: "Write the Markdown change record again, from the journal.") var report: String?

            func run() async throws {
                let review: MoveReport
                do {
                    review = try MoveReport.review(runID: runID, stateDirectory: stateDir ?? RunJournal.defaultStateDirectory())
                } catch {
                    throw failUsage(error)
                }
                print(json ? try review.json() : review.details(), terminator: "")
                if let report {
                    do {
                        try review.markdown().write(toFile: report, atomically: true, encoding: .utf8)
                        if !json { print("change record: \(report)") }
                    } catch {
                        throw failUsage("cannot write the change record \(report): \(error.localizedDescription)")
                    }
                }
            }
        }

        struct Watch: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Follow a run from another terminal: its servers' steps live, until it ends; then its summary.")
            @Argument(help: "The run id (see osfarm runs).", completion: Completions.runIDs) var runID: String
            @Option(help: "Where runs are journaled.") var stateDir: String?

            func run() async throws {
                var watch = RunWatch(runID: runID, stateDirectory: stateDir ?? RunJournal.defaultStateDirectory())
                let verbose = CommandLine.arguments.contains("--verbose")
                let report: MoveReport
                do {
                    report = try await watch.follow { LiveView(servers: $0, verbose: verbose) }
                } catch {
                    throw failUsage(error)
                }
                print(report.summary(), terminator: "")
            }
        }
    }
}
