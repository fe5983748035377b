import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// A program run on a pseudo-terminal, so it sees a terminal and asks its questions; the test
/// reads what it prints and types the answers.
final class PseudoTerminalSession {
    private let master: Int32
    private let pid: pid_t
    private var buffer = ""

    struct Timeout: Error, CustomStringConvertible {
        var description: String
    }

    init(_ program: String, _ arguments: [String]) throws {
        // /dev/ptmx by hand (posix_openpt and friends are not in Swift's Glibc module): unlock, number.
        master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
        var unlock: Int32 = 0
        var number: UInt32 = 0
        guard master >= 0, ioctl(master, 0x4004_5431 /* TIOCSPTLCK */, &unlock) == 0, ioctl(master, 0x8004_5430 /* TIOCGPTN */, &number) == 0 else {
            throw Timeout(description: "no pseudo-terminal")
        }
        let slave = open("/dev/pts/\(number)", O_RDWR | O_NOCTTY)
        guard slave >= 0 else { throw Timeout(description: "cannot open the pseudo-terminal") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        for fd: Int32 in [0, 1, 2] { posix_spawn_file_actions_adddup2(&actions, slave, fd) }
        posix_spawn_file_actions_addclose(&actions, master)
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        // A crash prints its backtrace and ends at once instead of waiting for a key on the terminal.
        var environment: [UnsafeMutablePointer<CChar>?] = [strdup("SWIFT_BACKTRACE=enable=yes,interactive=no")]
        var index = 0
        while let entry = environ[index] {
            if !String(cString: entry).hasPrefix("SWIFT_BACKTRACE=") { environment.append(strdup(entry)) }
            index += 1
        }
        environment.append(nil)
        defer { environment.forEach { free($0) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, program, &actions, nil, argv, environment)
        posix_spawn_file_actions_destroy(&actions)
        close(slave)
        guard rc == 0 else { throw Timeout(description: "cannot start \(program)") }
        pid = child
    }

    deinit {
        kill(pid, SIGKILL)
        close(master)
    }

    /// Reads until `marker` appears (within `timeout`); returns everything read so far and keeps the rest.
    func read(until marker: String, timeout: TimeInterval = 20) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while !buffer.contains(marker) {
            guard Date() < deadline else { throw Timeout(description: "no \"\(marker)\" in: \(buffer)") }
            guard pump(milliseconds: 100) else { throw Timeout(description: "the program ended before \"\(marker)\": \(buffer)") }
        }
        let range = buffer.range(of: marker)!
        let text = String(buffer[..<range.upperBound])
        buffer.removeSubrange(..<range.upperBound)
        return text
    }

    /// Sends a signal, as the terminal sends SIGINT for Ctrl-C (the program is not in the
    /// terminal's session, so a typed ^C would reach nobody).
    func signal(_ number: Int32) {
        kill(pid, number)
    }

    func write(_ text: String) {
        _ = text.withCString { Glibc.write(master, $0, strlen($0)) }
    }

    /// Reads to the end and waits for the exit status.
    func finish(timeout: TimeInterval = 30) throws -> (Int32, String) {
        let deadline = Date().addingTimeInterval(timeout)
        while pump(milliseconds: 100) {
            guard Date() < deadline else { throw Timeout(description: "the program did not end: \(buffer)") }
        }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return ((status >> 8) & 0xff, buffer)
    }

    /// False once the terminal is closed (the program ended).
    private func pump(milliseconds: Int32) -> Bool {
        var descriptor = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, milliseconds) > 0 else { return true }
        var chunk = [UInt8](repeating: 0, count: 4096)
        let count = Glibc.read(master, &chunk, chunk.count)
        guard count > 0 else { return false }
        buffer += String(decoding: chunk[0..<count], as: UTF8.self)
        return true
    }
}
