import FarmProtocol
import Foundation

/// What server.hsconf says beyond the three database sections' `Server` elements, for the checks a
/// database move depends on. Reads through `HsconfDocument` only, and reports no secret.
struct HsconfFindings {
    let document: HsconfDocument

    /// The elements whose values are ADO.NET connection-string fragments appended to the sections'
    /// connection strings (server.hsconf reference: RuntimeAdvancedSettings, ServicesAdvancedSettings,
    /// SessionAdvancedSettings).
    static let advancedSettings = ["RuntimeAdvancedSettings", "ServicesAdvancedSettings", "SessionAdvancedSettings"]

    /// The connection-string keywords that name a server: `Data Source` and its synonyms `Server`,
    /// `Address`, `Addr`, `Network Address`, and `Failover Partner` (SqlConnection.ConnectionString).
    static let serverKeywords = ["data source", "server", "address", "addr", "network address", "failover partner"]

    /// Every place that names a server other than the sections' `Server` elements: server keywords in
    /// the advanced settings of each database section, and `CacheInvalidationConfiguration/ServiceHost`.
    func serverReferences() -> [ServerReference] {
        var references: [ServerReference] = []
        for section in DatabaseSection.allCases {
            for element in Self.advancedSettings {
                guard let value = document.value(section: section.elementName, child: element), !value.isEmpty else { continue }
                for (keyword, server) in Self.connectionStringPairs(value)
                where Self.serverKeywords.contains(keyword.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")) {
                    references.append(ServerReference(location: "\(section.elementName)/\(element)", keyword: keyword, server: server))
                }
            }
        }
        if let host = document.value(section: "CacheInvalidationConfiguration", child: "ServiceHost"), !host.isEmpty {
            references.append(ServerReference(location: "CacheInvalidationConfiguration/ServiceHost", keyword: nil, server: host))
        }
        return references
    }

    /// `key=value` pairs of a connection string: `;` separates them, a value may be quoted with `"`
    /// or `'` (a doubled quote inside stands for one), white space around keys and values is dropped.
    static func connectionStringPairs(_ text: String) -> [(String, String)] {
        var pairs: [(String, String)] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            guard let equals = rest.firstIndex(of: "=") else { break }
            let key = rest[..<equals].trimmingCharacters(in: CharacterSet(charactersIn: "; \t\r\n"))
            rest = rest[rest.index(after: equals)...].drop { $0 == " " || $0 == "\t" }
            var value = ""
            if let quote = rest.first, quote == "\"" || quote == "'" {
                var index = rest.index(after: rest.startIndex)
                while index < rest.endIndex {
                    if rest[index] == quote {
                        let next = rest.index(after: index)
                        if next < rest.endIndex, rest[next] == quote {
                            value.append(quote)
                            index = rest.index(after: next)
                            continue
                        }
                        index = next
                        break
                    }
                    value.append(rest[index])
                    index = rest.index(after: index)
                }
                rest = rest[index...]
                rest = rest.drop { $0 != ";" }.dropFirst()
            } else {
                let end = rest.firstIndex(of: ";") ?? rest.endIndex
                value = rest[..<end].trimmingCharacters(in: .whitespaces)
                rest = end < rest.endIndex ? rest[rest.index(after: end)...] : ""
            }
            if !key.isEmpty { pairs.append((key, value)) }
        }
        return pairs
    }

    /// The provider of each database section present, with Oracle's addressing.
    func databaseProviders() -> [DatabaseSectionProvider] {
        DatabaseSection.allCases.compactMap { section in
            let name = section.elementName
            let providerKey = document.attribute(section: name, name: "ProviderKey")
            guard
                providerKey != nil || document.value(section: name, child: "Server") != nil
                    || document.value(section: name, child: "Host") != nil || document.value(section: name, child: "TNSName") != nil
            else { return nil }
            var provider = DatabaseSectionProvider(section: section, providerKey: providerKey ?? "")
            if provider.provider == .oracle {
                // The session section names the naming mode IdType; the others NamingType.
                provider.oracle = OracleAddress(
                    namingType: document.value(section: name, child: section == .session ? "IdType" : "NamingType")
                        ?? document.value(section: name, child: "NamingType"),
                    host: document.value(section: name, child: "Host"), port: document.value(section: name, child: "Port"),
                    serviceName: document.value(section: name, child: "ServiceName"), tnsName: document.value(section: name, child: "TNSName"))
            }
            return provider
        }
    }

    /// Sessions in Redis: `<InMemorySessionConfiguration ProviderKey="Redis"><ConnectionString>`.
    /// Only the `host:port` entries of the connection string are kept: its options carry the password.
    func inMemorySession() -> InMemorySessionStorage? {
        let section = "InMemorySessionConfiguration"
        let providerKey = document.attribute(section: section, name: "ProviderKey")
        let connection = document.value(section: section, child: "ConnectionString")
        guard providerKey != nil || connection != nil else { return nil }
        let text = (connection ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        // Encrypted values have the `$2$` + IV + cipher text shape (see outsystems-11.md §3.1).
        let encrypted = text.hasPrefix("$2$")
        let endpoints =
            encrypted
            ? []
            : text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
                .filter { !$0.isEmpty && !$0.contains("=") }
        return InMemorySessionStorage(providerKey: providerKey ?? "", endpoints: endpoints, connectionStringEncrypted: encrypted)
    }
}
