import FarmProtocol
import Foundation
#if os(Windows)
    import WinSDK
#endif

/// The names and addresses this server answers to, for telling whether a name in server.hsconf
/// (CompilerServerHostname) is this server.
///
/// The names come from the registry as Windows' TCP/IP stack keeps them: `Hostname` and `Domain`
/// under `HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters` (Windows TCP/IP registry
/// reference); the FQDN is `Hostname.Domain`. The addresses are what the host name resolves to on
/// Windows; inside the simulator, the simulated server's own address.
struct HostNames {
    static let tcpipParameters = #"HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters"#

    var names: [String]
    var addresses: [String]

    static func read(runner: any CommandRunner, environment: HostEnvironment) -> HostNames {
        var names: [String] = []
        if let result = try? runner.run(WindowsLocations.registryTool, ["query", tcpipParameters]), result.exitCode == 0,
            let values = try? RegistryOutput.parse(result.output)
        {
            func value(_ name: String) -> String? {
                values.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.data.trimmingCharacters(in: .whitespaces)
            }
            if let host = value("Hostname"), !host.isEmpty {
                names.append(host)
                if let domain = value("Domain"), !domain.isEmpty { names.append(host + "." + domain) }
            }
        }
        #if os(Windows)
            var addresses: [String] = []
            for name in names {
                for address in resolve(name, environment: environment) where !addresses.contains(address) { addresses.append(address) }
            }
        #else
            let addresses = [environment.localAddress]
        #endif
        return HostNames(names: names, addresses: addresses)
    }

    /// The IPv4 addresses `name` stands for from this server: itself when it is an address; else on
    /// Windows what the resolver says, and in the simulator what the server's hosts file says.
    static func resolve(_ name: String, environment: HostEnvironment) -> [String] {
        if isIPv4(name) { return [name] }
        #if os(Windows)
            var hints = ADDRINFOA()
            hints.ai_family = AF_INET
            var list: UnsafeMutablePointer<ADDRINFOA>?
            guard getaddrinfo(name, nil, &hints, &list) == 0 else { return [] }
            defer { freeaddrinfo(list) }
            var found: [String] = []
            var entry = list
            while let info = entry {
                var text = [CChar](repeating: 0, count: 64)
                if let address = info.pointee.ai_addr {
                    address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { inet4 in
                        var raw = inet4.pointee.sin_addr
                        _ = inet_ntop(AF_INET, &raw, &text, size_t(text.count))
                    }
                    let value = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                    if !found.contains(value) { found.append(value) }
                }
                entry = info.pointee.ai_next
            }
            return found
        #else
            let resolved = environment.resolve(name)
            return isIPv4(resolved) ? [resolved] : []
        #endif
    }

    static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isNumber) && (Int($0) ?? 256) <= 255 }
    }
}
