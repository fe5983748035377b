/// `resume --limit`: carrying a run on for some of its servers only. Allowed when it cannot split
/// the farm or break the order: every server left out is already stopped (or moved), and the
/// deployment controller is either selected or done with its apply. The after-steps wait until
/// every server is moved, and the run then ends stopped (resumable), not completed.
public enum ResumeSelection {
    /// Why the selection cannot be resumed; nil when it can.
    public static func problem(record: RunRecord, state: RunState, selected: [String], runbook: Runbook = .moveDatabase) -> String? {
        let left = record.servers.filter { !selected.contains($0) }
        guard !left.isEmpty else { return nil }
        func steps(_ server: String, _ kinds: [PhaseKind]) -> [StepID] {
            runbook.phases.filter { kinds.contains($0.kind) }.flatMap { runbook.steps(of: $0, on: record.server(server), options: record.options).map(\.id) }
        }
        let running = left.filter { server in !steps(server, [.stop]).allSatisfy { state.isDone(server, $0) } }
        if !running.isEmpty {
            return
                "--limit leaves out \(running.joined(separator: ", ")), not stopped yet: the rest would move while \(running.count == 1 ? "it serves" : "they serve") "
                + "on the old database. Include \(running.count == 1 ? "it" : "them"), or resume without --limit"
        }
        if let controller = left.first(where: { record.role(of: $0) == .deploymentController }),
            !steps(controller, [.gate, .apply]).allSatisfy({ state.isDone(controller, $0) })
        {
            return "--limit leaves out the deployment controller \(controller), whose apply is not done: front-ends are applied only after it. Include it"
        }
        return nil
    }

    /// The run's servers outside `selected` that are not moved yet.
    static func leftToDo(record: RunRecord, state: RunState, selected: [String], runbook: Runbook) -> [String] {
        record.servers.filter { server in
            !selected.contains(server) && !runbook.forwardSteps(on: record.server(server), options: record.options).allSatisfy { state.isDone(server, $0.id) }
        }
    }
}
