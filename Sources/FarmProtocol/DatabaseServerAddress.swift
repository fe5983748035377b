import Foundation

/// A SQL Server address as server.hsconf and the Configuration Tool take it: `host`,
/// `host\INSTANCE` or `host,port` (1433 when no port is given).
public struct DatabaseServerAddress: Sendable, Equatable, CustomStringConvertible {
    public static let defaultPort = 1433

    public var host: String
    public var instance: String?
    public var port: Int

    /// Parses a server value; nil when it is empty or its port is not a number.
    public init?(_ value: String) {
        var text = value.trimmingCharacters(in: .whitespaces)
        var port = Self.defaultPort
        if let comma = text.lastIndex(of: ",") {
            guard let parsed = Int(text[text.index(after: comma)...].trimmingCharacters(in: .whitespaces)), (1...65535).contains(parsed) else {
                return nil
            }
            port = parsed
            text = String(text[..<comma])
        }
        var instance: String?
        if let slash = text.firstIndex(of: "\\") {
            instance = String(text[text.index(after: slash)...])
            text = String(text[..<slash])
        }
        guard !text.isEmpty, !text.contains(" ") else { return nil }
        host = text
        self.instance = instance
        self.port = port
    }

    public var description: String {
        var text = host
        if let instance { text += "\\" + instance }
        if port != Self.defaultPort { text += ",\(port)" }
        return text
    }
}
