import Yams

/// Accepts YAML anchors and aliases (Ansible users reuse a tag list with `*tags`) with what they
/// stand for bounded, measured before Yams composes the real document.
///
/// Each alias the scanner finds is first replaced by a placeholder scalar, so composing that text
/// repeats nothing and takes time in proportion to its length. Walking it in document order gives
/// each anchor the size of its node, aliases inside it included; each placeholder then stands for
/// its anchor's size. Once the nodes added by aliases pass `maximumAddedNodes`, the document is
/// refused, naming the alias that passed the bound: an alias bomb ("billion laughs") is found in
/// milliseconds, before Yams would hash one of its keys whole.
enum YAMLAliasExpansion {
    /// Far above a farm's use: a thousand servers each repeating a ten-tag list add 11 000 nodes.
    static let maximumAddedNodes = 100_000

    /// Starts each placeholder; a private-use character, which an inventory has no reason to hold.
    private static let mark: Character = "\u{E000}"

    struct Refusal: Error, Equatable {
        var line: Int?
        var problem: String
    }

    /// Throws `Refusal` for an alias no earlier anchor defines, or for aliases that stand for too
    /// much; Yams' own `YamlError` when the text is not YAML.
    static func check(_ text: String) throws {
        let aliases = YAMLAliasScan.aliases(in: text).filter { !$0.name.isEmpty }
        guard !aliases.isEmpty else { return }
        var bytes = Array(text.utf8)
        // From the last, so the offsets before each stay valid; newlines are kept, and so every line.
        for (index, alias) in aliases.enumerated().reversed() {
            bytes.replaceSubrange(alias.offset..<(alias.offset + 1 + alias.name.utf8.count), with: Array("\(mark)\(index)".utf8))
        }
        let parser = try Parser(yaml: String(decoding: bytes, as: UTF8.self))
        guard let root = try parser.singleRoot() else { return }
        var walk = Walk(aliases: aliases)
        // The nodes' anchors are weak references that the parser keeps alive.
        try withExtendedLifetime(parser) { _ = try walk.size(of: root) }
    }

    private struct Walk {
        let aliases: [YAMLAliasScan.Alias]
        var anchorSizes: [String: Int] = [:]
        var added = 0

        /// The node's size with its aliases expanded, at most one past the bound.
        mutating func size(of node: Node) throws(Refusal) -> Int {
            var size = 1
            switch node {
            case let .scalar(scalar):
                if let alias = alias(scalar.string) {
                    guard let anchored = anchorSizes[alias.name] else {
                        throw Refusal(
                            line: alias.line,
                            problem: "uses the YAML alias *\(alias.name.prefix(64)), which no anchor (&\(alias.name.prefix(64))) before it defines")
                    }
                    added += anchored - 1
                    guard added <= YAMLAliasExpansion.maximumAddedNodes else {
                        throw Refusal(
                            line: alias.line,
                            problem: "the YAML alias *\(alias.name.prefix(64)) takes what the inventory's aliases repeat past "
                                + "\(YAMLAliasExpansion.maximumAddedNodes) nodes (an alias bomb?); repeat less, or write the values out")
                    }
                    size = anchored
                }
            case let .sequence(sequence):
                for item in sequence { size = min(size + (try self.size(of: item)), YAMLAliasExpansion.maximumAddedNodes + 1) }
            case let .mapping(mapping):
                for (key, value) in mapping {
                    size = min(size + (try self.size(of: key)) + (try self.size(of: value)), YAMLAliasExpansion.maximumAddedNodes + 1)
                }
            case .alias:
                break
            }
            if let anchor = node.anchor { anchorSizes[anchor.rawValue] = size }
            return size
        }

        /// The alias a placeholder stands for; nil for any other scalar, a `*` the scanner took
        /// for an alias inside a longer plain scalar included.
        private func alias(_ text: String) -> YAMLAliasScan.Alias? {
            guard text.first == YAMLAliasExpansion.mark, let index = Int(text.dropFirst()), aliases.indices.contains(index) else { return nil }
            return aliases[index]
        }
    }
}
