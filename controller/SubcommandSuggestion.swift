import ArgumentParser

/// "Did you mean 'move-db'?" for a mistyped subcommand. (swift-argument-parser already suggests
/// the nearest option for a mistyped option.)
enum SubcommandSuggestion {
    /// The nearest subcommand to the first word that names none, walking the command tree along
    /// the arguments; nil when every word is known or none is close.
    static func suggestion(for arguments: [String], root: any ParsableCommand.Type) -> String? {
        var command: any ParsableCommand.Type = root
        var path = [root.configuration.commandName ?? "osfarm"]
        for word in arguments where !word.hasPrefix("-") {
            let subcommands = command.configuration.subcommands
            guard !subcommands.isEmpty else { return nil }
            let names = subcommands.map { ($0.configuration.commandName ?? String(describing: $0).lowercased(), $0) }
            if let match = names.first(where: { $0.0 == word }) {
                command = match.1
                path.append(match.0)
                continue
            }
            // Under a default subcommand the word may be its argument; only a near miss is taken for a typo.
            let nearest = names.map { ($0.0, distance($0.0, word)) }.min { $0.1 < $1.1 }
            guard let nearest, nearest.1 <= max(2, word.count / 3) else { return nil }
            return "Did you mean '\((path + [nearest.0]).joined(separator: " "))'?"
        }
        return nil
    }

    /// Levenshtein distance.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}
