import Foundation

/// A SQL Server address as server.hsconf, the Configuration Tool and SqlClient take it:
/// `host`, `host\INSTANCE`, `host,port` or `host\INSTANCE,port`.
///
/// Whether a port was given matters: a named instance without one listens on a dynamic port that
/// only SQL Server Browser knows (UDP 1434, [MC-SQLR]); with one, clients connect to it directly
/// and never ask Browser. A default instance without a port is on 1433.
///
/// The rules it checks, and where they come from:
/// - the shape `[protocol:]server[\instance][,port]`: the `Data Source`/`Server` keyword of
///   SqlConnection.ConnectionString (Microsoft docs), which is what the hsconf `Server` holds.
///   SqlClient reads it so (dotnet/SqlClient, `SNI/SNIProxy.cs`, class `DataSource`): the text
///   before the first colon is a protocol only when it is `tcp`, `np` or `admin` ("None of the
///   supported protocols were found. This may be a IPv6 address"); the rest is split at `\` and `,`,
///   so `::1`, `::1,1433` and `[::1],1433` name a host and a port. osfarm refuses the protocol
///   prefixes (and `lpc:`, which the native SNI also takes): the hsconf holds a plain server;
/// - host names: letters, digits, `-`, `.` (RFC 1123 §2.1, at most 255 characters), and `_`, which
///   Windows DNS and NetBIOS names accept; IPv4 literals fit the same rule; IPv6 literals (RFC 4291
///   §2.2 text forms, an embedded IPv4 tail included), bare or in brackets;
/// - instance names: at most 16 characters, a letter first, then letters, digits, `$` or `_`; no
///   spaces, `\ , : ; ' & - @` (SQL Server docs, "Instance Configuration" in the installation wizard);
/// - ports: a decimal number 1–65535 (a TCP port), one at most.
public struct DatabaseServerAddress: Sendable, Hashable, CustomStringConvertible {
    public static let defaultPort = 1433
    public static let maximumHostLength = 255
    public static let maximumInstanceLength = 16

    public var host: String
    /// The named instance; nil for the default instance.
    public var instance: String?
    /// The port when the address gives one; nil when it does not (then 1433 for a default instance,
    /// SQL Server Browser's answer for a named one).
    public var port: Int?

    /// Why a value is not a database server address.
    public enum Problem: Error, Sendable, Equatable, CustomStringConvertible {
        case empty
        case whitespaceOrControl(Character)
        case protocolPrefix(String)
        case emptyHost
        case hostTooLong(Int)
        case invalidHostCharacter(Character)
        case notAnIPv6Literal(String)
        case moreThanOnePort
        case emptyPort
        case portNotANumber(String)
        case portOutOfRange(String)
        case moreThanOneInstance
        case emptyInstance
        case instanceTooLong(String)
        case invalidInstanceStart(Character)
        case invalidInstanceCharacter(Character)

        public var description: String {
            switch self {
            case .empty: return "it is empty"
            case let .whitespaceOrControl(character):
                return
                    "it contains \(character == " " ? "a space" : "the control character U+\(String(character.unicodeScalars.first?.value ?? 0, radix: 16, uppercase: true))")"
            case let .protocolPrefix(prefix): return "the protocol prefix \"\(prefix):\" is not supported; give host, host\\INSTANCE or host,port"
            case .emptyHost: return "the host is empty"
            case let .hostTooLong(count): return "the host has \(count) characters; a host name has at most \(DatabaseServerAddress.maximumHostLength)"
            case let .invalidHostCharacter(character): return "the host contains \"\(character)\", which a host name cannot hold"
            case let .notAnIPv6Literal(text): return "the host \"\(text)\" has a colon but is not an IPv6 address (eight groups of hex digits, one :: at most)"
            case .moreThanOnePort: return "it gives more than one port (more than one comma)"
            case .emptyPort: return "the port after the comma is empty"
            case let .portNotANumber(text): return "the port \"\(text)\" is not a number"
            case let .portOutOfRange(text): return "the port \(text) is not 1–65535"
            case .moreThanOneInstance: return "it names more than one instance (more than one backslash)"
            case .emptyInstance: return "the instance after the backslash is empty"
            case let .instanceTooLong(name):
                return "the instance \"\(name)\" has \(name.count) characters; SQL Server allows \(DatabaseServerAddress.maximumInstanceLength)"
            case let .invalidInstanceStart(character): return "the instance starts with \"\(character)\"; SQL Server instance names start with a letter"
            case let .invalidInstanceCharacter(character): return "the instance contains \"\(character)\", which SQL Server instance names cannot hold"
            }
        }
    }

    public init(host: String, instance: String? = nil, port: Int? = nil) throws(Problem) {
        try Self.checkHost(host)
        if let instance { try Self.checkInstance(instance) }
        if let port, !(1...65535).contains(port) { throw .portOutOfRange(String(port)) }
        self.host = host
        self.instance = instance
        self.port = port
    }

    /// The protocol prefixes SqlClient reads before a colon (`lpc` from the native SNI); any other
    /// text before a colon is part of an IPv6 literal.
    static let protocolPrefixes: Set<String> = ["tcp", "np", "lpc", "admin"]

    /// Parses a server value strictly; the error says what is wrong with it.
    public init(parsing value: String) throws(Problem) {
        guard !value.isEmpty else { throw .empty }
        if let bad = value.first(where: { $0 == " " || $0.isWhitespace || $0.unicodeScalars.contains { $0.properties.generalCategory == .control } }) {
            throw .whitespaceOrControl(bad)
        }
        var rest = Substring(value)
        var port: Int?
        let commaParts = rest.split(separator: ",", omittingEmptySubsequences: false)
        guard commaParts.count <= 2 else { throw .moreThanOnePort }
        if commaParts.count == 2 {
            let text = String(commaParts[1])
            guard !text.isEmpty else { throw .emptyPort }
            guard text.allSatisfy({ $0.isASCII && $0.isNumber }) else { throw .portNotANumber(text) }
            // At most five digits can be a port; longer text is out of range without converting it.
            guard text.count <= 5, let number = Int(text), (1...65535).contains(number) else { throw .portOutOfRange(text) }
            port = number
            rest = commaParts[0]
        }
        var instance: String?
        let slashParts = rest.split(separator: "\\", omittingEmptySubsequences: false)
        guard slashParts.count <= 2 else { throw .moreThanOneInstance }
        if slashParts.count == 2 {
            guard !slashParts[1].isEmpty else { throw .emptyInstance }
            instance = String(slashParts[1])
            rest = slashParts[0]
        }
        let host = String(rest)
        if let colon = host.firstIndex(of: ":"), !host.hasPrefix("["),
            Self.protocolPrefixes.contains(host[..<colon].lowercased())
        {
            throw .protocolPrefix(String(host[..<colon]))
        }
        try self.init(host: host, instance: instance, port: port)
    }

    /// Parses a server value; nil when it is not one (see `init(parsing:)` for why).
    public init?(_ value: String) {
        guard let parsed = try? Self(parsing: value) else { return nil }
        self = parsed
    }

    /// `host[\INSTANCE][,port]`, the port only when it was given.
    public var description: String {
        var text = host
        if let instance { text += "\\" + instance }
        if let port { text += ",\(port)" }
        return text
    }

    /// The host as a socket API takes it: an IPv6 literal without its brackets.
    public var networkHost: String {
        host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    }

    /// The port to connect to when no Browser is needed: the given one, or 1433 for a default
    /// instance. Nil for a named instance without a port.
    public var portWithoutBrowser: Int? {
        if let port { return port }
        return instance == nil ? Self.defaultPort : nil
    }

    /// The same server as `other`, names compared as SQL Server compares them (without regard to case).
    public func sameServer(as other: DatabaseServerAddress) -> Bool {
        host.caseInsensitiveCompare(other.host) == .orderedSame
            && (instance ?? "").caseInsensitiveCompare(other.instance ?? "") == .orderedSame
            && portWithoutBrowser == other.portWithoutBrowser
    }

    private static func checkHost(_ host: String) throws(Problem) {
        guard !host.isEmpty else { throw .emptyHost }
        guard host.count <= maximumHostLength else { throw .hostTooLong(host.count) }
        if host.hasPrefix("[") {
            // An IPv6 literal in brackets, as in a URL (RFC 3986 §3.2.2); SqlClient passes it on whole.
            guard host.hasSuffix("]"), host.count > 2 else { throw .invalidHostCharacter("[") }
            try checkIPv6(host.dropFirst().dropLast())
            return
        }
        if host.contains(":") {
            try checkIPv6(Substring(host))
            return
        }
        if host == "(local)" { return }
        if let bad = host.first(where: { !($0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_")) }) {
            throw .invalidHostCharacter(bad)
        }
    }

    /// An IPv6 address in one of RFC 4291 §2.2's text forms: eight groups of 1–4 hex digits, one
    /// `::` standing for one or more zero groups, the last 32 bits optionally in dotted IPv4.
    private static func checkIPv6(_ text: Substring) throws(Problem) {
        if let bad = text.first(where: { !($0.isASCII && ($0.isHexDigit || $0 == ":" || $0 == ".")) }) { throw .invalidHostCharacter(bad) }
        guard text.contains(":") else { throw .notAnIPv6Literal(String(text)) }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { throw .notAnIPv6Literal(String(text)) }
        func groups(_ part: String) -> [Substring] { part.isEmpty ? [] : part.split(separator: ":", omittingEmptySubsequences: false) }
        let all = halves.flatMap(groups)
        var count = 0
        for (index, group) in all.enumerated() {
            if group.contains(".") {
                // Dotted IPv4, only as the last 32 bits.
                let octets = group.split(separator: ".", omittingEmptySubsequences: false)
                guard index == all.count - 1, octets.count == 4,
                    octets.allSatisfy({ $0.count >= 1 && $0.count <= 3 && $0.allSatisfy { $0.isASCII && $0.isNumber } && Int($0)! <= 255 })
                else { throw .notAnIPv6Literal(String(text)) }
                count += 2
            } else {
                guard (1...4).contains(group.count) else { throw .notAnIPv6Literal(String(text)) }
                count += 1
            }
        }
        guard halves.count == 2 ? count < 8 : count == 8 else { throw .notAnIPv6Literal(String(text)) }
    }

    private static func checkInstance(_ name: String) throws(Problem) {
        guard let first = name.first else { throw .emptyInstance }
        guard name.count <= maximumInstanceLength else { throw .instanceTooLong(name) }
        guard first.isLetter else { throw .invalidInstanceStart(first) }
        if let bad = name.first(where: { !($0.isLetter || $0.isNumber || $0 == "$" || $0 == "_") }) {
            throw .invalidInstanceCharacter(bad)
        }
    }
}

extension DatabaseServerAddress: Codable {
    enum CodingKeys: String, CodingKey { case host, instance, port }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let host = try container.decode(String.self, forKey: .host)
        let instance = try container.decodeIfPresent(String.self, forKey: .instance)
        let port = try container.decodeIfPresent(Int.self, forKey: .port)
        do {
            try self.init(host: host, instance: instance, port: port)
        } catch {
            throw DecodingError.dataCorruptedError(forKey: .host, in: container, debugDescription: "not a database server address: \(error)")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(host, forKey: .host)
        try container.encodeIfPresent(instance, forKey: .instance)
        try container.encodeIfPresent(port, forKey: .port)
    }
}
