import FarmAgent
import FarmProtocol
@testable import FarmSimulator
import Foundation
import XCTest

/// A service that will not stop (the Scheduler stuck in STOP_PENDING): with killStuckServices the
/// agent ends its process by the PID from the service query, waits for STOPPED and says so. The
/// agent runs in-process, its wait for the stuck service on a virtual clock.
final class StuckServiceTests: XCTestCase {
    static let scheduler = "OutSystems Scheduler Service"
    static let taskKill = #"C:\Windows\System32\taskkill.exe"#

    func testAStuckServiceIsEndedWhenAskedAndThenStartsAgain() throws {
        let farm = try InProcessFarm(frontEnds: 1)
        defer { farm.shutdown() }
        var fault = FaultRequest()
        fault.stuckStopping = [Self.scheduler]
        try farm.inject(fault, on: "fe1")
        let pid = try XCTUnwrap(try farm.store("fe1").read().service(Self.scheduler)?.processID)
        let clock = VirtualClock()
        let started = Date()
        let (data, progress) = try farm.operations("fe1", clock: clock).answer(
            .stopServices(ServiceControlArguments(serviceTimeoutSeconds: 60, killStuckServices: true)))
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
        XCTAssertGreaterThanOrEqual(clock.elapsed, 60, "the stuck service's deadline is waited out on the virtual clock")
        guard case let .services(_, report) = data else { return XCTFail("\(data)") }
        XCTAssertTrue(report.actions.contains("ended the stuck process of \(Self.scheduler) (PID \(pid)); \(Self.scheduler) stopped"), "\(report.actions)")
        XCTAssertEqual(report.services.first { $0.name == Self.scheduler }?.state, .stopped)
        XCTAssertTrue(progress.contains("\(Self.scheduler) is still STOP_PENDING after 60 s; ending its process PID \(pid) (Scheduler.exe)"), "\(progress)")
        XCTAssertTrue(progress.contains("SUCCESS: The process with PID \(pid) has been terminated."), "\(progress)")
        let truth = try XCTUnwrap(try farm.store("fe1").read().service(Self.scheduler))
        XCTAssertEqual(truth.state, .stopped)
        XCTAssertNil(truth.processID)
        XCTAssertTrue(
            try farm.status().servers.first { $0.name == "fe1" }!.services.filter { $0.name.hasPrefix("OutSystems") }.allSatisfy { $0.state == .stopped })

        guard
            case let .services(_, restarted) = try farm.operations("fe1", clock: clock).answer(
                .startServices(ServiceControlArguments(serviceTimeoutSeconds: 10))
            ).data
        else { return XCTFail("no report") }
        XCTAssertEqual(restarted.services.first { $0.name == Self.scheduler }?.state, .running)
        XCTAssertEqual(try farm.store("fe1").read().service(Self.scheduler)?.state, .running)
    }

    /// taskkill.exe as the agent's runner calls it (in-process), what it prints byte for byte.
    func testTaskkillPrintsWhatTheRealProgramPrints() throws {
        let farm = try InProcessFarm(frontEnds: 1)
        defer { farm.shutdown() }
        let server = try farm.simulated("fe1")
        let runner = InProcessRunner(environment: HostEnvironment(root: server.directory, localAddress: server.address))
        let pid = try XCTUnwrap(try farm.store("fe1").read().service(Self.scheduler)?.processID)
        let notForced = try runner.run(Self.taskKill, ["/PID", String(pid)])
        XCTAssertEqual(notForced.exitCode, 1)
        XCTAssertEqual(
            notForced.output,
            "ERROR: The process with PID \(pid) could not be terminated.\r\nReason: This process can only be terminated forcefully (with /F option).\r\n")
        XCTAssertEqual(try farm.store("fe1").read().service(Self.scheduler)?.state, .running)
        let forced = try runner.run(Self.taskKill, ["/pid", String(pid), "/f"])
        XCTAssertEqual(forced.exitCode, 0)
        XCTAssertEqual(forced.output, "SUCCESS: The process with PID \(pid) has been terminated.\r\n")
        XCTAssertEqual(try farm.store("fe1").read().service(Self.scheduler)?.state, .stopped)
        let gone = try runner.run(Self.taskKill, ["/PID", String(pid), "/F"])
        XCTAssertEqual(gone.exitCode, 128)
        XCTAssertEqual(gone.output, "ERROR: The process \"\(pid)\" not found.\r\n")
        let wrong = try runner.run(Self.taskKill, ["/X"])
        XCTAssertEqual(wrong.exitCode, 1)
        XCTAssertEqual(wrong.output, "ERROR: Invalid argument/option - '/X'.\r\nType \"TASKKILL /?\" for usage.\r\n")
    }
}
