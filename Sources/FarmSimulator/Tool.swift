import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// Starts helper programs (ssh-keygen, sshd) by absolute path with an argv, never through a shell.
///
/// posix_spawn rather than Foundation's Process: Process's child monitor blocks in wait4() on a
/// long-lived child such as sshd, which stalls every later Process.waitUntilExit in the same program.
enum Tool {
    /// Runs a program to completion and returns what it printed (stdout and stderr together).
    static func run(_ path: String, _ arguments: [String]) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw SimulatorError.toolMissing(path, hint: "install openssh-client and openssh-server (make test does)")
        }
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw SimulatorError.toolFailed(path, status: -1, output: "pipe failed") }
        let pid: pid_t
        do {
            pid = try spawn(path, arguments, stdout: fds[1], stderr: fds[1])
        } catch {
            close(fds[0]); close(fds[1])
            throw error
        }
        close(fds[1])
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fds[0], &buffer, buffer.count)
            if n > 0 { output += buffer[0..<n]; continue }
            if n < 0 && errno == EINTR { continue }
            break
        }
        close(fds[0])
        let status = waitForExit(pid)
        let text = String(decoding: output, as: UTF8.self)
        guard status == 0 else { throw SimulatorError.toolFailed(path, status: status, output: text) }
        return text
    }

    /// Starts a program with stdin from /dev/null, in its own process group unless `ownGroup` is
    /// false (then it stays in this one, as an ordinary child does); returns its pid.
    static func spawn(_ path: String, _ arguments: [String], stdout: Int32? = nil, stderr: Int32? = nil, ownGroup: Bool = true) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if let stdout { posix_spawn_file_actions_adddup2(&actions, stdout, 1) } else { posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0) }
        if let stderr { posix_spawn_file_actions_adddup2(&actions, stderr, 2) } else { posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16((ownGroup ? POSIX_SPAWN_SETPGROUP : 0) | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        posix_spawnattr_setpgroup(&attributes, 0)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        sigaddset(&defaults, SIGCHLD)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var noMask = sigset_t()
        sigemptyset(&noMask)
        posix_spawnattr_setsigmask(&attributes, &noMask)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        guard rc == 0 else { throw SimulatorError.toolFailed(path, status: rc, output: String(cString: strerror(rc))) }
        return pid
    }

    /// Waits for a child and returns its exit status (128 + signal when killed).
    static func waitForExit(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if status & 0x7f == 0 { return (status >> 8) & 0xff }
        return 128 + (status & 0x7f)
    }

    /// A new key pair at `path` and `path.pub`, no passphrase unless given.
    static func generateKey(at path: String, type: String = "ed25519", passphrase: String = "", comment: String) throws {
        try? FileManager.default.removeItem(atPath: path)
        try? FileManager.default.removeItem(atPath: path + ".pub")
        var arguments = ["-q", "-t", type, "-N", passphrase, "-C", comment, "-f", path]
        if type == "rsa" { arguments += ["-b", "2048"] }
        _ = try run("/usr/bin/ssh-keygen", arguments)
    }
}
