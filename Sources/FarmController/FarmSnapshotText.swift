import FarmProtocol
import Foundation

/// What `osfarm inspect --save` prints: one line per server and where the snapshot went.
public enum FarmSnapshotText {
    public static func summary(_ snapshot: FarmSnapshot, path: String) -> String {
        var table = TextTable(headers: ["SERVER", "ROLE", "LANGUAGE", "CODE PAGE", "SHELL", "PLATFORM", "SERVICES", "DATABASES", "STATUS"])
        for server in snapshot.servers {
            let platform = server.platform
            let services = platform?.services.filter { $0.startType != .disabled }.count ?? 0
            let databases = Set((platform?.databases ?? []).map(\.server)).sorted().joined(separator: " ")
            table.add([
                server.name, platform?.role?.rawValue ?? "?", server.locale?.language ?? server.locale?.installLanguage ?? "?",
                server.locale?.oemCodePage.map(String.init) ?? "?", server.sessionShell.map { shortShell($0) } ?? "?",
                platform?.version ?? "?", "\(services)/\(platform?.services.count ?? 0)", databases.isEmpty ? "?" : databases,
                server.status + (server.problem.map { ": \($0)" } ?? ""),
            ])
        }
        var text = table.render()
        let secrets = snapshot.servers.flatMap { $0.platform?.hsconfLayout?.secrets ?? [] }
        let clear = secrets.filter { $0.form == .clear }.count
        text += "\n\(snapshot.servers.count) servers read"
        text += secrets.isEmpty ? "" : "; \(secrets.count) secret values in server.hsconf kept as stand-ins (\(clear) in clear text)"
        text += "\n"
        if let durations = snapshot.durations {
            text += "durations: from run \(durations.runID) (\(durations.stepSeconds.count) steps)\n"
        } else {
            text += "durations: none (no completed run on this farm in the state directory); the replica keeps the simulator's\n"
        }
        text += "snapshot: \(path)\n"
        return text
    }

    static func shortShell(_ shell: SessionShell) -> String {
        shell.isCommandPrompt ? "cmd" : shell.isPowerShell ? "powershell" : shell.path
    }
}
