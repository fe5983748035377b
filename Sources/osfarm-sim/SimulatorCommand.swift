import ArgumentParser
import FarmProtocol
import FarmSimulator
import Foundation

struct SimulatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "osfarm-sim",
        abstract: "Simulated OutSystems servers on this machine, each behind a real sshd.",
        version: "osfarm-sim \(OsfarmVersion.current)",
        subcommands: [Farm.self])
}

struct Farm: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Bring a local simulated farm up or down, or show its state.",
        subcommands: [Up.self, Down.self, Status.self])

    struct Up: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start one deployment controller and N front-ends.")
        @Option(help: "Folder that holds the farm (keys, known_hosts, inventory, servers).") var dir: String
        @Option(help: "How many front-ends.") var frontEnds: Int = 3
        @Option(help: "The osfarm-agent binary each server runs (default: next to osfarm-sim).") var agent: String?
        @Option(help: "The SSH port every server listens on (each has its own address).") var port: Int = 2222

        func validate() throws {
            guard (0...250).contains(frontEnds) else { throw ValidationError("--front-ends must be 0…250") }
        }

        func run() async throws {
            let directory = URL(fileURLWithPath: dir).standardized.path
            let agentPath = agent.map { URL(fileURLWithPath: $0).standardized.path } ?? FarmLayout.siblingAgentPath()
            guard FileManager.default.isExecutableFile(atPath: agentPath) else {
                throw ValidationError("no agent binary at \(agentPath); build it or pass --agent")
            }
            let farm = try LocalFarm.up(
                directory: directory, servers: FarmLayout.servers(frontEnds: frontEnds, agentCommand: agentPath + " serve"), port: port)
            print("farm up in \(directory): \(farm.servers.count) servers")
            for server in farm.servers {
                print("  \(server.name)  \(server.role.rawValue)  \(server.address):\(server.port)  \(server.hostKeyFingerprint)")
            }
            print("inventory:   \(farm.inventory)")
            print("known_hosts: \(farm.knownHosts)")
        }
    }

    struct Down: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop every process of the farm.")
        @Option(help: "The farm's folder.") var dir: String
        @Flag(help: "Also delete the folder.") var remove = false

        func run() async throws {
            try LocalFarm.down(directory: URL(fileURLWithPath: dir).standardized.path, removeFiles: remove)
            print("farm down")
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the farm's servers as they really are (not through the agent).")
        @Option(help: "The farm's folder.") var dir: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let status = try FarmStatus.read(directory: URL(fileURLWithPath: dir).standardized.path)
            print(json ? try status.json() : status.text(), terminator: "")
        }
    }
}
