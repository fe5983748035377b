/// The version of the wire protocol. A different major version cannot talk to this one;
/// a newer minor version only adds optional fields and operations.
public struct ProtocolVersion: Codable, Sendable, Equatable, CustomStringConvertible {
    public var major: Int
    public var minor: Int

    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    /// The version this build speaks. 1.2: `inspect` also reports the server's locale and
    /// server.hsconf's layout (optional fields).
    public static let current = ProtocolVersion(major: 1, minor: 2)

    public func isCompatible(with other: ProtocolVersion) -> Bool { major == other.major }

    public var description: String { "\(major).\(minor)" }
}

/// The version of the osfarm programs (controller, agent, simulator), shared so both ends report the same.
public enum OsfarmVersion {
    public static let current = "0.1.0"
}
