import Foundation

/// `reg.exe query KEY [/v NAME | /ve]` over the simulated registry, naming the default value and
/// reporting errors in the server's display language. Exit 0 when found, 1 otherwise (reg.exe's
/// documented exit codes).
struct RegistryEmulator {
    let store: StateStore
    let text: ToolText

    /// The name the simulated registry stores a key's default value under (reg.exe prints it in
    /// the display language).
    static let defaultValue = "(Default)"

    static func canonicalKey(_ key: String) -> String {
        let abbreviations = ["HKLM": "HKEY_LOCAL_MACHINE", "HKCU": "HKEY_CURRENT_USER", "HKCR": "HKEY_CLASSES_ROOT", "HKU": "HKEY_USERS"]
        var parts = key.split(separator: "\\", omittingEmptySubsequences: true).map(String.init)
        if let first = parts.first, let long = abbreviations[first.uppercased()] { parts[0] = long }
        return parts.joined(separator: "\\")
    }

    func run(_ arguments: [String], out: (String) -> Void) throws -> Int32 {
        guard arguments.count >= 2, arguments[0].lowercased() == "query" else {
            out(text.registrySyntax + "\r\n")
            return 1
        }
        let key = Self.canonicalKey(arguments[1])
        var only: String?
        if arguments.count == 4, arguments[2].lowercased() == "/v" { only = arguments[3] }
        if arguments.count == 3, arguments[2].lowercased() == "/ve" { only = Self.defaultValue }
        let state = try store.read()
        guard let entry = state.registry.first(where: { WindowsName.same($0.key, key) }) else {
            out(text.registryNotFound + "\r\n")
            return 1
        }
        let values = entry.value.filter { value in only.map { WindowsName.same(value.name, $0) } ?? true }
        guard !values.isEmpty || only == nil else {
            out(text.registryNotFound + "\r\n")
            return 1
        }
        var lines = "\r\n\(entry.key)\r\n"
        for value in values {
            let name = value.name == Self.defaultValue ? text.defaultValueName : value.name
            lines += "    \(name)    \(value.type)    \(value.data)\r\n"
        }
        out(lines + "\r\n")
        return 0
    }
}
