import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// What an operator watches during a run: on a terminal one live line per server (step, elapsed,
/// last event), redrawn in place; elsewhere plain timestamped lines. Writes to stderr so that
/// stdout keeps the summary, the JSON or nothing else.
public final class LiveView: RunObserver, @unchecked Sendable {
    private struct Line {
        var step = "waiting"
        var since = Date()
        var last = ""
        /// Set when the step ended: the clock stops at its duration.
        var ended: Date?
    }

    private let lock = NSLock()
    private let interactive: Bool
    private let order: [String]
    private var lines: [String: Line] = [:]
    private var drawn = 0
    private var suspended = false
    private var ticker: DispatchSourceTimer?
    private let write: (String) -> Void

    public init(
        servers: [String], interactive: Bool = isatty(STDERR_FILENO) == 1,
        write: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }
    ) {
        self.order = servers
        self.interactive = interactive
        self.write = write
        for server in servers { lines[server] = Line() }
        if interactive {
            // Redraw every second so the clocks of long steps move.
            let timer = DispatchSource.makeTimerSource(queue: .global())
            timer.schedule(deadline: .now() + 1, repeating: 1)
            timer.setEventHandler { [weak self] in self?.lock.withLock { self?.redraw() } }
            timer.resume()
            ticker = timer
        }
    }

    deinit { ticker?.cancel() }

    /// A server started a step.
    public func step(_ server: String, _ step: String) {
        lock.withLock {
            lines[server, default: Line()].step = step
            lines[server, default: Line()].since = Date()
            lines[server, default: Line()].last = ""
            lines[server, default: Line()].ended = nil
            if interactive { redraw() } else { plain("\(server) \(step): started") }
        }
    }

    /// A server's step ended (its clock stops).
    public func stepEnded(_ server: String) {
        lock.withLock {
            lines[server, default: Line()].ended = Date()
            if interactive { redraw() }
        }
    }

    /// Clears the live block and stops drawing it, while osfarm asks the operator something.
    public func suspend() {
        lock.withLock {
            clear()
            suspended = true
        }
    }

    public func resume() {
        lock.withLock {
            suspended = false
            if interactive { redraw() }
        }
    }

    /// Something happened on a server.
    public func event(_ server: String, _ message: String) {
        let message = message.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !message.isEmpty else { return }
        lock.withLock {
            lines[server, default: Line()].last = message
            if interactive { redraw() } else { plain("\(server) \(lines[server]?.step ?? ""): \(message)") }
        }
    }

    /// A line about the whole run, printed above the live block.
    public func note(_ message: String) {
        lock.withLock {
            if interactive {
                clear()
                write(message + "\n")
                redraw()
            } else {
                plain(message)
            }
        }
    }

    /// Leaves the block as it is and stops redrawing.
    public func finish() {
        ticker?.cancel()
        lock.withLock {
            if interactive { redraw() }
            drawn = 0
            suspended = true
        }
    }

    private func plain(_ text: String) {
        let formatter = DateFormatter()
        formatter.dateFormat = "HH:mm:ss"
        write("\(formatter.string(from: Date())) \(text)\n")
    }

    private func clear() {
        guard drawn > 0 else { return }
        write("\u{1B}[\(drawn)A\u{1B}[J")
        drawn = 0
    }

    /// The terminal's width (80 when it does not say).
    private var columns: Int {
        var size = winsize()
        guard ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }

    private func redraw() {
        guard !suspended else { return }
        clear()
        let width = order.map(\.count).max() ?? 0
        var text = ""
        for server in order {
            guard let line = lines[server] else { continue }
            let elapsed = Int((line.ended ?? Date()).timeIntervalSince(line.since))
            let clock = String(format: "%02d:%02d", elapsed / 60, elapsed % 60)
            let step = line.step + (line.ended == nil || line.step == "waiting" ? "" : " ✓")
            let row =
                "\(server.padding(toLength: width, withPad: " ", startingAt: 0))  \(step.padding(toLength: 20, withPad: " ", startingAt: 0))  \(clock)  \(line.last)"
            // One screen line per server, never wrapped: the cursor moves back up by that count.
            text += String(row.prefix(max(20, columns - 1))) + "\n"
        }
        write(text)
        drawn = order.count
    }
}

/// Ctrl-C or SIGTERM during a run: the first stops new steps (in-flight ones finish, the run can
/// be resumed); a second one ends osfarm at once.
public final class OperatorInterrupt: @unchecked Sendable {
    private let lock = NSLock()
    private var requested: String?
    private var runID: String?
    private var sources: [DispatchSourceSignal] = []
    /// Set while osfarm waits for the operator's answer at a prompt.
    private var prompt: Prompt?

    /// How a prompt ends on Ctrl-C: its own read notices the request (`watched`), or, for a read
    /// that cannot be watched (getpass), osfarm ends at once, which it may only before any run
    /// of this process has started.
    public enum Prompt: Sendable {
        case watched
        case blocking
    }

    public init() {}

    public var isRequested: Bool { lock.withLock { requested != nil } }

    /// What asked to stop ("Ctrl-C", "SIGTERM", "the operator"), once asked.
    public var reason: String? { lock.withLock { requested } }

    public func request(_ reason: String = "the operator") {
        lock.withLock { if requested == nil { requested = reason } }
    }

    /// Runs `body` (a question to the operator) with Ctrl-C ending the question rather than
    /// asking the steps in flight to stop: a prompt has none.
    public func asking<T>(_ kind: Prompt, _ body: () throws -> T) rethrows -> T {
        let outer = lock.withLock { () -> Prompt? in
            defer { prompt = kind }
            return prompt
        }
        defer { lock.withLock { prompt = outer } }
        return try body()
    }

    /// The run a second signal leaves behind, once its journal exists.
    public func runStarted(_ runID: String) {
        lock.withLock { self.runID = runID }
    }

    /// What a second signal prints as it quits: steps in flight are cut off, and the journal
    /// knows what finished.
    func quitMessage(_ signal: String) -> String {
        guard let runID = lock.withLock({ runID }) else { return "\nosfarm: \(signal) again: quitting at once; nothing was changed\n" }
        return "\nosfarm: \(signal) again: quitting at once; steps in flight may be cut off on their servers. "
            + "`osfarm runs show \(runID)` shows where each server is; `osfarm resume \(runID)` carries on "
            + "from the journal, `osfarm rollback \(runID)` puts the servers back\n"
    }

    /// Installs the SIGINT and SIGTERM handlers; `notify` is told on the first.
    public func install(notify: @escaping @Sendable (String) -> Void) {
        for (signalNumber, name) in [(SIGINT, "Ctrl-C (SIGINT)"), (SIGTERM, "SIGTERM")] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [self] in
                let (asked, run) = lock.withLock { (prompt, runID) }
                if let asked {
                    request(name)
                    // A watched prompt sees the request and answers "stop" itself.
                    if asked == .blocking && run == nil {
                        FileHandle.standardError.write(Data("\nosfarm: \(name) at the prompt: quitting; nothing was changed\n".utf8))
                        ExitStatus.stopped.endProcess()
                    }
                    return
                }
                if isRequested {
                    FileHandle.standardError.write(Data(quitMessage(name).utf8))
                    ExitStatus.stopped.endProcess()
                }
                request(name)
                notify(name)
            }
            source.resume()
            sources.append(source)
        }
    }
}
