import FarmProtocol
import Foundation

/// server.hsconf read and edited as bytes, so that an edit changes exactly the bytes of the values
/// it sets and keeps every other byte as it was: comments, attribute order, white space, encrypted
/// values, escaped characters, and bytes that are not UTF-8 at all (a file once saved in a legacy
/// code page, e.g. a Windows-1252 "é" in a comment). Nothing is decoded and encoded again, which
/// an XML library, or a round trip through a Swift String, would do (the latter turns every such
/// byte into U+FFFD).
///
/// The markup osfarm looks for is ASCII, which reads the same in UTF-8 and in every single-byte
/// code page; only the values it reads are decoded (as UTF-8) for comparison and reports.
public struct HsconfDocument: Sendable {
    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// The file's bytes, as they are or as edited.
    public private(set) var bytes: [UInt8] {
        didSet { opaque = opaqueRanges() }
    }
    /// Comment and CDATA ranges of `bytes`, found once per edit rather than at every element looked up.
    private var opaque: [Range<Int>] = []

    public init(bytes: [UInt8]) throws(Problem) {
        self.bytes = bytes
        opaque = opaqueRanges()
        guard elementRange("EnvironmentConfiguration", in: 0..<bytes.count) != nil else {
            throw Problem(message: "server.hsconf has no <EnvironmentConfiguration> element")
        }
    }

    public init(data: Data) throws(Problem) { try self.init(bytes: Array(data)) }

    public init(text: String) throws(Problem) { try self.init(bytes: Array(text.utf8)) }

    public var data: Data { Data(bytes) }

    /// The file as text (UTF-8; a byte that is not UTF-8 shows as U+FFFD). For reading only.
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// A located element: the whole element, its start tag, and its content (nil when self-closing).
    struct Element {
        var whole: Range<Int>
        var startTag: Range<Int>
        var content: Range<Int>?
    }

    private func find(_ pattern: String, in range: Range<Int>) -> Range<Int>? {
        let needle = Array(pattern.utf8)
        guard let first = needle.first, range.count >= needle.count else { return nil }
        var index = range.lowerBound
        let last = range.upperBound - needle.count
        while index <= last {
            if bytes[index] == first && bytes[index..<index + needle.count].elementsEqual(needle) {
                return index..<index + needle.count
            }
            index += 1
        }
        return nil
    }

    /// Comment and CDATA ranges, which must never be read as elements.
    private func opaqueRanges() -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var cursor = 0
        while cursor < bytes.count {
            let comment = find("<!--", in: cursor..<bytes.count)
            let cdata = find("<![CDATA[", in: cursor..<bytes.count)
            guard let open = [comment, cdata].compactMap({ $0 }).min(by: { $0.lowerBound < $1.lowerBound }) else { break }
            let terminator = open == comment ? "-->" : "]]>"
            let close = find(terminator, in: open.upperBound..<bytes.count)?.upperBound ?? bytes.count
            ranges.append(open.lowerBound..<close)
            cursor = close
        }
        return ranges
    }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }

    /// The first element named `name` inside `range`, outside comments.
    func elementRange(_ name: String, in range: Range<Int>) -> Element? {
        var cursor = range.lowerBound
        while let open = find("<" + name, in: cursor..<range.upperBound) {
            cursor = open.upperBound
            if opaque.contains(where: { $0.contains(open.lowerBound) }) { continue }
            guard open.upperBound < range.upperBound else { return nil }
            let next = bytes[open.upperBound]
            guard next == UInt8(ascii: ">") || next == UInt8(ascii: "/") || Self.isSpace(next) else { continue }
            guard let tagEnd = find(">", in: open.upperBound..<range.upperBound) else { return nil }
            let startTag = open.lowerBound..<tagEnd.upperBound
            if bytes[tagEnd.lowerBound - 1] == UInt8(ascii: "/") {
                return Element(whole: startTag, startTag: startTag, content: nil)
            }
            guard let close = find("</\(name)>", in: tagEnd.upperBound..<range.upperBound) else { return nil }
            return Element(whole: open.lowerBound..<close.upperBound, startTag: startTag, content: tagEnd.upperBound..<close.lowerBound)
        }
        return nil
    }

    /// The elements directly inside `range`, in order, outside comments and CDATA.
    func children(in range: Range<Int>) -> [(name: String, element: Element)] {
        var found: [(name: String, element: Element)] = []
        var cursor = range.lowerBound
        while let open = find("<", in: cursor..<range.upperBound) {
            cursor = open.upperBound
            if let comment = opaque.first(where: { $0.contains(open.lowerBound) }) {
                cursor = max(cursor, comment.upperBound)
                continue
            }
            var end = open.upperBound
            while end < range.upperBound, bytes[end] != UInt8(ascii: ">"), bytes[end] != UInt8(ascii: "/"), !Self.isSpace(bytes[end]) { end += 1 }
            let name = decoded(open.upperBound..<end)
            guard let first = name.unicodeScalars.first, first.properties.isAlphabetic || first == "_",
                let element = elementRange(name, in: open.lowerBound..<range.upperBound)
            else { continue }
            found.append((name, element))
            cursor = element.whole.upperBound
        }
        return found
    }

    /// The sections and the secret values' forms (HsconfLayout): a secret is an element with an
    /// `encrypted` attribute, one whose name ends in `Password`, or a `ConnectionString` (Redis
    /// sessions carry their password in it). Only the form and a stand-in leave this function.
    public func layout() -> HsconfLayout {
        guard let root = elementRange("EnvironmentConfiguration", in: 0..<bytes.count), let content = root.content else {
            return HsconfLayout(sections: [], secrets: [])
        }
        var sections: [String] = []
        var secrets: [HsconfSecret] = []
        for (section, element) in children(in: content) {
            sections.append(section)
            guard let inner = element.content else { continue }
            for (name, child) in children(in: inner) {
                let tag = decoded(child.startTag).lowercased()
                let marked = tag.contains("encrypted=\"true\"") || tag.contains("encrypted='true'")
                guard marked || tag.contains(" encrypted=") || name.hasSuffix("Password") || name == "ConnectionString" else { continue }
                let written = child.content.map(decoded) ?? ""
                let form: HsconfSecretForm = marked ? .encrypted : .clear
                secrets.append(HsconfSecret(section: section, element: name, form: form, standIn: HsconfSecret.standIn(form: form, written: written)))
            }
        }
        return HsconfLayout(sections: sections, secrets: secrets)
    }

    private func section(_ name: String) -> Element? {
        guard let root = elementRange("EnvironmentConfiguration", in: 0..<bytes.count), let content = root.content else { return nil }
        return elementRange(name, in: content)
    }

    private func decoded(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }

    /// The decoded text of `<child>` in `<section>`; nil when either is missing.
    public func value(section: String, child: String) -> String? {
        guard let section = self.section(section), let content = section.content,
            let element = elementRange(child, in: content)
        else { return nil }
        guard let inner = element.content else { return "" }
        return Self.unescape(decoded(inner))
    }

    /// An attribute of a section's start tag.
    public func attribute(section: String, name: String) -> String? {
        guard let section = self.section(section) else { return nil }
        let tag = decoded(section.startTag)
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

    /// Replaces the content of `<child>` in `<section>`; returns the previous value. Only those
    /// bytes change (a self-closing `<child/>` becomes `<child>value</child>`).
    @discardableResult
    public mutating func setValue(section name: String, child: String, to value: String) throws(Problem) -> String {
        guard let section = self.section(name), let content = section.content else {
            throw Problem(message: "server.hsconf has no <\(name)> section")
        }
        guard let element = elementRange(child, in: content) else {
            throw Problem(message: "server.hsconf has no <\(child)> in <\(name)>")
        }
        let escaped = Array(Self.escape(value).utf8)
        if let inner = element.content {
            let previous = Self.unescape(decoded(inner))
            bytes.replaceSubrange(inner, with: escaped)
            return previous
        }
        // A self-closing tag: drop its "/" (and the spaces before it), keep every other byte of it.
        var openTag = Array(bytes[element.startTag].dropLast(2))
        while openTag.last == UInt8(ascii: " ") { openTag.removeLast() }
        bytes.replaceSubrange(element.whole, with: openTag + [UInt8(ascii: ">")] + escaped + Array("</\(child)>".utf8))
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
