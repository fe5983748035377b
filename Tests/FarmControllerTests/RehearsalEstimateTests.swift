import FarmController
import FarmProtocol
import Foundation
import XCTest

/// The estimate a rehearsal gives for the real window: the replica's measured downtime scaled by
/// how much longer the real farm's steps took (issue 22).
final class RehearsalEstimateTests: XCTestCase {
    private let servers = [
        ServerEntry(name: "dc1", host: "127.0.0.2", user: "u", identity: nil, role: .deploymentController),
        ServerEntry(name: "fe1", host: "127.0.0.3", user: "u", identity: nil, role: .frontEnd),
        ServerEntry(name: "fe2", host: "127.0.0.4", user: "u", identity: nil, role: .frontEnd),
    ]

    func testTheReplicasRunIsScaledByTheRealStepDurations() {
        // On the replica every step of a run took 1 s; on the real farm the Configuration Tool
        // took 91 s: where the replica's apply took 10 steps' time, the real one takes 100.
        var replica: [String: Double] = [:]
        for step in ["stop-iis", "stop-services", "backup", "repoint", "start-iis", "configuration-tool", "start-services", "wait-ready", "verify"] {
            replica[step] = 1
        }
        let durations = SnapshotDurations(runID: "20261101-220000-abcd", stepSeconds: ["configuration-tool": 91], farmDowntimeSeconds: nil)
        let estimate = Rehearsal.estimate(measuredSeconds: 12, replicaSteps: replica, durations: durations, servers: servers, options: MoveOptions())
        XCTAssertGreaterThan(estimate.realModelSeconds, estimate.replicaModelSeconds * 5)
        XCTAssertEqual(estimate.estimateSeconds, 12 * estimate.realModelSeconds / estimate.replicaModelSeconds, accuracy: 0.001)
        XCTAssertTrue(estimate.text.contains("from the step durations of run 20261101-220000-abcd on the real farm"), estimate.text)

        let unmeasured = Rehearsal.estimate(measuredSeconds: 12, replicaSteps: replica, durations: nil, servers: servers, options: MoveOptions())
        XCTAssertEqual(unmeasured.estimateSeconds, 12)
        XCTAssertTrue(unmeasured.text.contains("this is the simulator's timing, not the farm's"), unmeasured.text)
    }
}
