import FarmAgent
import FarmProtocol
@testable import FarmSimulator
import Foundation
import XCTest

/// A simulated farm without sshd (`LocalFarm.up(sshd: false)`: the servers' C: trees, state and
/// the network process for databases, service ports and web servers), whose agent operations run in
/// this process: `ServerOperations` over an `InProcessRunner`. Always torn down, process and files.
final class InProcessFarm {
    let directory: String
    let record: LocalFarmRecord

    /// The osfarm binaries built next to the test bundle.
    static func binary(_ name: String) -> String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name).path
    }

    init(frontEnds: Int = 1, profile: SimulationProfile = .instant, clearTextPasswords: Bool = false) throws {
        directory = NSTemporaryDirectory() + "osfarm-inprocess-\(UUID().uuidString.prefix(8))"
        let specs = FarmLayout.servers(frontEnds: frontEnds, agentBinary: Self.binary("osfarm-agent"))
        let simulation = SimulationOptions(profile: profile, emulatorBinary: Self.binary("osfarm-sim"), clearTextPasswords: clearTextPasswords)
        do {
            record = try LocalFarm.up(directory: directory, servers: specs, port: 1, simulation: simulation, sshd: false)
        } catch {
            try? LocalFarm.down(directory: directory, removeFiles: true)
            throw error
        }
    }

    deinit { shutdown() }

    func shutdown() { try? LocalFarm.down(directory: directory, removeFiles: true) }

    func simulated(_ name: String) throws -> LocalFarmRecord.Server { try record.server(named: name) }

    /// The agent's operations on server `name`, as its agent would run them there.
    func operations(_ name: String, clock: any AgentClock = SystemClock()) throws -> ServerOperations {
        let server = try simulated(name)
        let environment = HostEnvironment(
            root: server.directory, localAddress: server.address, consoleCodePage: (server.language ?? .english).oemCodePage)
        return ServerOperations(environment: environment, runner: InProcessRunner(environment: environment), clock: clock)
    }

    func status() throws -> FarmStatus { try FarmStatus.read(directory: directory) }

    func store(_ name: String) throws -> StateStore { StateStore(serverDirectory: try simulated(name).directory) }

    /// A Windows path on a simulated server, as a local path.
    func file(_ windowsPath: String, on name: String) throws -> String {
        ServerBuilder.localPath(windowsPath, serverDirectory: try simulated(name).directory)
    }

    func inject(_ request: FaultRequest, on name: String) throws {
        try FaultInjection.apply(request, server: name, directory: directory, emulatorBinary: Self.binary("osfarm-sim"))
    }

    /// Ends the machine.config locks injected on a server now, as their holder exiting would.
    func releaseMachineConfig(on name: String) throws {
        let helpers = (try? String(contentsOfFile: try simulated(name).directory + "/helpers.pid", encoding: .utf8)) ?? ""
        for pid in helpers.split(separator: "\n").compactMap({ Int32($0) }) {
            let command = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
            if command.contains("hold-lock") { ProcessTree.terminate(pid, grace: 1) }
        }
    }
}

/// Time that passes only when the agent sleeps; `onSleep` sees each sleep (a test ends a lock there,
/// as its holder exiting would, at the agent's first poll).
final class VirtualClock: AgentClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current = Date(timeIntervalSinceReferenceDate: 0)
    private var sleeps: [Double] = []
    var onSleep: (() -> Void)?

    var now: Date { lock.withLock { current } }
    var slept: [Double] { lock.withLock { sleeps } }
    var elapsed: Double { lock.withLock { current.timeIntervalSinceReferenceDate } }

    func sleep(seconds: Double) {
        let hook = lock.withLock {
            current += seconds
            sleeps.append(seconds)
            return onSleep
        }
        hook?()
    }
}
