import ArgumentParser
import FarmController
import Foundation

/// What the shell completions offer beyond option names: the journaled runs' ids, and the
/// inventory's servers, roles and tags for --limit (the last term of a comma list).
enum Completions {
    static let runIDs = CompletionKind.custom { words, _, prefix in
        let stateDirectory = value(of: ["--state-dir"], in: words) ?? RunJournal.defaultStateDirectory()
        return RunCatalog.list(stateDirectory: stateDirectory).map(\.runID).filter { $0.hasPrefix(prefix) }
    }

    static let limit = CompletionKind.custom { words, _, prefix in
        guard let path = value(of: ["-i", "--inventory"], in: words), let inventory = try? InventoryLoader.load(path: path) else { return [] }
        let terms =
            inventory.servers.map(\.name) + ["role:deployment-controller", "role:front-end"]
            + Set(inventory.servers.flatMap(\.tags)).sorted().map { "tag:" + $0 }
        let head = prefix.range(of: ",", options: .backwards).map { String(prefix[..<$0.upperBound]) } ?? ""
        let last = String(prefix.dropFirst(head.count))
        let negated = last.hasPrefix("!") ? "!" : ""
        return terms.filter { $0.hasPrefix(last.dropFirst(negated.count)) }.map { head + negated + $0 }
    }

    /// The value after the first of `names` in the words typed so far (or in `--name=value`).
    private static func value(of names: [String], in words: [String]) -> String? {
        for (index, word) in words.enumerated() {
            if names.contains(word), index + 1 < words.count { return (words[index + 1] as NSString).expandingTildeInPath }
            for name in names where name.hasPrefix("--") && word.hasPrefix(name + "=") {
                return (String(word.dropFirst(name.count + 1)) as NSString).expandingTildeInPath
            }
        }
        return nil
    }
}
