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

    init(
        frontEnds: Int = 1, profile: SimulationProfile = .instant, clearTextPasswords: Bool = false, windowsAuthentication: Bool = false,
        layout: SimulatedLayout = SimulatedLayout()
    ) throws {
        directory = NSTemporaryDirectory() + "osfarm-inprocess-\(UUID().uuidString.prefix(8))"
        let specs = FarmLayout.servers(frontEnds: frontEnds, agentBinary: Self.binary("osfarm-agent"))
        let simulation = SimulationOptions(
            profile: profile, emulatorBinary: Self.binary("osfarm-sim"), clearTextPasswords: clearTextPasswords,
            windowsAuthentication: windowsAuthentication, layout: layout)
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

    /// The agent's operations on server `name`, as its agent would run them there. A virtual clock
    /// only on an instant farm: the simulator's services move on the wall clock, so an agent
    /// polling on a virtual one would see a 0.3 s stop outlast its deadline.
    func operations(_ name: String, clock: any AgentClock = SystemClock()) throws -> ServerOperations {
        guard clock is SystemClock || record.profile == .instant else {
            throw SimulatorError.badFarmRecord(path: directory, reason: "a virtual clock needs the instant profile")
        }
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
        FaultInjection.releaseMachineConfig(serverDirectory: try simulated(name).directory)
    }
}

extension ServerOperations {
    /// The typed data of an operation that must succeed, with its progress lines.
    func answer(_ operation: AgentOperation, file: StaticString = #filePath, line: UInt = #line) throws -> (data: ResultData, progress: [String]) {
        var progress: [String] = []
        switch perform(operation, progress: { progress.append($0.message) }) {
        case let .ok(data): return (data, progress)
        case let .failure(error):
            XCTFail("\(operation.name) failed: \(error.message)", file: file, line: line)
            throw error
        }
    }

    /// The agent's error for an operation that must fail.
    func refusal(_ operation: AgentOperation, file: StaticString = #filePath, line: UInt = #line) throws -> AgentError {
        switch perform(operation, progress: { _ in }) {
        case let .failure(error): return error
        case let .ok(data):
            XCTFail("\(operation.name) should have failed, got \(data)", file: file, line: line)
            throw AgentError(.internalError, "unexpected success")
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
