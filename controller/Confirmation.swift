import FarmController
import Foundation

/// The question every command that causes downtime or removes a way back asks first (`move-db
/// run`, `rollback`, `services stop`, `backups prune`): it shows what is about to happen and asks
/// for the deployment controller's name, so a pasted run id or the wrong inventory stops there.
/// Unattended (no terminal) nobody can answer: `--yes` (`-y`) is then required.
enum Confirmation {
    /// Refuses, as a usage error, when nobody can be asked and `--yes` was not given.
    static func required(yes: Bool, _ what: String) throws {
        guard yes || Terminal.interactive else {
            throw failUsage("\(what): on a terminal it shows what it will do and asks first; unattended, pass --yes. Nothing was changed")
        }
    }

    /// Shows `text` and asks for `answer`; true when it was typed. A "yes" is told what to type
    /// and asked once more; anything else declines (the caller says so, once).
    /// With `interrupt`, a Ctrl-C ends the question at once (not only at Enter) and is named.
    static func ask(
        _ text: String, answer: String, naming: String = "the deployment controller's name", interrupt: OperatorInterrupt? = nil
    ) -> Bool {
        write(text)
        var prompt = "Type \(naming) (\(answer)) to go on, anything else stops: "
        for attempt in 0..<2 {
            write(prompt)
            let line = interrupt.map { Terminal.answer(interrupt: $0) } ?? readLine()
            guard let typed = line?.trimmingCharacters(in: .whitespaces) else {
                if let reason = interrupt?.reason { write("\n\(reason) at the prompt: ") }
                return false
            }
            if typed == answer { return true }
            guard attempt == 0, ["y", "yes"].contains(typed.lowercased()), answer.lowercased() != typed.lowercased() else { return false }
            prompt = "osfarm asks for \(naming), not \"\(typed)\": type \(answer) to go on, anything else stops: "
        }
        return false
    }

    /// The declined line, on stderr (commands that print no result of their own).
    static func declined() -> OsfarmExit {
        write(notConfirmed + "\n")
        return OsfarmExit(status: .stopped)
    }

    static let notConfirmed = "not confirmed; nothing was changed"

    /// The name to type: the farm's deployment controller, else the first server.
    static func answer(_ servers: [ServerEntry]) -> String {
        (servers.first { $0.role == .deploymentController } ?? servers.first)?.name ?? ""
    }

    private static func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }
}
