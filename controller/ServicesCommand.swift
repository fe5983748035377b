import ArgumentParser
import FarmController
import FarmProtocol
import Foundation

extension FarmServices.Action: ExpressibleByArgument {}

extension Osfarm {
    struct Services: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show, stop or start the OutSystems services and IIS on the selected servers.",
            discussion:
                "stop takes IIS down first, then the OutSystems services in the documented order (Log, Deployment Controller, Deployment, Scheduler, SMS Connector); start brings them up in the same order, then IIS. Missing and disabled services are skipped; a service already in place is left alone."
        )

        @Argument(help: "status, stop or start") var action: FarmServices.Action
        @OptionGroup var connection: ConnectionOptions
        @Flag(help: "Print one JSON document instead of the table.") var json = false
        @Option(help: "Seconds each service may take to stop or start.") var serviceTimeout: Double = 120
        @Flag(help: "Leave IIS alone.") var noIis = false
        @Option(help: "How many servers at once.") var concurrency: Int = FarmCheck.defaultConcurrency
        @Flag(name: [.short, .long], help: "stop: do not ask first (unattended; without a terminal it is required).") var yes = false

        func validate() throws {
            if let problem = Bounds.serviceTimeoutSeconds.problem(serviceTimeout, name: "--service-timeout") { throw ValidationError(problem) }
            if let problem = Bounds.concurrency.problem(concurrency, name: "--concurrency") { throw ValidationError(problem) }
        }

        func run() async throws {
            if action == .stop { try Confirmation.required(yes: yes, "services stop takes the selected servers out of service") }
            let (inventory, servers, settings) = try connection.prepare()
            // A run of this jump host drives the farm (perhaps waiting at its restore gate): its
            // controller is alive, so the way on is there, not a resume.
            if action != .status, let run = FarmLock.holder(farm: inventory.servers, stateDirectory: RunJournal.defaultStateDirectory()) {
                throw failUsage(
                    "run \(run.runID) (osfarm process \(run.processID), '\(run.command)') is driving this farm from this jump host; services \(action.rawValue) would fight it. "
                        + "Answer or stop it in its terminal (Ctrl-C), or wait for it; 'osfarm runs watch \(run.runID)' follows it. Nothing was changed")
            }
            if action == .stop, !yes {
                let frontEnds = inventory.servers.filter { $0.role == .frontEnd }
                let stopping = frontEnds.filter { server in servers.contains { $0.name == server.name } }
                let text = """
                    About to stop \(noIis ? "" : "IIS and ")the OutSystems services on \(servers.map(\.name).joined(separator: ", ")).
                    \(!frontEnds.isEmpty && stopping.count == frontEnds.count ? "Every front-end stops: the farm stops serving." : "Those servers stop serving.")

                    """
                guard Confirmation.ask(text, answer: Confirmation.answer(inventory.servers)) else { throw Confirmation.declined() }
            }
            let results = await FarmServices.run(
                action, servers: servers, settings: settings, serviceTimeout: serviceTimeout,
                includeIIS: !noIis, concurrency: concurrency
            ) { server, event in
                ProgressLine.print(server: server, event.message)
            }
            print(json ? try FarmServices.json(action, results) : FarmServices.table(results), terminator: "")
            throw OsfarmExit(status: FarmServices.exitStatus(results))
        }
    }
}

/// Progress as plain timestamped lines on stderr, so stdout keeps only the table or the JSON.
enum ProgressLine {
    static func print(server: String, _ message: String) {
        let formatter = DateFormatter()
        formatter.dateFormat = "HH:mm:ss"
        FileHandle.standardError.write(Data("\(formatter.string(from: Date())) \(server): \(message)\n".utf8))
    }
}
