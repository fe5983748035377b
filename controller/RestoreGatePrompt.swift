import FarmController
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension Terminal {
    /// Asks the operator to type the new server's name once the restore is done.
    static func restoreConfirmation(interrupt: OperatorInterrupt) -> (@Sendable (RestoreGateQuestion) -> Bool)? {
        guard interactive else { return nil }
        return { question in
            interrupt.asking(.watched) { restoreConfirmation(question, interrupt: interrupt) }
        }
    }

    /// The question, under a line that counts the farm's downtime while the DBA restores. On a
    /// terminal that can move its cursor, the line is redrawn each second above the question (the
    /// cursor is saved and put back, so what the operator is typing stays where it is).
    private static func restoreConfirmation(_ question: RestoreGateQuestion, interrupt: OperatorInterrupt) -> Bool {
        let target = question.target
        let redraws = isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
        for _ in 0..<3 {
            var shown = question.downtimeLine(at: Date())
            if let shown { write(shown + "\n") }
            write("Type \(target) when the database is restored there (or 'stop' to stop here): ")
            let tick: (() -> Void)? =
                redraws && shown != nil
                ? {
                    guard let line = question.downtimeLine(at: Date()), line != shown else { return }
                    shown = line
                    // Save the cursor, go up one line, rewrite it, and put the cursor back.
                    write("\u{1B}7\u{1B}[1A\r\u{1B}[2K\(line)\u{1B}8")
                } : nil
            guard let answer = answer(interrupt: interrupt, tick: tick)?.trimmingCharacters(in: .whitespaces) else { return false }
            if answer == target { return true }
            if answer.lowercased() == "stop" { return false }
            write("that is not \(target)\n")
        }
        return false
    }

    private static func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }
}
