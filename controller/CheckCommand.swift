import ArgumentParser
import FarmController
import Foundation

extension Osfarm {
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Connect to every selected server, start its agent and inspect it; print one row per server.")

        @OptionGroup var connection: ConnectionOptions

        @Flag(help: "Print one JSON document instead of the table.")
        var json = false

        @Option(help: "How many servers to contact at once.")
        var concurrency: Int = FarmCheck.defaultConcurrency

        func validate() throws {
            guard (1...1024).contains(concurrency) else { throw ValidationError("--concurrency must be 1…1024") }
        }

        func run() async throws {
            let (_, servers, settings) = try connection.prepare()
            let report = CheckReport(await FarmCheck.run(servers, settings: settings, concurrency: concurrency))
            print(json ? try report.json() : report.table(), terminator: "")
            throw OsfarmExit(status: report.exitStatus)
        }
    }
}
