import ArgumentParser
import FarmController
import FarmProtocol

struct Osfarm: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "osfarm",
        abstract: "Move an OutSystems 11 farm's platform database to another DB server, server by server, over SSH.",
        discussion: """
            Exit codes: 0 all done; 1 some servers failed; 2 usage or configuration error; \
            3 stopped by the maintenance window or the operator; 4 some servers unreachable.
            """,
        version: "osfarm \(OsfarmVersion.current) (protocol \(ProtocolVersion.current))",
        subcommands: [Check.self, Inspect.self, MoveDB.self, Resume.self, Rollback.self, Runs.self, Services.self, Backups.self, Hosts.self, Agent.self]
    )
}
