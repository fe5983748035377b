import FarmProtocol
import Foundation

/// server.hsconf read and edited as text, so that an edit changes exactly the characters of the
/// values it sets and keeps every other byte: comments, attribute order, white space, encrypted
/// values, escaped characters. (An XML library would re-serialise the whole file.)
public struct HsconfDocument: Sendable {
    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// The file's text, as it is or as edited.
    public private(set) var text: String

    public init(text: String) throws(Problem) {
        self.text = text
        guard elementRange("EnvironmentConfiguration", in: text.startIndex..<text.endIndex) != nil else {
            throw Problem(message: "server.hsconf has no <EnvironmentConfiguration> element")
        }
    }

    /// A located element: the whole element, its start tag, and its content (nil when self-closing).
    struct Element {
        var whole: Range<String.Index>
        var startTag: Range<String.Index>
        var content: Range<String.Index>?
    }

    /// Comment and CDATA ranges, which must never be read as elements.
    private func opaqueRanges() -> [Range<String.Index>] {
        var ranges: [Range<String.Index>] = []
        var cursor = text.startIndex
        while cursor < text.endIndex {
            let comment = text.range(of: "<!--", range: cursor..<text.endIndex)
            let cdata = text.range(of: "<![CDATA[", range: cursor..<text.endIndex)
            guard let open = [comment, cdata].compactMap({ $0 }).min(by: { $0.lowerBound < $1.lowerBound }) else { break }
            let terminator = open == comment ? "-->" : "]]>"
            let close = text.range(of: terminator, range: open.upperBound..<text.endIndex)?.upperBound ?? text.endIndex
            ranges.append(open.lowerBound..<close)
            cursor = close
        }
        return ranges
    }

    /// The first element named `name` inside `range`, outside comments.
    func elementRange(_ name: String, in range: Range<String.Index>) -> Element? {
        let opaque = opaqueRanges()
        var cursor = range.lowerBound
        while let open = text.range(of: "<" + name, range: cursor..<range.upperBound) {
            cursor = open.upperBound
            if opaque.contains(where: { $0.contains(open.lowerBound) }) { continue }
            guard open.upperBound < range.upperBound else { return nil }
            let next = text[open.upperBound]
            guard next == ">" || next == "/" || next.isWhitespace else { continue }
            guard let tagEnd = text.range(of: ">", range: open.upperBound..<range.upperBound) else { return nil }
            let startTag = open.lowerBound..<tagEnd.upperBound
            if text[text.index(before: tagEnd.lowerBound)] == "/" {
                return Element(whole: startTag, startTag: startTag, content: nil)
            }
            guard let close = text.range(of: "</\(name)>", range: tagEnd.upperBound..<range.upperBound) else { return nil }
            return Element(whole: open.lowerBound..<close.upperBound, startTag: startTag, content: tagEnd.upperBound..<close.lowerBound)
        }
        return nil
    }

    private func section(_ name: String) -> Element? {
        guard let root = elementRange("EnvironmentConfiguration", in: text.startIndex..<text.endIndex), let content = root.content else { return nil }
        return elementRange(name, in: content)
    }

    /// The decoded text of `<child>` in `<section>`; nil when either is missing.
    public func value(section: String, child: String) -> String? {
        guard let section = self.section(section), let content = section.content,
            let element = elementRange(child, in: content)
        else { return nil }
        guard let inner = element.content else { return "" }
        return Self.unescape(String(text[inner]))
    }

    /// An attribute of a section's start tag.
    public func attribute(section: String, name: String) -> String? {
        guard let section = self.section(section) else { return nil }
        let tag = String(text[section.startTag])
        for quote in ["\"", "'"] {
            if let start = tag.range(of: " \(name)=\(quote)"), let end = tag.range(of: quote, range: start.upperBound..<tag.endIndex) {
                return Self.unescape(String(tag[start.upperBound..<end.lowerBound]))
            }
        }
        return nil
    }

    public func endpoint(_ section: DatabaseSection) -> DatabaseEndpoint? {
        guard let server = value(section: section.elementName, child: "Server") else { return nil }
        let mode = value(section: section.elementName, child: "UsedAuthenticationMode")
        return DatabaseEndpoint(
            section: section, providerKey: attribute(section: section.elementName, name: "ProviderKey") ?? "",
            server: server, catalog: value(section: section.elementName, child: "Catalog"),
            authenticationMode: mode, authentication: mode.flatMap(Self.authentication))
    }

    /// The values of `UsedAuthenticationMode` (server.hsconf reference; Configuration Tool database tabs).
    static func authentication(_ mode: String) -> DatabaseAuthentication? {
        switch mode.trimmingCharacters(in: .whitespaces).lowercased() {
        case "windows authentication": return .windows
        case "database authentication": return .database
        default: return nil
        }
    }

    /// Replaces the text of `<child>` in `<section>`; returns the previous value. Only those
    /// characters change (a self-closing `<child/>` becomes `<child>value</child>`).
    @discardableResult
    public mutating func setValue(section name: String, child: String, to value: String) throws(Problem) -> String {
        guard let section = self.section(name), let content = section.content else {
            throw Problem(message: "server.hsconf has no <\(name)> section")
        }
        guard let element = elementRange(child, in: content) else {
            throw Problem(message: "server.hsconf has no <\(child)> in <\(name)>")
        }
        let escaped = Self.escape(value)
        if let inner = element.content {
            let previous = Self.unescape(String(text[inner]))
            text.replaceSubrange(inner, with: escaped)
            return previous
        }
        var openTag = String(text[element.startTag])
        openTag = openTag.replacingOccurrences(of: "/>", with: ">", options: .backwards)
        while openTag.hasSuffix(" >") { openTag.remove(at: openTag.index(openTag.endIndex, offsetBy: -2)) }
        text.replaceSubrange(element.whole, with: openTag + escaped + "</\(child)>")
        return ""
    }

    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    static func unescape(_ value: String) -> String {
        guard value.contains("&") else { return value }
        var result = ""
        var rest = Substring(value)
        while let amp = rest.firstIndex(of: "&") {
            result += rest[..<amp]
            guard let semi = rest[amp...].firstIndex(of: ";") else { break }
            let entity = rest[rest.index(after: amp)..<semi]
            switch entity {
            case "amp": result += "&"
            case "lt": result += "<"
            case "gt": result += ">"
            case "quot": result += "\""
            case "apos": result += "'"
            default:
                if entity.hasPrefix("#x"), let code = UInt32(entity.dropFirst(2), radix: 16), let scalar = Unicode.Scalar(code) {
                    result.unicodeScalars.append(scalar)
                } else if entity.hasPrefix("#"), let code = UInt32(entity.dropFirst()), let scalar = Unicode.Scalar(code) {
                    result.unicodeScalars.append(scalar)
                } else {
                    result += rest[amp...semi]
                }
            }
            rest = rest[rest.index(after: semi)...]
        }
        return result + rest
    }
}
