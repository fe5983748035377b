import Foundation

/// Whether the Configuration Tool can read server.hsconf's bytes as text: the first byte that is
/// not valid in the encoding the file declares, as a sentence with its line and position.
///
/// The Configuration Tool is a .NET program, and .NET's XML reader decodes a document that declares
/// `encoding="utf-8"` (or declares none, or starts with the UTF-8 byte order mark) with a UTF-8
/// decoder that throws on an invalid byte, and then stops with "Invalid character in the given
/// encoding. Line n, position m." (dotnet/runtime, System.Private.Xml, XmlTextReaderImpl.cs:
/// `CheckEncoding` takes `UTF8BomThrowing` for utf-8, `InvalidCharRecovery` throws
/// `Xml_InvalidCharInThisEncoding`). A single-byte code page declared instead (`windows-1252`) is
/// decoded with a replacing decoder, which stops at nothing, so only UTF-8 is checked. A comment
/// is no exception: the reader decodes the whole file before it parses it.
public enum HsconfEncoding {
    /// nil when the file reads as its declared encoding (or one osfarm does not check).
    public static func problem(in bytes: [UInt8]) -> String? {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        let hasBOM = bytes.starts(with: bom)
        let declared = declaredEncoding(bytes[(hasBOM ? 3 : 0)...])
        guard hasBOM || declared == nil || declared?.lowercased() == "utf-8" else { return nil }
        guard let (offset, length) = firstInvalidUTF8(bytes) else { return nil }
        let before = bytes[..<offset]
        let lineStart = before.lastIndex(of: 0x0A).map { $0 + 1 } ?? (hasBOM ? 3 : 0)
        let line = before.filter { $0 == 0x0A }.count + 1
        // Positions count characters, as the reader's do: the line's valid UTF-8 before the byte.
        let position = String(decoding: bytes[lineStart..<offset], as: UTF8.self).unicodeScalars.count + 1
        let shown = bytes[offset..<offset + length].map { String(format: "0x%02X", $0) }.joined(separator: " ")
        return "line \(line), position \(position): \(length == 1 ? "byte" : "bytes") \(shown) \(length == 1 ? "is" : "are") not UTF-8, "
            + "the encoding \(declared.map { "its XML declaration names (\($0))" } ?? "it is read in (it declares none)"); "
            + "the Configuration Tool stops there (\"Invalid character in the given encoding\")"
    }

    /// The `encoding` of the XML declaration at the start, if there is one.
    static func declaredEncoding(_ bytes: ArraySlice<UInt8>) -> String? {
        let head = String(decoding: bytes.prefix(200), as: UTF8.self)
        guard head.hasPrefix("<?xml"), let end = head.range(of: "?>") else { return nil }
        let declaration = head[..<end.lowerBound]
        guard let key = declaration.range(of: "encoding") else { return nil }
        let rest = declaration[key.upperBound...].drop { $0 == " " || $0 == "=" || $0 == "\t" }
        guard let quote = rest.first, quote == "\"" || quote == "'" else { return nil }
        return String(rest.dropFirst().prefix { $0 != quote })
    }

    /// The offset and length of the first ill-formed UTF-8 sequence (Unicode 15, table 3-7: no
    /// overlong forms, no surrogates, nothing above U+10FFFF); nil when there is none.
    static func firstInvalidUTF8(_ bytes: [UInt8]) -> (Int, Int)? {
        var index = 0
        while index < bytes.count {
            let first = bytes[index]
            let count: Int
            var low: UInt8 = 0x80, high: UInt8 = 0xBF
            switch first {
            case 0x00...0x7F:
                index += 1
                continue
            case 0xC2...0xDF: count = 2
            case 0xE0:
                count = 3
                low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: count = 3
            case 0xED:
                count = 3
                high = 0x9F
            case 0xF0:
                count = 4
                low = 0x90
            case 0xF1...0xF3: count = 4
            case 0xF4:
                count = 4
                high = 0x8F
            default: return (index, 1)
            }
            for next in 1..<count {
                let position = index + next
                let range = next == 1 ? low...high : 0x80...0xBF
                guard position < bytes.count, range.contains(bytes[position]) else { return (index, next) }
            }
            index += count
        }
        return nil
    }
}
