import Foundation

/// The commands that act on an existing run, and from which of its states each may: the one
/// table `resume`, `rollback` and `backups prune` consult (and the lifecycle tests check whole).
public enum RunCommand: String, CaseIterable, Sendable {
    case resume
    case rollback
    case pruneBackups = "backups prune"
}

/// What a command may do from a run's state.
public enum RunAdmission: Equatable, Sendable {
    case allowed
    /// Nothing left to do; said, and not an error.
    case nothingToDo(String)
    /// Refused (exit 2), with why and what to do instead.
    case refused(String)
}

extension RunLifecycle {
    public func admits(_ command: RunCommand, runID: String) -> RunAdmission {
        switch (command, self) {
        case (.resume, .completed):
            return .nothingToDo("run \(runID) is already complete")
        case (.resume, .rollingBack):
            return .refused(
                "run \(runID) is rolling-back: resuming it would repoint servers that were being put back on the old database. Finish the rollback with osfarm rollback \(runID)"
            )
        case (.resume, .rolledBack):
            return .refused(
                "run \(runID) is rolled-back: resuming it would repoint servers that were put back on the old database. Start a new run (osfarm move-db run) instead"
            )
        case (.resume, _):
            return .allowed
        case (.rollback, .rolledBack):
            return .refused(
                "run \(runID) is already rolled back; a second rollback would mean a second outage for nothing (osfarm runs show \(runID) tells what it did)")
        case (.rollback, _):
            return .allowed
        case (.pruneBackups, .completed), (.pruneBackups, .rolledBack):
            return .allowed
        case (.pruneBackups, _):
            return .refused(
                "run \(runID) is \(rawValue): its backups are its way back (osfarm rollback \(runID) restores from them). End it with osfarm resume \(runID) or osfarm rollback \(runID) first, or pass --force"
            )
        }
    }
}

extension FarmBackups {
    /// Refuses to prune a run whose journal here does not show it finished (completed or rolled
    /// back), or that this jump host has no journal of: its backups may still be its way back.
    /// `force` prunes a run this jump host has no readable journal of; it never overrides a journal
    /// that shows the run still needs its way back.
    public static func checkPrunable(runID: String, stateDirectory: String, force: Bool = false) throws {
        let entries: [JournalEntry]
        do {
            entries = try RunJournal.open(runID: runID, stateDirectory: stateDirectory, forWriting: false, strictRecord: false).entries
        } catch let error as RunError {
            if force { return }
            throw UsageProblem(
                "\(error); osfarm cannot tell whether run \(runID) is finished, and its backups may be its way back. Give the run's --state-dir, or --force if you know it is finished"
            )
        }
        if case let .refused(reason) = RunState(entries: entries).lifecycle.admits(.pruneBackups, runID: runID) {
            throw UsageProblem(
                force ? reason.replacingOccurrences(of: ", or pass --force", with: "") + " (--force does not override a journal that shows it)" : reason)
        }
    }
}

extension FarmBackups {
    /// `backups prune --completed`: the runs journaled here whose backups may go (completed or
    /// rolled back) and that moved this inventory's farm (its identity, or for a run older than
    /// recorded identities the same inventory file), oldest first.
    public static func prunableRuns(stateDirectory: String, inventory: Inventory) -> [String] {
        let farm = FarmIdentity.of(inventory)
        return RunCatalog.list(stateDirectory: stateDirectory).reversed().compactMap { run -> String? in
            guard let lifecycle = RunLifecycle(rawValue: run.state), lifecycle.admits(.pruneBackups, runID: run.runID) == .allowed,
                let record = try? RunJournal.open(runID: run.runID, stateDirectory: stateDirectory, forWriting: false, strictRecord: false).record
            else { return nil }
            let same = record.farmIdentity.map { $0 == farm } ?? (record.inventoryPath == inventory.path)
            return same ? run.runID : nil
        }
    }
}
