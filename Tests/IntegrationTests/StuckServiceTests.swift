import FarmController
import FarmProtocol
@testable import FarmSimulator
import Foundation
import XCTest

/// A service that will not stop (the Scheduler stuck in STOP_PENDING): with killStuckServices the
/// agent ends its process by the PID from the service query, waits for STOPPED and says so.
final class StuckServiceTests: XCTestCase {
    static let scheduler = "OutSystems Scheduler Service"
    static let taskKill = #"C:\Windows\System32\taskkill.exe"#

    func testAStuckServiceIsEndedWhenAskedAndThenStartsAgain() async throws {
        let farm = try TestFarm(frontEnds: 1, profile: .fast)
        defer { farm.shutdown() }
        var fault = FaultRequest()
        fault.stuckStopping = [Self.scheduler]
        try farm.inject(fault, on: "fe1")
        let pid = try XCTUnwrap(try farm.store("fe1").read().service(Self.scheduler)?.processID)
        let session = try await farm.session("fe1")
        let started = Date()
        let (data, progress) = try await session.answer(.stopServices(ServiceControlArguments(serviceTimeoutSeconds: 1, killStuckServices: true)))
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
        guard case let .services(_, report) = data else { return XCTFail("\(data)") }
        XCTAssertTrue(report.actions.contains("ended the stuck process of \(Self.scheduler) (PID \(pid)); \(Self.scheduler) stopped"), "\(report.actions)")
        XCTAssertEqual(report.services.first { $0.name == Self.scheduler }?.state, .stopped)
        XCTAssertTrue(progress.contains("\(Self.scheduler) is still STOP_PENDING after 1 s; ending its process PID \(pid) (Scheduler.exe)"), "\(progress)")
        XCTAssertTrue(progress.contains("SUCCESS: The process with PID \(pid) has been terminated."), "\(progress)")
        let truth = try XCTUnwrap(try farm.store("fe1").read().service(Self.scheduler))
        XCTAssertEqual(truth.state, .stopped)
        XCTAssertNil(truth.processID)
        XCTAssertTrue(
            try farm.status().servers.first { $0.name == "fe1" }!.services.filter { $0.name.hasPrefix("OutSystems") }.allSatisfy { $0.state == .stopped })

        guard case let .services(_, restarted) = try await session.answer(.startServices(ServiceControlArguments(serviceTimeoutSeconds: 10))).data else {
            return XCTFail("no report")
        }
        await session.close()
        XCTAssertEqual(restarted.services.first { $0.name == Self.scheduler }?.state, .running)
    }

    func testTaskkillPrintsWhatTheRealProgramPrints() throws {
        let farm = try TestFarm(frontEnds: 1)
        defer { farm.shutdown() }
        let pid = try XCTUnwrap(try farm.store("fe1").read().service(Self.scheduler)?.processID)
        let notForced = try farm.emulate(Self.taskKill, ["/PID", String(pid)], on: "fe1")
        XCTAssertEqual(notForced.status, 1)
        XCTAssertEqual(
            notForced.stdout,
            "ERROR: The process with PID \(pid) could not be terminated.\r\nReason: This process can only be terminated forcefully (with /F option).\r\n")
        XCTAssertEqual(try farm.store("fe1").read().service(Self.scheduler)?.state, .running)
        let forced = try farm.emulate(Self.taskKill, ["/pid", String(pid), "/f"], on: "fe1")
        XCTAssertEqual(forced.status, 0)
        XCTAssertEqual(forced.stdout, "SUCCESS: The process with PID \(pid) has been terminated.\r\n")
        XCTAssertEqual(try farm.store("fe1").read().service(Self.scheduler)?.state, .stopped)
        let gone = try farm.emulate(Self.taskKill, ["/PID", String(pid), "/F"], on: "fe1")
        XCTAssertEqual(gone.status, 128)
        XCTAssertEqual(gone.stdout, "ERROR: The process \"\(pid)\" not found.\r\n")
        let wrong = try farm.emulate(Self.taskKill, ["/X"], on: "fe1")
        XCTAssertEqual(wrong.status, 1)
        XCTAssertEqual(wrong.stdout, "ERROR: Invalid argument/option - '/X'.\r\nType \"TASKKILL /?\" for usage.\r\n")
    }
}
