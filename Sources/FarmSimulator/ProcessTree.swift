import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// Finding and stopping the processes a simulated server started (sshd, its session children, agents).
public enum ProcessTree {
    /// Every live descendant of `pid`, read from /proc.
    public static func descendants(of pid: Int32) -> [Int32] {
        var children: [Int32: [Int32]] = [:]
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let child = Int32(entry),
                let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            // Fields after the command name: state, ppid, …
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 1, let parent = Int32(fields[1]) else { continue }
            children[parent, default: []].append(child)
        }
        var result: [Int32] = []
        var queue = children[pid] ?? []
        while let next = queue.popLast() {
            result.append(next)
            queue.append(contentsOf: children[next] ?? [])
        }
        return result
    }

    public static func isAlive(_ pid: Int32) -> Bool {
        // 0 and negative numbers name process groups (a farm without sshd records pid 0).
        guard pid > 0, kill(pid, 0) == 0 else { return false }
        // A zombie is dead for our purposes.
        if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") {
            return !stat[stat.index(after: close)...].hasPrefix(" Z")
        }
        return true
    }

    /// Sends SIGTERM to `pid` and its descendants, then SIGKILL to whatever is left after `grace`.
    public static func terminate(_ pid: Int32, grace: TimeInterval = 2) {
        guard pid > 0 else { return }
        let all = [pid] + descendants(of: pid)
        for process in all { kill(process, SIGCONT); kill(process, SIGTERM) }
        let deadline = Date().addingTimeInterval(grace)
        while Date() < deadline && all.contains(where: isAlive) {
            for process in all { _ = waitpid(process, nil, WNOHANG) }
            usleep(20_000)
        }
        for process in all where isAlive(process) { kill(process, SIGKILL) }
        // Reap what is ours (a farm started by this process); others are reaped by init.
        for process in all { _ = waitpid(process, nil, WNOHANG) }
    }

    /// Sends `signal` to `pid` and all its descendants (SIGSTOP to freeze a server, SIGCONT to thaw it).
    public static func signalTree(_ pid: Int32, _ signal: Int32) {
        for process in [pid] + descendants(of: pid) { kill(process, signal) }
    }
}
