import FarmProtocol
@testable import FarmSimulator
import Foundation
import XCTest

/// A simulated farm of real sshd processes comes up in seconds and goes down without a process
/// left. The agent's operations on simulated servers run in-process (`AgentInProcessTests`); what
/// only sshd shows is in the session, authentication and deadline tests.
final class ServerOperationsTests: XCTestCase {
    func testFarmUpIsQuickAndFarmDownLeavesNoProcess() throws {
        let started = Date()
        let farm = try TestFarm(frontEnds: 3, profile: .fast)
        XCTAssertLessThan(Date().timeIntervalSince(started), 15, "1 DC + 3 FE up in seconds")
        var pids = farm.record.servers.map(\.sshdPID) + [try XCTUnwrap(farm.record.networkPID)]
        pids += pids.flatMap(ProcessTree.descendants)
        XCTAssertTrue(pids.allSatisfy(ProcessTree.isAlive))
        farm.shutdown()
        XCTAssertTrue(pids.allSatisfy { !ProcessTree.isAlive($0) }, "processes left: \(pids.filter(ProcessTree.isAlive))")
        XCTAssertFalse(FileManager.default.fileExists(atPath: farm.directory))
    }
}
