import FarmProtocol
import Foundation
#if canImport(FoundationXML)
    import FoundationXML
#endif

/// The simulator's own reading of server.hsconf, with a real XML parser (deliberately not the
/// agent's text editor, so each checks the other).
public struct SimulatedHsconf {
    let document: XMLDocument

    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    public init(text: String) throws {
        do {
            document = try XMLDocument(xmlString: text, options: [.nodePreserveWhitespace])
        } catch {
            throw Invalid(description: "server.hsconf is not well-formed XML (\(error.localizedDescription))")
        }
        guard document.rootElement()?.name == "EnvironmentConfiguration" else {
            throw Invalid(description: "server.hsconf has no EnvironmentConfiguration root element")
        }
    }

    func section(_ name: String) -> XMLElement? { document.rootElement()?.elements(forName: name).first }

    public func value(_ section: String, _ child: String) -> String? {
        self.section(section)?.elements(forName: child).first?.stringValue
    }

    public func providerKey(_ section: String) -> String? {
        self.section(section)?.attribute(forName: "ProviderKey")?.stringValue
    }

    public func server(_ section: DatabaseSection) -> String? { value(section.elementName, "Server") }

    /// Where a section's database is, as a server value a client connects to: `Server` for SQL
    /// Server, `Host,Port` for Oracle named by service (server.hsconf reference); nil without one.
    public func databaseLocation(_ section: DatabaseSection) -> String? {
        if providerKey(section.elementName)?.lowercased() == "oracle" {
            guard let host = value(section.elementName, "Host"), let port = value(section.elementName, "Port") else { return nil }
            return "\(host),\(port)"
        }
        return server(section)
    }

    /// The checks the Configuration Tool makes before it touches a database.
    public func validate() throws {
        for section in DatabaseSection.allCases {
            guard self.section(section.elementName) != nil else {
                throw Invalid(description: "server.hsconf has no \(section.elementName) section")
            }
            guard let location = databaseLocation(section), !location.isEmpty else {
                throw Invalid(
                    description: "\(section.elementName) has no \(providerKey(section.elementName)?.lowercased() == "oracle" ? "Host and Port" : "Server")")
            }
        }
        let platform = providerKey(DatabaseSection.platform.elementName)
        for section in [DatabaseSection.logging, .session] where providerKey(section.elementName) != platform {
            throw Invalid(
                description:
                    "\(section.elementName) uses provider \(providerKey(section.elementName) ?? "none"), not \(platform ?? "none") like the platform database")
        }
    }
}
