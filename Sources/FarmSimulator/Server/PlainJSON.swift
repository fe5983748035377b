/// A JSON value parsed into plain Swift values (RFC 8259), for files read at every emulated
/// program's start. Foundation's parsers cost that start its time in the Swift runtime:
/// JSONDecoder instantiates generic containers per type, JSONSerialization bridges every object to
/// NSDictionary and back through dynamic casts (each a scan of the binary's conformances).
enum PlainJSON {
    /// Members in the order written (a dictionary's storage type costs a conformance lookup to set up).
    case object([(name: String, value: PlainJSON)])
    case array([PlainJSON])
    case string(String)
    case number(Double)
    case bool(Bool)
    case null

    struct SyntaxError: Error, CustomStringConvertible {
        let offset: Int
        let reason: String
        var description: String { "not JSON at byte \(offset): \(reason)" }
    }

    /// The value as JSON text: members in the order given, two-space indentation when `pretty`.
    /// Whole numbers below 2^53 are written without a fraction, others as Swift's shortest
    /// round-trip form, so every Double reads back to itself.
    func text(pretty: Bool = false) -> String { String(decoding: utf8(pretty: pretty), as: UTF8.self) }

    /// The same text as UTF-8 bytes (built as bytes: appending to a String scalar by scalar cost
    /// more than the JSONEncoder this replaces).
    func utf8(pretty: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(16 * 1024)
        write(to: &out, pretty: pretty, indent: 0)
        return out
    }

    private func write(to out: inout [UInt8], pretty: Bool, indent: Int) {
        switch self {
        case let .object(members):
            Self.writeList(members, open: "{", close: "}", to: &out, pretty: pretty, indent: indent) { member, out in
                Self.writeString(member.name, to: &out)
                out += pretty ? Array(" : ".utf8) : [UInt8(ascii: ":")]
                member.value.write(to: &out, pretty: pretty, indent: indent + 2)
            }
        case let .array(elements):
            Self.writeList(elements, open: "[", close: "]", to: &out, pretty: pretty, indent: indent) { element, out in
                element.write(to: &out, pretty: pretty, indent: indent + 2)
            }
        case let .string(text): Self.writeString(text, to: &out)
        case let .number(number):
            let text = number.rounded() == number && abs(number) < 9_007_199_254_740_992 ? String(Int64(number)) : "\(number)"
            out += Array(text.utf8)
        case let .bool(truth): out += Array((truth ? "true" : "false").utf8)
        case .null: out += Array("null".utf8)
        }
    }

    /// An object's members or an array's elements between `open` and `close`, one per line when pretty.
    private static func writeList<Item>(
        _ items: [Item], open: Character, close: Character, to out: inout [UInt8], pretty: Bool, indent: Int,
        _ writeItem: (Item, inout [UInt8]) -> Void
    ) {
        out.append(open.asciiValue ?? 0)
        for (index, item) in items.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            if pretty { newLine(indent + 2, to: &out) }
            writeItem(item, &out)
        }
        if pretty && !items.isEmpty { newLine(indent, to: &out) }
        out.append(close.asciiValue ?? 0)
    }

    private static func newLine(_ indent: Int, to out: inout [UInt8]) {
        out.append(0x0A)
        out += repeatElement(UInt8(ascii: " "), count: indent)
    }

    private static func writeString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), byte]
            case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case ..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    init(parsing bytes: [UInt8]) throws {
        var parser = Parser(bytes: bytes)
        self = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.index == bytes.count else { throw parser.error("text after the value") }
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0
        static let maximumDepth = 64

        func error(_ reason: String) -> SyntaxError { SyntaxError(offset: index, reason: reason) }

        mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        }

        mutating func value(depth: Int) throws -> PlainJSON {
            guard depth < Self.maximumDepth else { throw error("nested deeper than \(Self.maximumDepth)") }
            skipSpace()
            guard index < bytes.count else { throw error("the text ends where a value should be") }
            switch bytes[index] {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): return try literal("true", .bool(true))
            case UInt8(ascii: "f"): return try literal("false", .bool(false))
            case UInt8(ascii: "n"): return try literal("null", .null)
            default: return .number(try number())
            }
        }

        private mutating func literal(_ word: String, _ value: PlainJSON) throws -> PlainJSON {
            let expected = Array(word.utf8)
            guard index + expected.count <= bytes.count, Array(bytes[index..<index + expected.count]) == expected else { throw error("unknown word") }
            index += expected.count
            return value
        }

        private mutating func expect(_ byte: Character) throws {
            skipSpace()
            guard index < bytes.count, bytes[index] == byte.asciiValue else { throw error("expected \(byte)") }
            index += 1
        }

        private mutating func next(is byte: Character) -> Bool {
            skipSpace()
            guard index < bytes.count, bytes[index] == byte.asciiValue else { return false }
            index += 1
            return true
        }

        private mutating func object(depth: Int) throws -> PlainJSON {
            index += 1
            var members: [(name: String, value: PlainJSON)] = []
            if next(is: "}") { return .object(members) }
            repeat {
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a member name") }
                let name = try string()
                try expect(":")
                members.append((name, try value(depth: depth + 1)))
            } while next(is: ",")
            try expect("}")
            return .object(members)
        }

        private mutating func array(depth: Int) throws -> PlainJSON {
            index += 1
            var elements: [PlainJSON] = []
            if next(is: "]") { return .array(elements) }
            repeat { elements.append(try value(depth: depth + 1)) } while next(is: ",")
            try expect("]")
            return .array(elements)
        }

        private mutating func number() throws -> Double {
            let start = index
            while index < bytes.count, Self.isNumberByte(bytes[index]) { index += 1 }
            guard index > start, let number = Double(text(start, index)), number.isFinite else {
                index = start
                throw error("expected a value")
            }
            return number
        }

        private static func isNumberByte(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"):
                return true
            default: return false
            }
        }

        // Strings are made from contiguous UTF-8 buffers: the standard library's generic paths
        // (a slice, a scalar view) look up conformances at run time, the cost this type avoids.
        private func text(_ start: Int, _ end: Int) -> String {
            bytes.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[start..<end]), as: UTF8.self) }
        }

        private mutating func string() throws -> String {
            index += 1
            let start = index
            while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\"), bytes[index] >= 0x20 { index += 1 }
            if index < bytes.count, bytes[index] == UInt8(ascii: "\"") {
                index += 1
                return text(start, index - 1)
            }
            var utf8 = Array(bytes[start..<index])
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return utf8.withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) }
                case UInt8(ascii: "\\"):
                    guard index < bytes.count else { break }
                    let escaped = bytes[index]
                    index += 1
                    switch escaped {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escaped)
                    case UInt8(ascii: "b"): utf8.append(0x08)
                    case UInt8(ascii: "f"): utf8.append(0x0C)
                    case UInt8(ascii: "n"): utf8.append(0x0A)
                    case UInt8(ascii: "r"): utf8.append(0x0D)
                    case UInt8(ascii: "t"): utf8.append(0x09)
                    case UInt8(ascii: "u"): Self.appendUTF8(try escapedScalar(), to: &utf8)
                    default: throw error("unknown escape")
                    }
                case ..<0x20:
                    throw error("a control character in a string")
                default:
                    utf8.append(byte)
                }
            }
            throw error("a string that does not end")
        }

        private static func appendUTF8(_ scalar: UInt32, to utf8: inout [UInt8]) {
            switch scalar {
            case ..<0x80: utf8.append(UInt8(scalar))
            case ..<0x800: utf8 += [UInt8(0xC0 | scalar >> 6), UInt8(0x80 | scalar & 0x3F)]
            case ..<0x10000: utf8 += [UInt8(0xE0 | scalar >> 12), UInt8(0x80 | scalar >> 6 & 0x3F), UInt8(0x80 | scalar & 0x3F)]
            default: utf8 += [UInt8(0xF0 | scalar >> 18), UInt8(0x80 | scalar >> 12 & 0x3F), UInt8(0x80 | scalar >> 6 & 0x3F), UInt8(0x80 | scalar & 0x3F)]
            }
        }

        /// \uXXXX, with a surrogate pair taken as one scalar; a lone surrogate becomes U+FFFD.
        private mutating func escapedScalar() throws -> UInt32 {
            let high = try hexQuad()
            if (0xD800..<0xDC00).contains(high), index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") {
                let saved = index
                index += 2
                let low = try hexQuad()
                if (0xDC00..<0xE000).contains(low) { return 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00) }
                index = saved
            }
            return (0xD800..<0xE000).contains(high) ? 0xFFFD : high
        }

        private mutating func hexQuad() throws -> UInt32 {
            guard index + 4 <= bytes.count else { throw error("expected four hex digits after \\u") }
            var value: UInt32 = 0
            for byte in bytes[index..<index + 4] {
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw error("expected four hex digits after \\u")
                }
                value = value << 4 | UInt32(digit)
            }
            index += 4
            return value
        }
    }
}
