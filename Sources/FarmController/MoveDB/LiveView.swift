import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// What an operator watches during a run. On a terminal: one live line per server (what it does
/// or that it waits, the clock, the last event; ✓ done, ✗ failed, in colour unless NO_COLOR is
/// set), a line of overall progress with the time left and the farm's downtime, redrawn in place.
/// Elsewhere: plain timestamped lines, a few per server (each step under --verbose). Writes to
/// stderr so that stdout keeps the summary, the JSON or nothing else.
public final class LiveView: RunObserver, @unchecked Sendable {
    enum Status {
        case waiting, running, failed
        case finished(String)
    }

    struct Line {
        var status = Status.waiting
        var step = ""
        var since = Date()
        var last = ""
    }

    private let lock = NSLock()
    private let interactive: Bool
    private let verbose: Bool
    private let colour: Bool
    private let order: [String]
    private let now: () -> Date
    private var lines: [String: Line] = [:]
    private var progress: RunProgress?
    private var progressSince: (date: Date, done: Int)?
    private var stepWidth = 20
    private var drawn = 0
    private var suspended = false
    private var ticker: DispatchSourceTimer?
    private let write: (String) -> Void

    public init(
        servers: [String], interactive: Bool = isatty(STDERR_FILENO) == 1, verbose: Bool = false,
        colour: Bool? = nil, now: @escaping () -> Date = Date.init, ticking: Bool = true,
        write: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }
    ) {
        self.order = servers
        self.interactive = interactive
        self.verbose = verbose
        self.colour = colour ?? (interactive && (ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty)
        self.now = now
        self.write = write
        for server in servers { lines[server] = Line(since: now()) }
        if interactive && ticking {
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
            lines[server, default: Line()] = Line(status: .running, step: step, since: now())
            stepWidth = max(stepWidth, step.count + 2)
            if interactive { redraw() } else if verbose { plain("\(server) \(step): started") }
        }
    }

    /// A server's step ended: it waits for its next step (its clock counts the wait).
    public func stepEnded(_ server: String) {
        lock.withLock {
            guard var line = lines[server], case .running = line.status else { return }
            line.status = .waiting
            line.since = now()
            line.last = "\(line.step) \(mark(true))" + (line.last.isEmpty ? "" : ": \(line.last)")
            lines[server] = line
            if interactive { redraw() }
        }
    }

    public func stepFailed(_ server: String) {
        lock.withLock {
            lines[server, default: Line()].status = .failed
            if interactive { redraw() } else { plain("\(server) \(lines[server]?.step ?? ""): \(mark(false)) \(lines[server]?.last ?? "")") }
        }
    }

    public func serverFinished(_ server: String, _ summary: String) {
        lock.withLock {
            lines[server, default: Line()].status = .finished(summary)
            lines[server, default: Line()].last = ""
            if interactive { redraw() } else { plain("\(server): \(summary) \(mark(true))") }
        }
    }

    public func progress(_ progress: RunProgress) {
        lock.withLock {
            if progressSince == nil { progressSince = (now(), progress.done) }
            self.progress = progress
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
            if interactive { redraw() } else if verbose { plain("\(server) \(lines[server]?.step ?? ""): \(message)") }
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
        write("\(formatter.string(from: now())) \(text)\n")
    }

    private func clear() {
        guard drawn > 0 else { return }
        write("\u{1B}[\(drawn)A\u{1B}[J")
        drawn = 0
    }

    private func mark(_ ok: Bool) -> String {
        let symbol = ok ? "✓" : "✗"
        return colour ? (ok ? "\u{1B}[32m" : "\u{1B}[31m") + symbol + "\u{1B}[0m" : symbol
    }

    /// The terminal's width (80 when it does not say).
    private var columns: Int {
        var size = winsize()
        guard ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }

    static func clock(_ seconds: Double) -> String {
        let whole = Int(max(0, seconds))
        return whole >= 3600
            ? String(format: "%d:%02d:%02d", whole / 3600, whole / 60 % 60, whole % 60) : String(format: "%02d:%02d", whole / 60, whole % 60)
    }

    /// The block as it stands: one row per server, then the progress line.
    func rows() -> [String] {
        let width = order.map(\.count).max() ?? 0
        let time = now()
        var rows: [String] = []
        for server in order {
            guard let line = lines[server] else { continue }
            let what: String, visible: Int
            switch line.status {
            case .waiting: (what, visible) = ("waiting", 7)
            case .running: (what, visible) = (line.step, line.step.count)
            case .failed: (what, visible) = ("\(line.step) \(mark(false))", line.step.count + 2)
            case let .finished(summary): (what, visible) = ("\(summary) \(mark(true))", summary.count + 2)
            }
            let clock: String
            if case .finished = line.status { clock = "     " } else { clock = Self.clock(time.timeIntervalSince(line.since)) }
            let pad = String(repeating: " ", count: max(0, stepWidth - visible))
            rows.append("\(server.padding(toLength: width, withPad: " ", startingAt: 0))  \(what)\(pad)  \(clock)  \(line.last)")
        }
        if let progress {
            var parts = ["\(progress.done)/\(progress.total) steps"]
            if let since = progressSince, progress.done > since.done, progress.done < progress.total {
                let perStep = time.timeIntervalSince(since.date) / Double(progress.done - since.done)
                parts.append("about \(Availability.format(perStep * Double(progress.total - progress.done))) left")
            }
            if let down = progress.farmDownSince { parts.append("farm down \(Self.clock(time.timeIntervalSince(down))) (no front-end serving)") }
            rows.append(parts.joined(separator: " · "))
        }
        return rows
    }

    private func redraw() {
        guard !suspended else { return }
        clear()
        let rows = rows()
        // One screen line per row, never wrapped: the cursor moves back up by that count. (The
        // colour codes are not cut: only a row's plain tail can pass the width.)
        let limit = max(20, columns - 1)
        write(rows.map { Self.cut($0, to: limit) + "\n" }.joined())
        drawn = rows.count
    }

    /// `text` cut to `limit` visible characters, escape sequences kept whole.
    static func cut(_ text: String, to limit: Int) -> String {
        var result = "", visible = 0, escape = false
        for character in text {
            if character == "\u{1B}" { escape = true }
            if !escape {
                guard visible < limit else { break }
                visible += 1
            }
            result.append(character)
            if escape && character.isLetter { escape = false }
        }
        return result + (text.contains("\u{1B}") && !result.hasSuffix("\u{1B}[0m") && result.contains("\u{1B}[3") ? "\u{1B}[0m" : "")
    }
}

/// How far a run is, as the live view shows it.
public struct RunProgress: Sendable, Equatable {
    public var done: Int
    public var total: Int
    /// Since when no front-end serves, while that lasts.
    public var farmDownSince: Date?

    public init(done: Int, total: Int, farmDownSince: Date?) {
        self.done = done
        self.total = total
        self.farmDownSince = farmDownSince
    }
}

/// Ctrl-C or SIGTERM during a run: the first stops new steps (in-flight ones finish, the run can
/// be resumed); a second one ends osfarm at once.
public final class OperatorInterrupt: @unchecked Sendable {
    private let lock = NSLock()
    private var requested: String?
    private var runID: String?
    /// The "Not serving now" block of the run, read from its journal when asked.
    private var wayOut: (@Sendable () -> [String]?)?
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
    public func runStarted(_ runID: String, wayOut: (@Sendable () -> [String]?)? = nil) {
        lock.withLock {
            self.runID = runID
            self.wayOut = wayOut
        }
    }

    /// What a second signal prints as it quits: steps in flight are cut off, the journal knows
    /// what finished, and which servers are not serving with the commands that end that state.
    public func quitMessage(_ signal: String) -> String {
        let current: (runID: String?, wayOut: (@Sendable () -> [String]?)?) = lock.withLock { (self.runID, self.wayOut) }
        let wayOut = current.wayOut
        guard let runID = current.runID else { return "\nosfarm: \(signal) again: quitting at once; nothing was changed\n" }
        var text =
            "\nosfarm: \(signal) again: quitting at once; steps in flight may be cut off on their servers. "
            + "`osfarm runs show \(runID)` shows where each server is.\n"
        if let lines = wayOut?() {
            text += lines.joined(separator: "\n") + "\n"
        } else {
            text += "`osfarm resume \(runID)` carries on from the journal, `osfarm rollback \(runID)` puts the servers back\n"
        }
        return text
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
