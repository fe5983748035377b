import FarmProtocol
import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// One run per farm on this jump host: `run`, `resume` and `rollback` hold an exclusive lock
/// (flock) on a file named after the farm's set of servers, for as long as the process lives. A
/// second one is refused, naming the run and the process that hold it. The kernel drops the lock
/// when the process ends, however it ends, so a lock is never left behind. (Another jump host is
/// stopped by the agents' own claim on each server.)
public final class FarmLock: @unchecked Sendable {
    struct Holder: Codable {
        var runID: String
        var processID: Int32
        var command: String
        var since: Date
    }

    private let descriptor: Int32
    private let path: String

    private init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    /// Lets go: the file is removed while still locked (a waiting process that opened it then
    /// finds it gone and opens a new one), so a finished or refused run leaves no lock file behind.
    deinit {
        unlink(path)
        close(descriptor)
    }

    /// The farm's name for its lock: the SHA-256 of its servers' sorted addresses.
    static func key(_ servers: [ServerEntry]) -> String {
        String(SHA256.hex(Array(servers.map(\.address).sorted().joined(separator: "\n").utf8)).prefix(24))
    }

    public static func acquire(farm servers: [ServerEntry], stateDirectory: String, runID: String, command: String) throws -> FarmLock {
        let folder = stateDirectory + "/.locks"
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw UsageProblem("cannot create \(folder): \(error.localizedDescription)")
        }
        let path = folder + "/" + key(servers) + ".lock"
        let descriptor = try lockedFile(path)
        let holder = Holder(runID: runID, processID: getpid(), command: command, since: Date())
        if let data = try? RunJournal.recordEncoder().encode(holder) {
            _ = ftruncate(descriptor, 0)
            _ = data.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        }
        return FarmLock(descriptor: descriptor, path: path)
    }

    /// Opens the lock file and takes its lock; refuses when another process holds it. A file its
    /// holder removed while this process waited to lock it is not the lock any more: open again.
    private static func lockedFile(_ path: String) throws -> Int32 {
        while true {
            let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw UsageProblem("cannot open \(path): \(String(cString: strerror(errno)))") }
            try refuseIfHeld(descriptor, path)
            var opened = stat(), named = stat()
            if fstat(descriptor, &opened) == 0, stat(path, &named) == 0, opened.st_ino == named.st_ino, opened.st_dev == named.st_dev {
                return descriptor
            }
            close(descriptor)
        }
    }

    private static func refuseIfHeld(_ descriptor: Int32, _ path: String) throws {
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? Data(contentsOf: URL(fileURLWithPath: path))).flatMap { try? RunJournal.recordDecoder().decode(Holder.self, from: $0) }
            close(descriptor)
            let who =
                holder.map { "run \($0.runID) (osfarm process \($0.processID), '\($0.command)', since \(ISO8601DateFormatter().string(from: $0.since)))" }
                ?? "another osfarm process"
            throw UsageProblem(
                "\(who) is driving this farm from this jump host; one run per farm at a time. Wait for it, or stop it (Ctrl-C or SIGTERM) and then resume or roll back that run"
            )
        }
    }

    /// The run whose controller drives this farm from this jump host now, with its process; nil
    /// when none does.
    public static func holder(farm servers: [ServerEntry], stateDirectory: String) -> (runID: String, processID: Int32, command: String)? {
        let path = stateDirectory + "/.locks/" + key(servers) + ".lock"
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        if flock(descriptor, LOCK_SH | LOCK_NB) == 0 {
            flock(descriptor, LOCK_UN)
            return nil
        }
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: path)), let holder = try? RunJournal.recordDecoder().decode(Holder.self, from: data)
        else { return ("?", 0, "?") }
        return (holder.runID, holder.processID, holder.command)
    }

    /// The runs whose controller holds its farm's lock now (run id → process), read by probing
    /// each lock with a shared, non-blocking flock that is released at once: a run not listed has
    /// no live controller, whatever its journal's last phase says.
    public static func heldRuns(stateDirectory: String) -> [String: Int32] {
        let folder = stateDirectory + "/.locks"
        var held: [String: Int32] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where name.hasSuffix(".lock") {
            let descriptor = open(folder + "/" + name, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { continue }
            defer { close(descriptor) }
            if flock(descriptor, LOCK_SH | LOCK_NB) == 0 {
                flock(descriptor, LOCK_UN)
                continue
            }
            let data = try? Data(contentsOf: URL(fileURLWithPath: folder + "/" + name))
            if let holder = data.flatMap({ try? RunJournal.recordDecoder().decode(Holder.self, from: $0) }) { held[holder.runID] = holder.processID }
        }
        return held
    }
}
