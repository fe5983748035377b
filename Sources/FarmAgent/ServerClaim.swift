import FarmProtocol
import Foundation
#if os(Windows)
    import WinSDK
#elseif canImport(Glibc)
    import Glibc
#endif

/// One run at a time changes this server. The agent that serves a run's first changing request
/// claims the server for that run (a small file it creates exclusively) and lets go when its
/// session ends. Another run's changes are refused with the holder's run id; a claim whose agent
/// process is gone (a crashed or killed session) is stale and taken over, and the takeover is
/// reported. An agent of the same run (a `resume` while the crashed run's agent still finishes its
/// step) waits for the earlier agent to let go.
struct ServerClaim {
    static let path = #"C:\ProgramData\osfarm\claim.json"#

    struct Holder: Codable, Equatable {
        var runID: String
        var controller: String
        var processID: Int32
        var since: Date
    }

    enum Acquired: Equatable {
        case claimed
        case tookOver(Holder)
    }

    let environment: HostEnvironment
    let processID: Int32

    private var localPath: String { environment.localPath(Self.path) }

    /// Claims the server for `holder`'s run, waiting up to `wait` seconds for an agent of the same
    /// run to let go. `tick` is called while it waits (so the caller can say so). Once it has
    /// waited, `sessionEnded` is asked before each try and before it returns: an agent whose
    /// controller is gone (an orphan) gives up, and a claim it took meanwhile is let go, so it
    /// never acts on a server another run may have brought back since.
    func acquire(
        runID: String, controller: String, wait: Double, sessionEnded: () -> Bool = { false }, tick: (Holder) -> Void
    ) throws(AgentError) -> Acquired {
        let mine = Holder(runID: runID, controller: controller, processID: processID, since: Date())
        let giveUp = Date().addingTimeInterval(wait)
        var waited = false
        func orphaned() -> AgentError {
            AgentError(
                .operationFailed,
                "the session ended while this agent waited for the claim of run \(runID): its controller is gone, so it gave up and changed nothing")
        }
        while true {
            if waited, sessionEnded() { throw orphaned() }
            let acquired = try attempt(mine, runID: runID, wait: wait, giveUp: giveUp)
            if let acquired {
                if waited, sessionEnded() {
                    release()
                    throw orphaned()
                }
                return acquired
            }
            tick(read() ?? mine)
            Thread.sleep(forTimeInterval: 0.2)
            waited = true
        }
    }

    /// One try at the claim: what was acquired, or nil to wait and try again.
    private func attempt(_ mine: Holder, runID: String, wait: Double, giveUp: Date) throws(AgentError) -> Acquired? {
        if try create(mine) { return .claimed }
        guard let current = read() else {
            // A claim file that cannot be read was cut off mid-write by a crash: stale.
            try replace(with: mine)
            return .claimed
        }
        if current.processID == processID { return .claimed }
        if !Self.isAlive(current.processID) {
            try replace(with: mine)
            return .tookOver(current)
        }
        guard current.runID == runID else {
            throw AgentError(
                .serverBusy,
                "run \(current.runID) from \(current.controller) is changing this server (agent process \(current.processID), since \(Self.format(current.since))); one run at a time. Finish it with 'osfarm resume \(current.runID)' or undo it with 'osfarm rollback \(current.runID)' on that jump host"
            )
        }
        guard Date() < giveUp else {
            throw AgentError(.timedOut, "an earlier agent of run \(runID) (process \(current.processID)) still holds the server after \(Int(wait)) s")
        }
        return nil
    }

    /// Lets go of the claim if it is this process's.
    func release() {
        guard let current = read(), current.processID == processID else { return }
        try? FileManager.default.removeItem(atPath: localPath)
    }

    private func read() -> Holder? {
        guard let data = FileManager.default.contents(atPath: localPath) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try? decoder.decode(Holder.self, from: data)
    }

    private func encode(_ holder: Holder) throws(AgentError) -> Data {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        do {
            return try encoder.encode(holder)
        } catch {
            throw AgentError(.internalError, "cannot encode the server's claim: \(error)")
        }
    }

    /// Creates the claim file if there is none; false when one exists.
    private func create(_ holder: Holder) throws(AgentError) -> Bool {
        let data = try encode(holder)
        let folder = (localPath as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        #if os(Windows)
            let handle = localPath.withCString(encodedAs: UTF16.self) {
                CreateFileW($0, DWORD(GENERIC_WRITE), 0, nil, DWORD(CREATE_NEW), DWORD(FILE_ATTRIBUTE_NORMAL), nil)
            }
            guard handle != INVALID_HANDLE_VALUE else {
                if GetLastError() == DWORD(ERROR_FILE_EXISTS) { return false }
                throw AgentError(.operationFailed, "cannot create \(Self.path): Windows error \(GetLastError())")
            }
            var written: DWORD = 0
            _ = data.withUnsafeBytes { WriteFile(handle, $0.baseAddress, DWORD($0.count), &written, nil) }
            CloseHandle(handle)
            return true
        #else
            let descriptor = open(localPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else {
                if errno == EEXIST { return false }
                throw AgentError(.operationFailed, "cannot create \(Self.path): \(String(cString: strerror(errno)))")
            }
            _ = data.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            close(descriptor)
            return true
        #endif
    }

    private func replace(with holder: Holder) throws(AgentError) {
        try? FileManager.default.removeItem(atPath: localPath)
        guard try create(holder) else {
            throw AgentError(.serverBusy, "another agent claimed this server at the same moment; try again")
        }
    }

    static func isAlive(_ processID: Int32) -> Bool {
        guard processID > 0 else { return false }
        #if os(Windows)
            guard let process = OpenProcess(DWORD(PROCESS_QUERY_LIMITED_INFORMATION), false, DWORD(processID)) else { return false }
            defer { CloseHandle(process) }
            var code: DWORD = 0
            return GetExitCodeProcess(process, &code) && code == DWORD(STILL_ACTIVE)
        #else
            return kill(processID, 0) == 0 || errno == EPERM
        #endif
    }

    static func format(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }
}
