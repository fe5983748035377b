import Foundation
import FarmProtocol

/// A platform version read as OutSystems.SetupTools reads it: `[System.Version]`.
///
/// SetupTools casts the registry's `HKLM\SOFTWARE\OutSystems\Installer\Server` `Server` string and
/// Service Center's `GetPlatformInfo` answer to `[System.Version]` (`Get-OSServerVersion`,
/// `Get-OSPlatformVersion`, `Lib/PlatformSetup.ps1`'s `RunOSPTool`) and compares them with `-ne`
/// and `-lt`. .NET's `Version` (Microsoft Learn, `System.Version` constructor and `CompareTo`):
/// - takes two to four components, major.minor[.build[.revision]], each a non-negative Int32 read
///   with `Int32.Parse` (so `01` is 1; surrounding white space is allowed); anything else (five
///   components, a letter, `11.23.0.1.0`) is not a version and SetupTools' cast throws;
/// - a component left out is undefined (-1) and older than any defined one: `11.23` is older than
///   `11.23.0`, and `11.23.0` is not equal to `11.23.0.0`.
/// Equality and order here are exactly that.
public struct PlatformVersion: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Major, minor, build, revision; -1 where the text left it out.
    public let components: [Int]
    /// The text as the platform wrote it.
    public let text: String

    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (2...4).contains(parts.count) else { return nil }
        var numbers: [Int] = []
        for part in parts {
            let digits = part.trimmingCharacters(in: .whitespaces)
            let unsigned = digits.hasPrefix("+") ? String(digits.dropFirst()) : digits
            guard !unsigned.isEmpty, unsigned.allSatisfy(\.isASCII), unsigned.allSatisfy(\.isNumber),
                let value = Int32(unsigned)
            else { return nil }
            numbers.append(Int(value))
        }
        components = numbers + Array(repeating: -1, count: 4 - numbers.count)
        self.text = text
    }

    public var description: String { text }

    public static func == (left: PlatformVersion, right: PlatformVersion) -> Bool { left.components == right.components }
    public func hash(into hasher: inout Hasher) { hasher.combine(components) }
    public static func < (left: PlatformVersion, right: PlatformVersion) -> Bool {
        left.components.lexicographicallyPrecedes(right.components)
    }

    /// What `[System.Version]` would say about `text` when it is not a version.
    public static func refusal(_ text: String) -> String {
        "\"\(text)\", which is not a version ([System.Version] takes 2 to 4 numbers, major.minor[.build[.revision]])"
    }
}

extension PlatformVersion {
    /// Service Center's version against the one preflight read from the registry, compared as
    /// `[System.Version]`s, as OutSystems.SetupTools compares them (`PlatformVersion`).
    public static func proof(answered: String, expected: String?, server: String) throws(StepFailure) -> String {
        guard let version = Self(answered) else {
            throw StepFailure("Service Center on \(server) answered \(refusal(answered))")
        }
        guard let expected else { return "Service Center answers: platform \(answered)" }
        guard let wanted = Self(expected) else {
            throw StepFailure("the registry's platform version on the farm, \(refusal(expected)), cannot be compared with Service Center's \(answered)")
        }
        guard version == wanted else {
            throw StepFailure("Service Center on \(server) answered version \(answered), not \(expected)")
        }
        return "Service Center answers: platform \(answered)" + (answered == expected ? "" : " (the registry writes it \(expected): the same version)")
    }

    /// The platform proof's verdict on Service Center's answer; over HTTPS it also says which
    /// certificate was trusted and why (issue 19).
    public static func proof(_ report: PlatformInfoReport, expected: String?, server: String) throws(StepFailure) -> String {
        guard report.answered, let version = report.version else {
            throw StepFailure(
                "Service Center on \(server) did not answer GetPlatformInfo (\(report.url): \(report.reason ?? report.failure?.rawValue ?? "no answer"))")
        }
        let proof = try proof(answered: version, expected: expected, server: server)
        return proof + (report.certificate.map { "; over HTTPS, certificate \($0.summary)" } ?? "")
    }
}
