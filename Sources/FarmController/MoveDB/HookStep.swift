import Foundation

/// A server's hook as a step, or after a failed step: run on the jump host with the server, run
/// and step in its environment, within the hook's deadline.
enum HookStep {
    static func call(_ event: HookEvent, _ context: StepContext, step: String) -> HookCall {
        HookCall(
            event: event, server: context.server.name, address: context.server.address, host: context.server.host,
            runID: context.record.runID, step: step, passEnvironment: context.hooks.passEnvironment ?? [])
    }

    static func run(_ event: HookEvent, _ context: StepContext) async throws(StepFailure) -> String {
        guard let argv = context.hooks.command(event) else { return "no \(event.rawValue) hook" }
        let step = event == .beforeStop ? StepID.beforeStopHook : StepID.afterVerifyHook
        let result = await HookRunner.run(argv, call: call(event, context, step: step.rawValue), timeout: context.hooks.timeout)
        guard result.succeeded else { throw StepFailure(describe(argv, result, timeout: context.hooks.timeout)) }
        return "\(event.rawValue) hook ran: \(argv.joined(separator: " "))" + (result.outputTail.last.map { " (\($0))" } ?? "")
    }

    static func describe(_ argv: [String], _ result: HookRunner.Result, timeout: Double) -> String {
        let said = result.outputTail.suffix(3).joined(separator: " | ")
        if result.timedOut { return "hook \(argv[0]) did not finish within \(Int(timeout)) s and was ended" + (said.isEmpty ? "" : ": \(said)") }
        return "hook \(argv[0]) " + (result.exitStatus.map { "exited \($0)" } ?? "did not run") + (said.isEmpty ? "" : ": \(said)")
    }
}
