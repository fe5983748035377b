import Foundation
import XCTest

/// The agent must keep building on Windows, where nobody here can build it. This guard fails when
/// code the agent is built from (agent/, Sources/FarmAgent, Sources/FarmProtocol) uses a Linux-only
/// API outside a Linux-only `#if` branch, or reaches for the simulator outside the one place that
/// maps its paths (HostEnvironment, behind `#if`).
final class PortabilityGuardTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Things that do not exist, or mean something else, on Windows.
    static let linuxOnly = [
        "import Glibc", "Glibc.", "import Musl", "flock(", "fork(", "forkpty", "posix_spawn", "/proc/", "/dev/", "getpwuid", "geteuid",
        "epoll", "inotify", "O_CLOEXEC", "pipe(", "poll(", "waitpid", "kill(", "SIGKILL", "SIGCHLD", "usleep(", "sysconf(", "strerror(",
    ]
    /// The simulator's hooks: only inside a non-Windows branch of the agent.
    static let simulatorOnly = ["OSFARM_SIM_ROOT", "OSFARM_SIM_ADDRESS", "import FarmSimulator", "osfarm-sim"]

    struct Violation: Equatable, CustomStringConvertible {
        var file: String
        var line: Int
        var token: String
        var description: String { "\(file):\(line) uses \(token) outside a Linux-only #if branch" }
    }

    /// Lines guarded for non-Windows: inside `#if os(Linux)`, `#if canImport(Glibc)`, `#if !os(Windows)`,
    /// or the `#else`/`#elseif` of an `#if os(Windows)`.
    static func violations(in text: String, file: String) -> [Violation] {
        var stack: [(condition: String, branch: Int)] = []
        var found: [Violation] = []
        func guarded() -> Bool {
            stack.contains { frame in
                let linux = frame.condition.contains("os(Linux)") || frame.condition.contains("canImport(Glibc)") || frame.condition.contains("!os(Windows)")
                let windows = frame.condition.contains("os(Windows)") && !frame.condition.contains("!os(Windows)")
                return (linux && frame.branch == 0) || (windows && frame.branch > 0)
            }
        }
        for (index, raw) in text.components(separatedBy: "\n").enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("#if ") { stack.append((String(line.dropFirst(4)), 0)); continue }
            if line.hasPrefix("#elseif ") || line == "#else" {
                if var top = stack.popLast() {
                    // An #elseif condition of its own replaces the meaning of the branch.
                    if line.hasPrefix("#elseif ") && !top.condition.contains("os(Windows)") { top.condition = String(line.dropFirst(8)) }
                    top.branch += 1
                    stack.append(top)
                }
                continue
            }
            if line.hasPrefix("#endif") { _ = stack.popLast(); continue }
            if line.hasPrefix("//") || line.hasPrefix("///") || line.hasPrefix("*") { continue }
            let code = line.components(separatedBy: "//").first ?? line
            for token in linuxOnly + simulatorOnly where code.contains(token) && !guarded() {
                found.append(Violation(file: file, line: index + 1, token: token))
            }
        }
        return found
    }

    func testAgentCodeUsesNoLinuxOnlyAPIOutsideItsBranches() throws {
        var violations: [Violation] = []
        var scanned = 0
        for folder in ["agent", "Sources/FarmAgent", "Sources/FarmProtocol"] {
            let base = Self.root.appendingPathComponent(folder)
            let files = try XCTUnwrap(FileManager.default.enumerator(atPath: base.path)).compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
            for file in files {
                scanned += 1
                violations += Self.violations(in: try String(contentsOf: base.appendingPathComponent(file), encoding: .utf8), file: "\(folder)/\(file)")
            }
        }
        XCTAssertGreaterThan(scanned, 20, "the guard must see the agent's sources")
        XCTAssertEqual(violations, [], violations.map(\.description).joined(separator: "\n"))
    }

    func testTheGuardCatchesWhatItShould() {
        let unguarded = "import Foundation\nimport Glibc\nlet x = flock(1, 2)\n"
        XCTAssertEqual(Self.violations(in: unguarded, file: "a.swift").map(\.line), [2, 3])
        let guarded = """
            #if os(Windows)
            import WinSDK
            #else
            import Glibc
            let root = ProcessInfo.processInfo.environment["OSFARM_SIM_ROOT"]
            #endif
            #if canImport(Glibc)
            let y = flock(1, 2)
            #endif
            """
        XCTAssertEqual(Self.violations(in: guarded, file: "b.swift"), [])
        let wrongBranch = "#if os(Windows)\nlet y = flock(1, 2)\n#endif\n#if os(Linux)\n#else\nlet z = OSFARM_SIM_ROOT\n#endif\n"
        XCTAssertEqual(Self.violations(in: wrongBranch, file: "c.swift").map(\.line), [2, 6])
    }
}
