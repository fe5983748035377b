import FarmController
import FarmProtocol
import Foundation
import XCTest

/// `resume --limit`: some of a run's servers carried on, never splitting the farm or the order.
final class ResumeSelectionTests: XCTestCase {
    func testALimitedResumeMovesTheSelectedServersHoldsTheAfterStepsAndEndsResumable() async throws {
        let farm = ScriptedFarm()
        farm.agents["fe2"]!.failures[.runConfigurationTool] = [.agentFailed(operation: "run-configuration-tool", AgentError(.operationFailed, "SC failed"))]
        let journal = farm.newJournal()
        let failed = try await farm.engine(journal).run()
        XCTAssertEqual(failed.exitStatus, .someFailed)
        let state = RunState(entries: try journal.entries())
        XCTAssertNil(ResumeSelection.problem(record: farm.record, state: state, selected: ["dc1", "fe1", "fe3"]))

        let selected = farm.servers.filter { $0.name != "fe2" }
        let engine = try RunEngine(
            record: farm.record, journal: journal, servers: selected, agents: farm.agents, observer: SilentObserver(),
            interrupt: OperatorInterrupt(), clock: farm.clock, adminPassword: nil, confirmRestore: nil)
        let outcome = await engine.run()
        guard case let .stopped(message) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertTrue(message.contains("still to move: fe2") && message.contains("osfarm resume run-1"), message)
        XCTAssertEqual(farm.agents["fe3"]!.database, "sqlnew", "the selected front-end moved")
        XCTAssertFalse(try journal.entries().contains { $0.step == "apply-settings" }, "the after-steps wait for every server")
        XCTAssertEqual(RunState(entries: try journal.entries()).lifecycle, .stopped)

        // Without --limit the run ends: fe2, then the after-steps.
        let finished = try await farm.engine(journal).run()
        XCTAssertEqual(finished, .completed)
        XCTAssertTrue(try journal.entries().contains { $0.step == "apply-settings" && $0.event == .finished })
    }

    func testALimitThatLeavesAServingServerOrAnUnfinishedControllerOutIsRefused() async throws {
        var farm = ScriptedFarm()
        farm.options.databaseRestored = false
        let journal = farm.newJournal()
        _ = try await farm.engine(journal).run()  // stopped at the gate: every server stopped, none applied
        let atGate = RunState(entries: try journal.entries())
        let controller = try XCTUnwrap(ResumeSelection.problem(record: farm.record, state: atGate, selected: ["fe1", "fe2", "fe3"]))
        XCTAssertTrue(controller.contains("leaves out the deployment controller dc1"), controller)
        XCTAssertNil(ResumeSelection.problem(record: farm.record, state: atGate, selected: ["dc1", "fe1"]))

        let fresh = ScriptedFarm()
        let stopping = fresh.newJournal()
        fresh.agents["fe3"]!.failures[.stopServices] = [.agentFailed(operation: "stop-services", AgentError(.timedOut, "Scheduler still STOP_PENDING"))]
        _ = try await fresh.engine(stopping).run()
        let serving = try XCTUnwrap(
            ResumeSelection.problem(record: fresh.record, state: RunState(entries: try stopping.entries()), selected: ["dc1", "fe1", "fe2"]))
        XCTAssertTrue(serving.contains("leaves out fe3, not stopped yet"), serving)
    }
}
