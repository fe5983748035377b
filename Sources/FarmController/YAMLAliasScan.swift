/// Finds YAML aliases (`*name`) in a document before it is parsed.
///
/// An alias repeats the node its anchor names without copying the text, so a few lines of
/// anchors that each repeat the one before ("billion laughs") stand for an exponential amount of
/// data. Yams builds such a document cheaply, but compares mapping keys by hashing them whole:
/// one alias bomb used as a key (a complex key) takes exponential time. So before Yams sees the
/// text, `YAMLAliasExpansion` measures what the aliases found here stand for.
///
/// This is a scanner, not a parser: it follows quoted scalars, comments, block scalars and flow
/// collections well enough to find every `*` that starts a node. When unsure it errs towards
/// reporting an alias (a `*` at the start of a plain continuation line, say), which the
/// expansion check then finds inside a longer scalar and counts as text; it never lets one through.
enum YAMLAliasScan {
    struct Alias: Equatable {
        /// 1-based, as in YAML error marks.
        var line: Int
        /// The UTF-8 offset of its `*` in the text.
        var offset: Int
        /// The name as libyaml reads it: letters, digits, `_` and `-` (scanner.c, yaml_parser_scan_anchor).
        var name: String
    }

    static func aliases(in text: String) -> [Alias] {
        var found: [Alias] = []
        var lineStart = 0
        var inSingle = false, inDouble = false
        var flowDepth = 0
        var blockScalarParentIndent: Int?
        var nodeStart = true
        for (index, rawLine) in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let line = Array(rawLine)
            defer { lineStart += line.count + 1 }
            let indent = line.prefix { $0 == UInt8(ascii: " ") }.count
            let blank = line.allSatisfy { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\r") }
            if let parent = blockScalarParentIndent {
                if blank || indent > parent { continue }
                blockScalarParentIndent = nil
            }
            if !inSingle && !inDouble && flowDepth == 0 {
                if line.first == UInt8(ascii: "%") { continue }  // a directive
                nodeStart = true
            }
            var i = inSingle || inDouble || flowDepth > 0 ? 0 : indent
            if !inSingle && !inDouble && flowDepth == 0 && line[i...].starts(with: Array("---".utf8))
                && (i + 3 == line.count || isBlank(line[i + 3]))
            {
                i += 3
            }
            scan: while i < line.count {
                let c = line[i]
                let next: UInt8? = i + 1 < line.count ? line[i + 1] : nil
                if inSingle {
                    if c == UInt8(ascii: "'") {
                        if next == UInt8(ascii: "'") {
                            i += 2
                            continue
                        }
                        inSingle = false
                    }
                    i += 1
                    continue
                }
                if inDouble {
                    if c == UInt8(ascii: "\\") {
                        i += 2
                        continue
                    }
                    if c == UInt8(ascii: "\"") { inDouble = false }
                    i += 1
                    continue
                }
                if isBlank(c) {
                    i += 1
                    continue
                }
                if c == UInt8(ascii: "#") && (i == 0 || isBlank(line[i - 1])) { break scan }
                let separated = next.map(isBlank) ?? true
                if nodeStart {
                    switch c {
                    case UInt8(ascii: "*"):
                        let name = line[(i + 1)...].prefix(while: isAnchorCharacter)
                        found.append(Alias(line: index + 1, offset: lineStart + i, name: String(decoding: name, as: UTF8.self)))
                        i += 1 + name.count
                        nodeStart = false
                        continue
                    case UInt8(ascii: "&"), UInt8(ascii: "!"):
                        // An anchor or a tag: the node itself comes after it.
                        while i < line.count && !isBlank(line[i]) { i += 1 }
                        continue
                    case UInt8(ascii: "'"):
                        inSingle = true
                        nodeStart = false
                    case UInt8(ascii: "\""):
                        inDouble = true
                        nodeStart = false
                    case UInt8(ascii: "|"), UInt8(ascii: ">"):
                        if flowDepth == 0 {
                            // A block scalar: the lines indented deeper than this one are its text.
                            blockScalarParentIndent = indent
                            break scan
                        }
                        nodeStart = false
                    case UInt8(ascii: "-"), UInt8(ascii: "?"), UInt8(ascii: ":"):
                        if separated || (c == UInt8(ascii: ":") && flowDepth > 0) {
                            i += 1
                            continue  // still at a node's start
                        }
                        nodeStart = false
                    case UInt8(ascii: "["), UInt8(ascii: "{"):
                        flowDepth += 1
                    case UInt8(ascii: "]"), UInt8(ascii: "}"):
                        flowDepth = max(0, flowDepth - 1)
                        nodeStart = false
                    case UInt8(ascii: ","):
                        break
                    default:
                        nodeStart = false
                    }
                } else if c == UInt8(ascii: ":") && (separated || flowDepth > 0) {
                    nodeStart = true
                } else if flowDepth > 0 {
                    switch c {
                    case UInt8(ascii: ","), UInt8(ascii: "["), UInt8(ascii: "{"):
                        if c != UInt8(ascii: ",") { flowDepth += 1 }
                        nodeStart = true
                    case UInt8(ascii: "]"), UInt8(ascii: "}"):
                        flowDepth = max(0, flowDepth - 1)
                    default:
                        break
                    }
                }
                i += 1
            }
        }
        return found
    }

    private static func isAnchorCharacter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }

    private static func isBlank(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
    }
}
