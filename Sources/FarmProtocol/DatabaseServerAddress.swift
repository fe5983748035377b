import Foundation

/// A SQL Server address as server.hsconf and the Configuration Tool take it: `host`,
/// `host\INSTANCE`, `host,port` or `host\INSTANCE,port`. Parsed once, strictly, and kept typed
/// from the command line through the run's record to the wire.
///
/// Whether the port was given matters: a default instance without one listens on 1433, a named
/// instance without one on a dynamic port that SQL Server Browser announces.
public struct DatabaseServerAddress: Codable, Sendable, Hashable, CustomStringConvertible {
    /// SQL Server's default instance port.
    public static let defaultPort = 1433

    public var host: String
    public var instance: String?
    /// The port after the comma, nil when none was given.
    public var port: Int?

    public init(host: String, instance: String? = nil, port: Int? = nil) {
        self.host = host
        self.instance = instance
        self.port = port
    }

    /// Why a text is not a database server address.
    public struct Invalid: Error, Sendable, Equatable, CustomStringConvertible {
        public var text: String
        public var reason: String
        public var description: String {
            "\"\(text)\" is not a database server (\(reason)); use host, host\\INSTANCE, host,port or host\\INSTANCE,port"
        }
    }

    /// Parses strictly. The rules: a host of letters, digits, '.', '-' and '_' (a DNS name or an
    /// IPv4 address); an instance name of at most 16 letters, digits, '_' or '$' starting with a
    /// letter or '_' (Microsoft Learn, "Database Engine instances": instance name rules); one port,
    /// a number from 1 to 65535.
    public init(parsing text: String) throws(Invalid) {
        func invalid(_ reason: String) -> Invalid { Invalid(text: text, reason: reason) }
        if text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) { throw invalid("it holds a control character") }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw invalid("it is empty") }
        let commaParts = trimmed.split(separator: ",", omittingEmptySubsequences: false)
        guard commaParts.count <= 2 else { throw invalid("more than one port") }
        var port: Int?
        if commaParts.count == 2 {
            let digits = commaParts[1].trimmingCharacters(in: .whitespaces)
            guard !digits.isEmpty, digits.count <= 5, digits.allSatisfy(\.isASCIIDigit), let number = Int(digits), (1...65535).contains(number) else {
                throw invalid("the port \"\(commaParts[1])\" is not a number from 1 to 65535")
            }
            port = number
        }
        let slashParts = commaParts[0].trimmingCharacters(in: .whitespaces).split(separator: "\\", omittingEmptySubsequences: false)
        guard slashParts.count <= 2 else { throw invalid("more than one backslash") }
        let host = String(slashParts[0])
        guard !host.isEmpty else { throw invalid("no host") }
        guard host.allSatisfy({ $0.isASCIIHostCharacter }) else { throw invalid("the host \"\(host)\" holds a character a host name cannot") }
        guard !host.hasPrefix("-"), !host.hasPrefix(".") else { throw invalid("the host \"\(host)\" starts with '\(host.first!)'") }
        var instance: String?
        if slashParts.count == 2 {
            let name = String(slashParts[1])
            guard !name.isEmpty else { throw invalid("nothing after the backslash") }
            guard name.count <= 16 else { throw invalid("the instance name \"\(name)\" is longer than 16 characters") }
            guard let first = name.first, first.isASCIILetter || first == "_",
                name.allSatisfy({ $0.isASCIILetter || $0.isASCIIDigit || $0 == "_" || $0 == "$" })
            else { throw invalid("the instance name \"\(name)\" holds a character an instance name cannot") }
            instance = name
        }
        self.init(host: host, instance: instance, port: port)
    }

    /// Parses, or nil.
    public init?(_ text: String) {
        guard let parsed = try? DatabaseServerAddress(parsing: text) else { return nil }
        self = parsed
    }

    /// The port a client connects to without asking SQL Server Browser: the given one, or 1433
    /// for a default instance; nil for a named instance without a port.
    public var knownPort: Int? { port ?? (instance == nil ? Self.defaultPort : nil) }

    /// True when both name the same server: hosts and instances compare without case, and a
    /// default instance's missing port is 1433.
    public func isSameServer(as other: DatabaseServerAddress) -> Bool {
        host.caseInsensitiveCompare(other.host) == .orderedSame
            && (instance ?? "").caseInsensitiveCompare(other.instance ?? "") == .orderedSame
            && knownPort == other.knownPort
    }

    /// The canonical text: `host[\INSTANCE][,port]`.
    public var description: String {
        var text = host
        if let instance { text += "\\" + instance }
        if let port { text += ",\(port)" }
        return text
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
    fileprivate var isASCIILetter: Bool { isASCII && isLetter }
    fileprivate var isASCIIHostCharacter: Bool { isASCIILetter || isASCIIDigit || self == "." || self == "-" || self == "_" }
}
