import FarmProtocol
import Foundation

/// What this server's agents did for each run's changing steps: started, then its result. A
/// resumed run whose controller died after the agent finished a step (but before the journal
/// heard of it) gets that result back instead of the step running a second time. Only results
/// that succeeded are adopted; a failed or cut-off step runs again (every step is idempotent).
struct StepRecords {
    static let root = #"C:\ProgramData\osfarm\runs"#

    struct Record: Codable {
        enum State: String, Codable { case running, succeeded, failed }
        var operation: OperationName
        var state: State
        var time: Date
        /// The result line as the agent sent it (results never hold a secret).
        var result: String?
    }

    let environment: HostEnvironment

    private func path(_ context: RequestContext) -> String {
        // ':' (in "rollback:…") is not allowed in Windows file names.
        let name = context.step.replacingOccurrences(of: ":", with: "~") + ".json"
        return environment.localPath(WindowsLocations.join(WindowsLocations.join(Self.root, context.runID), name))
    }

    /// The result of this step's earlier attempt, when it finished well with the same operation.
    func adoptable(_ context: RequestContext, operation: OperationName) -> (Outcome, Date)? {
        guard let record = read(context), record.state == .succeeded, record.operation == operation, let line = record.result,
            case let .result(_, outcome)? = try? WireCodec.decodeAgentMessage(Array(line.utf8))
        else { return nil }
        return (outcome, record.time)
    }

    func started(_ context: RequestContext, operation: OperationName) {
        write(Record(operation: operation, state: .running, time: Date(), result: nil), context)
    }

    func finished(_ context: RequestContext, operation: OperationName, outcome: Outcome) {
        let line = try? WireCodec.encodeForRecord(.result(requestID: context.step, outcome))
        let succeeded: Bool
        if case .ok = outcome { succeeded = true } else { succeeded = false }
        write(Record(operation: operation, state: succeeded ? .succeeded : .failed, time: Date(), result: line), context)
    }

    private func read(_ context: RequestContext) -> Record? {
        guard let data = FileManager.default.contents(atPath: path(context)) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try? decoder.decode(Record.self, from: data)
    }

    private func write(_ record: Record, _ context: RequestContext) {
        let target = path(context)
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        guard let data = try? encoder.encode(record) else { return }
        try? FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try? data.write(to: URL(fileURLWithPath: target), options: .atomic)
    }
}

/// The rules every changing request goes through in one session: claim the server for the run
/// (once), adopt a step that already succeeded, record the step's start and result.
public final class ChangeGuard {
    /// The run of a changing request that names none (`osfarm services`, `agent push`).
    static let unattributed = RequestContext(runID: "ad-hoc", step: "ad-hoc", controller: "an osfarm command without a run", waitSeconds: 0)

    private let claim: ServerClaim
    private let records: StepRecords
    private var claimedFor: String?

    public init(environment: HostEnvironment, processID: Int32) {
        claim = ServerClaim(environment: environment, processID: processID)
        records = StepRecords(environment: environment)
    }

    /// `inputEnded` says whether the session's input has ended (its controller is gone): a wait
    /// for the claim gives up then, and nothing is done.
    func perform(_ request: Request, say: (String) -> Void, inputEnded: () -> Bool = { false }, run: () -> Outcome) -> Outcome {
        let context = request.context ?? Self.unattributed
        let operation = request.operation.kind
        if claimedFor == nil {
            do {
                var lastTick = Date.distantPast
                let acquired = try claim.acquire(
                    runID: context.runID, controller: context.controller, wait: context.waitSeconds, sessionEnded: inputEnded
                ) { holder in
                    guard Date().timeIntervalSince(lastTick) >= 5 else { return }
                    lastTick = Date()
                    say("waiting for the earlier agent of run \(holder.runID) (process \(holder.processID)) to finish its step")
                }
                if case let .tookOver(holder) = acquired {
                    say("took over the claim of run \(holder.runID) from \(holder.controller): its agent (process \(holder.processID)) is gone")
                }
                claimedFor = context.runID
            } catch {
                return .failure(error)
            }
        } else if claimedFor != context.runID {
            return .failure(AgentError(.serverBusy, "this session changes the server for run \(claimedFor ?? "?"), not \(context.runID)"))
        }
        guard request.context != nil else { return run() }
        if let (outcome, time) = records.adoptable(context, operation: operation) {
            say("\(context.step) already succeeded at \(ServerClaim.format(time)) for run \(context.runID); its result is taken, not run again")
            return outcome
        }
        records.started(context, operation: operation)
        let outcome = run()
        records.finished(context, operation: operation, outcome: outcome)
        return outcome
    }

    /// Lets go of the server at the end of the session.
    func end() {
        if claimedFor != nil { claim.release() }
    }
}
