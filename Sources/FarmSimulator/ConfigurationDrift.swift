import FarmProtocol
import Foundation

/// A simulated server whose configuration has drifted from the rest of the farm, in the ways a
/// database move must find before it starts (issue 11, item 7): another platform version, another
/// private.key, a `Failover Partner` or cache host on the old database server, or a
/// CompilerServerHostname of `localhost` (which the unattended installation guide warns against).
public struct ConfigurationDrift: Sendable, Equatable {
    /// Another installed platform version (registry `Installer\Server` `Server`, and hsconf
    /// `OtherConfigurations/PlatformVersion`).
    public var platformVersion: String?
    /// A private.key of its own, not the farm's.
    public var newPrivateKey = false
    /// `Failover Partner=NAME` appended to PlatformDatabaseConfiguration/RuntimeAdvancedSettings.
    public var failoverPartner: String?
    /// CacheInvalidationConfiguration/ServiceHost.
    public var cacheServiceHost: String?
    /// ServiceConfiguration/CompilerServerHostname.
    public var compilerServerHostname: String?
    /// A comment holding `é` as one Windows-1252 byte (0xE9), as an editor that saved the file in
    /// the system's legacy code page leaves it, while the declaration still says utf-8.
    public var legacyByteInComment = false

    public init() {}

    public var isEmpty: Bool { self == ConfigurationDrift() }

    func apply(serverDirectory: String, store: StateStore) throws {
        let install = ServerBuilder.installDirectory
        let hsconfPath = ServerBuilder.localPath(install + #"\server.hsconf"#, serverDirectory: serverDirectory)
        var text = try String(contentsOfFile: hsconfPath, encoding: .utf8)
        if let version = platformVersion {
            text = try Self.setting(text, section: "OtherConfigurations", element: "PlatformVersion") { _ in version }
            try store.update { state in
                let key = #"HKEY_LOCAL_MACHINE\SOFTWARE\OutSystems\Installer\Server"#
                if let index = state.registry[key]?.firstIndex(where: { $0.name == "Server" }) { state.registry[key]?[index].data = version }
            }
        }
        if let partner = failoverPartner {
            text = try Self.setting(text, section: "PlatformDatabaseConfiguration", element: "RuntimeAdvancedSettings") {
                ($0.isEmpty ? "" : $0 + ";") + "Failover Partner=" + XMLText.escape(partner)
            }
        }
        if let host = cacheServiceHost {
            text = try Self.setting(text, section: "CacheInvalidationConfiguration", element: "ServiceHost") { _ in XMLText.escape(host) }
        }
        if let host = compilerServerHostname {
            text = try Self.setting(text, section: "ServiceConfiguration", element: "CompilerServerHostname") { _ in XMLText.escape(host) }
        }
        var bytes = Array(text.utf8)
        if legacyByteInComment, let root = text.range(of: "<EnvironmentConfiguration>") {
            let at = text.utf8.distance(from: text.utf8.startIndex, to: root.upperBound.samePosition(in: text.utf8) ?? text.utf8.endIndex)
            bytes.insert(contentsOf: Array("\r\n  <!-- r".utf8) + [0xE9] + Array("sum: moved by ops -->".utf8), at: at)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: hsconfPath), options: .atomic)
        if newPrivateKey {
            try HsconfCipher.newPrivateKey().write(
                toFile: ServerBuilder.localPath(install + #"\private.key"#, serverDirectory: serverDirectory),
                atomically: true, encoding: .utf8)
        }
    }

    /// Replaces the (escaped) text of `<element>` in `<section>` with what `change` makes of it; a
    /// self-closing element gets its text. Every other byte stays.
    static func setting(_ text: String, section: String, element: String, _ change: (String) -> String) throws -> String {
        guard let open = text.range(of: "<\(section)"), let close = text.range(of: "</\(section)>", range: open.upperBound..<text.endIndex) else {
            throw SimulatorError.badLayout("server.hsconf has no <\(section)>")
        }
        let inside = open.upperBound..<close.lowerBound
        var result = text
        if let start = text.range(of: "<\(element)>", range: inside), let end = text.range(of: "</\(element)>", range: start.upperBound..<close.lowerBound) {
            result.replaceSubrange(start.upperBound..<end.lowerBound, with: change(String(text[start.upperBound..<end.lowerBound])))
        } else if let empty = text.range(of: "<\(element) />", range: inside) ?? text.range(of: "<\(element)/>", range: inside) {
            result.replaceSubrange(empty, with: "<\(element)>\(change(""))</\(element)>")
        } else {
            throw SimulatorError.badLayout("server.hsconf has no <\(element)> in <\(section)>")
        }
        return result
    }
}
