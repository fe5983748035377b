/// The version of the wire protocol. A different major version cannot talk to this one;
/// a newer minor version only adds optional fields and operations.
public struct ProtocolVersion: Codable, Sendable, Equatable, CustomStringConvertible {
    public var major: Int
    public var minor: Int

    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    /// The version this build speaks.
    public static let current = ProtocolVersion(major: 1, minor: 1)

    public func isCompatible(with other: ProtocolVersion) -> Bool { major == other.major }

    public var description: String { "\(major).\(minor)" }
}

/// The version of the osfarm programs (controller, agent, simulator), shared so both ends report the same.
public enum OsfarmVersion {
    public static let current = "0.1.0"
}
