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

    /// "osfarm move-db needs a subcommand: plan, preflight or run" with what each does, when the
    /// arguments stop at a command that only groups others (and ask for no help); nil otherwise.
    static func missingSubcommand(for arguments: [String], root: any ParsableCommand.Type) -> String? {
        guard !arguments.contains(where: { ["-h", "--help", "help", "--version"].contains($0) }) else { return nil }
        var command: any ParsableCommand.Type = root
        var path = [root.configuration.commandName ?? "osfarm"]
        for word in arguments {
            guard !word.hasPrefix("-") else { return nil }
            let match = command.configuration.subcommands.first { ($0.configuration.commandName ?? String(describing: $0).lowercased()) == word }
            guard let match else { return nil }
            command = match
            path.append(word)
        }
        let subcommands = command.configuration.subcommands
        guard path.count > 1, !subcommands.isEmpty, command.configuration.defaultSubcommand == nil else { return nil }
        let names = subcommands.map { $0.configuration.commandName ?? String(describing: $0).lowercased() }
        let list = names.count == 1 ? names[0] : names.dropLast().joined(separator: ", ") + " or " + names.last!
        var text = "\(path.joined(separator: " ")) needs a subcommand: \(list)"
        for (name, subcommand) in zip(names, subcommands) { text += "\n  \(name): \(subcommand.configuration.abstract)" }
        return text + "\nSee '\(path.joined(separator: " ")) SUBCOMMAND --help' for its options."
    }

    /// Flags other tools use for what osfarm does another way (Ansible's --check, Terraform's
    /// -auto-approve, the common --dry-run): the way osfarm says it.
    static let peerFlags: [(flags: [String], hint: String)] = [
        (["--dry-run", "--dryrun", "-n"], "osfarm has no --dry-run: 'osfarm move-db plan' prints what run would do and connects nowhere"),
        (["--check"], "osfarm has no --check: 'osfarm move-db preflight' checks every server read-only, changing nothing"),
        (["--auto-approve", "-auto-approve", "--assume-yes", "--force-yes"], "Did you mean '--yes' (-y)? It answers the confirmation for unattended runs"),
    ]

    /// The hint for a peer tool's flag among the arguments, if any.
    static func peerFlag(in arguments: [String]) -> String? {
        for argument in arguments {
            let flag = String(argument.split(separator: "=", maxSplits: 1).first ?? "")
            if let hint = peerFlags.first(where: { $0.flags.contains(flag) })?.hint { return hint }
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
