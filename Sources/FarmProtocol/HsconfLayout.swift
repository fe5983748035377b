import Foundation

/// The shape of server.hsconf without its secrets (protocol 1.2): the sections it has, and for
/// every secret value (a password, a connection string) where it is and in which form, with a
/// stand-in of that form in place of the value. The agent builds it on the server, so no secret
/// value, and nothing derived from one but its form, ever leaves the server.
public struct HsconfLayout: Codable, Sendable, Equatable {
    /// The children of `<EnvironmentConfiguration>`, in file order.
    public var sections: [String]
    public var secrets: [HsconfSecret]

    public init(sections: [String], secrets: [HsconfSecret]) {
        self.sections = sections
        self.secrets = secrets
    }

    /// True when every secret value is encrypted (what the Configuration Tool writes).
    public var allEncrypted: Bool { secrets.allSatisfy { $0.form == .encrypted } }
}

/// How a secret value is written in server.hsconf.
public enum HsconfSecretForm: String, Codable, Sendable {
    /// `encrypted="true"`: `$2$`, an IV and AES cipher text in base64, under private.key (what the
    /// Configuration Tool writes; see HsconfCipher).
    case encrypted
    /// In clear text (an operator's hand-prepared file, before the Configuration Tool encrypts it).
    case clear
}

/// One secret value of server.hsconf, without the value.
public struct HsconfSecret: Codable, Sendable, Equatable {
    public var section: String
    public var element: String
    public var form: HsconfSecretForm
    /// A value of the same form that says nothing about the real one: for an encrypted value,
    /// `$2$`, a zero IV and as many zero bytes as the real cipher text has (whole AES blocks),
    /// in base64; for a clear value, a fixed placeholder.
    public var standIn: String

    public init(section: String, element: String, form: HsconfSecretForm, standIn: String) {
        self.section = section
        self.element = element
        self.form = form
        self.standIn = standIn
    }

    public static let clearStandIn = "stand-in"

    /// The stand-in for a value as written.
    public static func standIn(form: HsconfSecretForm, written: String) -> String {
        guard form == .encrypted else { return clearStandIn }
        var text = written.filter { !$0.isWhitespace }
        if text.hasPrefix(HsconfCipher.prefix) { text.removeFirst(HsconfCipher.prefix.count) }
        let cipher = text.dropFirst(HsconfCipher.ivCharacters)
        let padding = cipher.reversed().prefix { $0 == "=" }.count
        let cipherBytes = max(0, cipher.count / 4 * 3 - padding)
        return HsconfCipher.prefix + Data(count: 16).base64EncodedString() + Data(count: cipherBytes).base64EncodedString()
    }
}
