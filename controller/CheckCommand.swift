import ArgumentParser
import FarmController
import FarmProtocol
import Foundation

extension Osfarm {
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Connect to every selected server, start its agent and inspect it; print one row per server.")

        @OptionGroup var connection: ConnectionOptions

        @Flag(help: "Print one JSON document instead of the table.")
        var json = false

        @Option(help: "Also log in to this database server (host, host\\INSTANCE, host,port) as every user server.hsconf names, from each server.")
        var database: String?

        @Option(help: "How many servers to contact at once.")
        var concurrency: Int = FarmCheck.defaultConcurrency

        func validate() throws {
            guard (1...1024).contains(concurrency) else { throw ValidationError("--concurrency must be 1…1024") }
        }

        func run() async throws {
            let (_, servers, settings) = try connection.prepare()
            var target: DatabaseServerAddress?
            if let database {
                guard let address = DatabaseServerAddress(database) else {
                    throw failUsage("--database \"\(database)\" is not a database server; use host, host\\INSTANCE, host,port or host\\INSTANCE,port")
                }
                target = address
            }
            let report = CheckReport(await FarmCheck.run(servers, settings: settings, concurrency: concurrency, database: target))
            print(json ? try report.json() : report.table(), terminator: "")
            throw OsfarmExit(status: report.exitStatus)
        }
    }
}
