import FarmController
import FarmProtocol
import FarmSimulator
import FarmSSH
import Foundation
import XCTest

/// A local farm for one test: real sshd per server on its own 127.x address, the real agent as the
/// forced command. Always torn down, processes and files.
final class TestFarm {
    let directory: String
    let record: LocalFarmRecord

    /// The osfarm binaries built next to the test bundle.
    static func binary(_ name: String) -> String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// The agent on a plain (not simulated) server: the built binary, forced by its authorized_keys.
    static var agentCommand: String { binary("osfarm-agent") + " serve" }

    /// A farm of one deployment controller and `frontEnds` front-ends, simulated OutSystems servers
    /// with `profile` timing (nil: plain sshd + agent, no simulated Windows). Simulated servers have
    /// the agent at C:\Program Files\osfarm\osfarm-agent.exe behind an emulated Win32-OpenSSH.
    init(
        frontEnds: Int = 2, profile: SimulationProfile? = .instant, clearTextPasswords: Bool = false, windowsAuthentication: Bool = false,
        layout: SimulatedLayout = SimulatedLayout(), privateAgents: Bool = false, customize: (inout [LocalServerSpec]) -> Void = { _ in }
    ) throws {
        directory = NSTemporaryDirectory() + "osfarm-test-\(UUID().uuidString.prefix(8))"
        var specs = FarmLayout.servers(frontEnds: frontEnds, agentBinary: Self.binary("osfarm-agent"))
        if privateAgents {
            // Each server its own copy of the agent, as on real servers (an agent push replaces it).
            for index in specs.indices {
                specs[index].copyAgent = true
                guard profile == nil else { continue }
                let path = directory + "/agents/\(specs[index].name)/osfarm-agent"
                try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try FileManager.default.copyItem(atPath: Self.binary("osfarm-agent"), toPath: path)
                specs[index].agentBinary = path
            }
        }
        customize(&specs)
        let simulation = profile.map {
            SimulationOptions(
                profile: $0, emulatorBinary: Self.binary("osfarm-sim"), clearTextPasswords: clearTextPasswords,
                windowsAuthentication: windowsAuthentication, layout: layout)
        }
        do {
            record = try LocalFarm.up(directory: directory, servers: specs, port: Int.random(in: 20000...40000), simulation: simulation)
            if windowsAuthentication && profile != nil {
                // Sessions with network credentials (delegation set up), so that the login check at
                // the gate passes; LoginCheckTests covers the key-authenticated session without them.
                var credentials = FaultRequest()
                credentials.sessionNetworkCredentials = true
                for server in record.servers { try inject(credentials, on: server.name) }
            }
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }

    var oldDatabase: String { record.oldDatabase!.server }
    var newDatabase: String { record.newDatabase!.server }
    var stateDirectory: String { directory + "/runs" }

    /// `osfarm move-db MODE` against this farm, journaling into the farm's folder.
    func moveDB(_ mode: String, _ extra: [String] = [], environment: [String: String]? = nil) throws -> CommandResult {
        // Tests run without a terminal: `run` needs --yes (its confirmation has its own tests on a pseudo-terminal).
        try osfarm(
            ["move-db", mode, "-i", record.inventory, "--to", newDatabase, "--state-dir", stateDirectory] + (mode == "run" ? ["--yes"] : []) + extra,
            environment: environment)
    }

    /// The run id a run printed (its journal folder name).
    func lastRunID() throws -> String {
        guard let id = try FileManager.default.contentsOfDirectory(atPath: stateDirectory).sorted().last else {
            throw SimulatorError.noFarm(directory: stateDirectory + " (no run)")
        }
        return id
    }

    func journal(_ runID: String) throws -> [JournalEntry] {
        try RunJournal.open(runID: runID, stateDirectory: stateDirectory).2
    }

    /// The bytes of every server's server.hsconf and private.key.
    func configurationFiles() throws -> [String: Data] {
        var files: [String: Data] = [:]
        for server in record.servers {
            for name in ["server.hsconf", "private.key"] {
                let path = try file(#"C:\Program Files\OutSystems\Platform Server\"# + name, on: server.name)
                files[server.name + "/" + name] = try Data(contentsOf: URL(fileURLWithPath: path))
            }
        }
        return files
    }

    /// The farm as it really is (files and processes, not through the agent).
    /// Everything a run leaves on record: the state folder's files, every sshd log and every
    /// server's Configuration Tool log (where a leaked secret would show).
    func everythingRecorded() throws -> String {
        var everything = ""
        for file in try FileManager.default.subpathsOfDirectory(atPath: stateDirectory) {
            everything += (try? String(contentsOfFile: stateDirectory + "/" + file, encoding: .utf8)) ?? ""
        }
        for server in record.servers {
            everything += try String(contentsOfFile: server.directory + "/ssh/sshd.log", encoding: .utf8)
            everything += try String(contentsOfFile: try file(#"C:\Windows\Temp\ConfigurationTool.log"#, on: server.name), encoding: .utf8)
        }
        return everything
    }

    /// A run whose Configuration Tool fails on `server` (exit 1), the fault cleared after; its run id.
    func failedRun(at server: String, _ extra: [String] = []) throws -> String {
        var fault = FaultRequest()
        fault.configurationToolFailure = "Service Center installation failed."
        try inject(fault, on: server)
        let result = try moveDB("run", ["--db-restored"] + extra)
        var clear = FaultRequest()
        clear.clear = true
        try inject(clear, on: server)
        guard result.status == 1 else { throw SimulatorError.noFarm(directory: "the run did not fail as it should: \(result.stdout)") }
        return try lastRunID()
    }

    func status() throws -> FarmStatus { try FarmStatus.read(directory: directory) }

    func store(_ name: String) throws -> StateStore { StateStore(serverDirectory: try simulated(name).directory) }

    /// A Windows path on a simulated server, as a local path.
    func file(_ windowsPath: String, on name: String) throws -> String {
        ServerBuilder.localPath(windowsPath, serverDirectory: try simulated(name).directory)
    }

    /// Runs one of a simulated server's emulated Windows programs directly, as the agent would.
    func emulate(_ windowsPath: String, _ arguments: [String], on name: String) throws -> CommandResult {
        try runProgram(try file(windowsPath, on: name), arguments)
    }

    func inject(_ request: FaultRequest, on name: String) throws {
        try FaultInjection.apply(request, server: name, directory: directory, emulatorBinary: Self.binary("osfarm-sim"))
    }

    /// Ends the machine.config locks injected on a server now, as their holder exiting would, so a
    /// test need not wait out the rest of a lock it no longer needs.
    func releaseMachineConfig(on name: String) throws {
        FaultInjection.releaseMachineConfig(serverDirectory: try simulated(name).directory)
    }

    /// An open agent session with a server.
    func session(_ name: String, timeout: Double = 20) async throws -> AgentSession {
        let server = try server(name)
        return try await AgentSession.open(server, options: settings(timeout: timeout).options(for: server), timeout: timeout)
    }

    deinit { shutdown() }

    func shutdown() {
        try? LocalFarm.down(directory: directory, removeFiles: true)
    }

    func inventory() throws -> Inventory { try InventoryLoader.load(path: record.inventory) }

    func server(_ name: String) throws -> ServerEntry {
        try XCTUnwrap(try inventory().servers.first { $0.name == name }, "no server \(name)")
    }

    func settings(timeout: Double = 10, knownHosts: String? = nil, policy: HostKeyPolicy = .strict) -> ConnectionSettings {
        ConnectionSettings(knownHostsPath: knownHosts ?? record.knownHosts, hostKeyPolicy: policy, timeout: timeout)
    }

    func simulated(_ name: String) throws -> LocalFarmRecord.Server { try record.server(named: name) }

    /// Lets another client key in on a server, forced to the agent like the farm's own key
    /// (`forced` picks the Windows forced command on simulated servers).
    func authorize(publicKeyFile: String, on name: String, forced: ForcedCommand = .installDefault) throws {
        let key = try String(contentsOfFile: publicKeyFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        try LocalFarm.authorize(publicKey: key, on: try simulated(name), farm: record, windowsForced: forced, linuxCommand: Self.agentCommand)
    }

    /// A fresh key pair in the farm's folder; returns the private key path.
    func newClientKey(_ name: String, type: String = "ed25519", passphrase: String = "") throws -> String {
        let path = directory + "/client/\(name)"
        try runProgram("/usr/bin/ssh-keygen", ["-q", "-t", type, "-N", passphrase, "-C", name, "-f", path] + (type == "rsa" ? ["-b", "2048"] : []))
        return path
    }

    /// How many public-key logins the server's sshd has accepted so far.
    func acceptedLogins(on name: String) throws -> Int {
        let log = try String(contentsOfFile: try simulated(name).directory + "/ssh/sshd.log", encoding: .utf8)
        return log.components(separatedBy: "Accepted publickey").count - 1
    }
}

struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs a program to completion with an argv, capturing its output (stderr through a file, so a
/// chatty program cannot block on a full pipe).
@discardableResult
func runProgram(_ path: String, _ arguments: [String], environment: [String: String]? = nil) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let output = Pipe()
    let errorPath = NSTemporaryDirectory() + "osfarm-stderr-\(UUID().uuidString)"
    FileManager.default.createFile(atPath: errorPath, contents: nil)
    defer { try? FileManager.default.removeItem(atPath: errorPath) }
    process.standardOutput = output
    process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
    process.standardInput = Pipe()
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandResult(
        status: process.terminationStatus, stdout: String(decoding: data, as: UTF8.self),
        stderr: String(decoding: FileManager.default.contents(atPath: errorPath) ?? Data(), as: UTF8.self))
}

/// Runs the osfarm CLI.
func osfarm(_ arguments: [String], environment: [String: String]? = nil) throws -> CommandResult {
    try runProgram(TestFarm.binary("osfarm"), arguments, environment: environment)
}
