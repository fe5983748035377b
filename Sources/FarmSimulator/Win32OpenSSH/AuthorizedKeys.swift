import Foundation

/// One line of an OpenSSH authorized_keys file: its options, key type and key. Win32-OpenSSH reads
/// `C:\ProgramData\ssh\administrators_authorized_keys` with the same parser as OpenSSH
/// (auth-options.c): options are comma-separated before the key, a value is in double quotes, and
/// inside it only `\"` is an escape (for a quote); every other backslash is kept as it is.
struct AuthorizedKey: Equatable {
    var options: [(name: String, value: String?)]
    var keyType: String
    var key: String

    static func == (lhs: AuthorizedKey, rhs: AuthorizedKey) -> Bool {
        lhs.keyType == rhs.keyType && lhs.key == rhs.key && lhs.options.map(\.name) == rhs.options.map(\.name)
            && lhs.options.map(\.value) == rhs.options.map(\.value)
    }

    /// The `command="…"` the key forces, unescaped.
    var forcedCommand: String? {
        options.last { $0.name.lowercased() == "command" }?.value ?? nil
    }

    static let keyTypes = [
        "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com", "ssh-dss",
    ]

    enum ParseError: Error, Equatable, CustomStringConvertible {
        case missingEndQuote(option: String)
        case noKey

        var description: String {
            switch self {
            case let .missingEndQuote(option): return "option \(option): missing end quote"
            case .noKey: return "no key after the options"
            }
        }
    }

    /// The entry on a line; nil for blank lines and comments.
    static func parse(_ rawLine: String) throws -> AuthorizedKey? {
        let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
        if line.isEmpty || line.hasPrefix("#") { return nil }
        var rest = Substring(line)
        var options: [(String, String?)] = []
        if !keyTypes.contains(where: { rest.hasPrefix($0 + " ") || rest.hasPrefix($0 + "\t") }) {
            // Options run to the first blank outside quotes.
            while let first = rest.first, first != " " && first != "\t" {
                var name = ""
                while let c = rest.first, c != "=" && c != "," && c != " " && c != "\t" {
                    name.append(c)
                    rest = rest.dropFirst()
                }
                var value: String?
                if rest.first == "=" {
                    rest = rest.dropFirst()
                    guard rest.first == "\"" else { throw ParseError.missingEndQuote(option: name) }
                    rest = rest.dropFirst()
                    var text = ""
                    var closed = false
                    while let c = rest.first {
                        rest = rest.dropFirst()
                        if c == "\\" && rest.first == "\"" {
                            text.append("\"")
                            rest = rest.dropFirst()
                            continue
                        }
                        if c == "\"" { closed = true; break }
                        text.append(c)
                    }
                    guard closed else { throw ParseError.missingEndQuote(option: name) }
                    value = text
                }
                options.append((name, value))
                if rest.first == "," { rest = rest.dropFirst() }
            }
        }
        let fields = rest.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard fields.count >= 2 else { throw ParseError.noKey }
        return AuthorizedKey(options: options, keyType: String(fields[0]), key: String(fields[1]))
    }

    /// An options field as it is written: `\"` for each quote inside a value.
    static func optionsText(_ options: [(name: String, value: String?)]) -> String {
        options.map { option in
            guard let value = option.value else { return option.name }
            return "\(option.name)=\"\(value.replacingOccurrences(of: "\"", with: "\\\""))\""
        }.joined(separator: ",")
    }
}
