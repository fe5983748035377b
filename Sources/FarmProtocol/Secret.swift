import Foundation

/// A value that must never be shown: a password, a passphrase.
///
/// It prints, reflects and encodes as `<redacted>`. Only the wire encoder of `WireCodec`
/// (which is used for the encrypted SSH channel and nothing else) writes the real value,
/// so a journal, a report or a log line built with any other encoder cannot leak it.
public struct Secret: Sendable, Equatable, Codable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    public static let redacted = "<redacted>"

    private let value: String

    public init(_ value: String) { self.value = value }

    /// The clear value, for the one place that must hand it to a program.
    public func reveal() -> String { value }

    public var description: String { Self.redacted }
    public var debugDescription: String { Self.redacted }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }

    public init(from decoder: Decoder) throws {
        value = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        let onWire = encoder.userInfo[WireCodec.revealSecretsKey] as? Bool ?? false
        try container.encode(onWire ? value : Self.redacted)
    }
}
