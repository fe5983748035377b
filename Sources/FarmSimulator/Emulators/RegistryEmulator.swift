import Foundation

/// `reg.exe query KEY [/v NAME | /ve]` over the simulated registry.
struct RegistryEmulator {
    let store: StateStore

    static let notFound = "ERROR: The system was unable to find the specified registry key or value.\r\n"

    static func canonicalKey(_ key: String) -> String {
        let abbreviations = ["HKLM": "HKEY_LOCAL_MACHINE", "HKCU": "HKEY_CURRENT_USER", "HKCR": "HKEY_CLASSES_ROOT", "HKU": "HKEY_USERS"]
        var parts = key.split(separator: "\\", omittingEmptySubsequences: true).map(String.init)
        if let first = parts.first, let long = abbreviations[first.uppercased()] { parts[0] = long }
        return parts.joined(separator: "\\")
    }

    func run(_ arguments: [String], out: (String) -> Void) throws -> Int32 {
        guard arguments.count >= 2, arguments[0].lowercased() == "query" else {
            out("ERROR: Invalid syntax.\r\nType \"REG /?\" for usage.\r\n")
            return 1
        }
        let key = Self.canonicalKey(arguments[1])
        var only: String?
        if arguments.count == 4, arguments[2].lowercased() == "/v" { only = arguments[3] }
        if arguments.count == 3, arguments[2].lowercased() == "/ve" { only = "(Default)" }
        let state = try store.read()
        guard let entry = state.registry.first(where: { $0.key.caseInsensitiveCompare(key) == .orderedSame }) else {
            out(Self.notFound)
            return 1
        }
        let values = entry.value.filter { only == nil || $0.name.caseInsensitiveCompare(only!) == .orderedSame }
        guard !values.isEmpty || only == nil else {
            out(Self.notFound)
            return 1
        }
        var text = "\r\n\(entry.key)\r\n"
        for value in values { text += "    \(value.name)    \(value.type)    \(value.data)\r\n" }
        out(text + "\r\n")
        return 0
    }
}
