import FarmProtocol
@testable import FarmSimulator
import Foundation
import XCTest

/// Each simulated server records the durations it imposes in delays.jsonl: what the benchmarks
/// take the simulated part of a run's critical path from.
final class SimulatedDelayTests: XCTestCase {
    private var folder: String!

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "osfarm-delays-\(UUID().uuidString.prefix(8))"
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    private func server(_ profile: SimulationProfile) throws -> String {
        let directory = folder + "/" + profile.rawValue
        try ServerBuilder(
            name: "dc1", role: .deploymentController, address: "127.0.0.1", profile: profile,
            controllerAddress: "127.0.0.1", databaseServer: "sqlold.corp.example", hasLogService: true, clearTextPasswords: false,
            emulatorBinary: TestFarm.binary("osfarm-sim"), privateKey: HsconfCipher.newPrivateKey()
        ).build(in: directory)
        return directory
    }

    private func run(_ server: String, _ program: String, _ arguments: [String]) throws {
        _ = try runProgram(ServerBuilder.localPath(#"C:\Windows\System32\"# + program, serverDirectory: server), arguments)
    }

    private func delays(_ server: String) throws -> [SimulatedDelay] {
        guard let text = try? String(contentsOfFile: server + "/" + SimulatedDelay.fileName, encoding: .utf8) else { return [] }
        return try text.split(separator: "\n").map { try JSONDecoder().decode(SimulatedDelay.self, from: Data($0.utf8)) }
    }

    func testStopsStartsAndIISResetsAreRecordedWithTheProfilesDurations() throws {
        let dc = try server(.fast)
        let before = Date().timeIntervalSince1970
        try run(dc, "iisreset.exe", ["/stop"])
        try run(dc, "sc.exe", ["stop", "OutSystems Deployment Service"])
        Thread.sleep(forTimeInterval: SimulationProfile.fast.stopSeconds + 0.1)
        try run(dc, "sc.exe", ["start", "OutSystems Deployment Service"])
        try run(dc, "sc.exe", ["query", "OutSystems Deployment Service"])

        let recorded = try delays(dc)
        XCTAssertEqual(
            recorded.map(\.what),
            [
                "iisreset /stop", "stop OutSystems Deployment Service", "start OutSystems Deployment Service",
                "initialise OutSystems Deployment Service",
            ])
        XCTAssertEqual(
            recorded.map(\.seconds),
            [
                SimulationProfile.fast.iisSeconds, SimulationProfile.fast.stopSeconds, SimulationProfile.fast.startSeconds,
                SimulationProfile.fast.initialisationSeconds,
            ])
        XCTAssertTrue(recorded.allSatisfy { $0.start >= before - 1 && $0.start <= Date().timeIntervalSince1970 + 1 })
        // Initialisation begins when the start ends.
        XCTAssertEqual(recorded[3].start, recorded[2].start + recorded[2].seconds, accuracy: 0.001)
    }

    func testAStuckStopAndTheInstantProfileRecordNothing() throws {
        let instant = try server(.instant)
        try run(instant, "sc.exe", ["stop", "OutSystems Deployment Service"])
        XCTAssertEqual(try delays(instant), [])

        let fast = try server(.fast)
        try StateStore(serverDirectory: fast).update { $0.faults.stuckStopping = ["OutSystems Scheduler Service"] }
        try run(fast, "sc.exe", ["stop", "OutSystems Scheduler Service"])
        XCTAssertEqual(try delays(fast), [], "a service that never stops has no simulated duration")
    }
}
