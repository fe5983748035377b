import Foundation

/// `osfarm runs watch RUN`: a run followed from another terminal, from its journal alone. The
/// journal's entries are replayed into a live view as they are appended, until the run ends or
/// its controller is gone (nobody holds the farm's lock), and then its summary is returned.
public struct RunWatch {
    public let runID: String
    public let stateDirectory: String
    private var seen = 0

    public init(runID: String, stateDirectory: String) {
        self.runID = runID
        self.stateDirectory = stateDirectory
    }

    /// Follows the run until it ends; `pause` waits between two reads of the journal.
    public mutating func follow(
        makeObserver: ([String]) -> any RunObserver, pause: () async -> Void = { try? await Task.sleep(nanoseconds: 1_000_000_000) }
    ) async throws -> MoveReport {
        var opened = try RunJournal.open(runID: runID, stateDirectory: stateDirectory, forWriting: false, strictRecord: false)
        let observer = makeObserver(opened.record.servers)
        observer.note("watching run \(runID) (Ctrl-C stops watching, not the run)")
        while true {
            feed(opened.entries, record: opened.record, into: observer)
            let state = RunState(entries: opened.entries)
            let driven = FarmLock.heldRuns(stateDirectory: stateDirectory)[runID] != nil
            if !driven {
                if state.lifecycle.isOpen { observer.note("no controller drives run \(runID) now") }
                observer.finish()
                return try MoveReport.review(runID: runID, stateDirectory: stateDirectory)
            }
            await pause()
            opened = try RunJournal.open(runID: runID, stateDirectory: stateDirectory, forWriting: false, strictRecord: false)
        }
    }

    /// Tells the observer what the entries not seen yet say, as the engine would have.
    mutating func feed(_ entries: [JournalEntry], record: RunRecord, into observer: any RunObserver) {
        guard entries.count > seen else { return }
        var state = RunState(entries: Array(entries[..<seen]))
        for entry in entries[seen...] {
            state.apply(entry)
            switch (entry.server, entry.event) {
            case let (server?, .started): observer.step(server, entry.step)
            case let (server?, .finished):
                if let message = entry.message { observer.event(server, message) }
                observer.stepEnded(server)
                let steps = Runbook.moveDatabase.forwardSteps(on: record.server(server), options: record.options).map(\.id.rawValue)
                if !steps.isEmpty && steps.allSatisfy({ (step: String) in state.status(server, step) == .done }) {
                    observer.serverFinished(server, "moved to \(record.targets)")
                }
            case let (server?, .failed):
                observer.event(server, "FAILED: \(entry.message ?? "")")
                observer.stepFailed(server)
            case (nil, .started):
                if case .phase = entry.subject { observer.note(entry.message ?? entry.step) }
            case (nil, .finished), (nil, .failed), (nil, .skipped):
                if entry.subject == .run || entry.subject == .rollback {
                    observer.note("\(entry.step) \(entry.event.rawValue): \(entry.message ?? "")")
                }
            default: break
            }
        }
        seen = entries.count
        let total = record.servers.reduce(0) { count, server in
            count + Runbook.moveDatabase.forwardSteps(on: record.server(server), options: record.options).count
        }
        let done = record.servers.reduce(0) { count, server in
            count
                + Runbook.moveDatabase.forwardSteps(on: record.server(server), options: record.options).filter { state.isDone(server, $0.id) }.count
        }
        observer.progress(
            RunProgress(done: done, total: total, farmDownSince: Availability(record: record, state: state, now: Date()).farmDownSince))
    }
}
