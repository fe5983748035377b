/// A `hosts` file as Windows reads it (`C:\Windows\System32\drivers\etc\hosts`): an address, then
/// one or more names; `#` starts a comment; names match without regard to case.
public struct WindowsHostsFile: Sendable {
    public static let path = #"C:\Windows\System32\drivers\etc\hosts"#

    private var addresses: [String: String] = [:]

    public init(text: String) {
        for line in text.split(whereSeparator: \.isNewline) {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = content.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard fields.count >= 2 else { continue }
            for name in fields.dropFirst() where addresses[name.lowercased()] == nil { addresses[name.lowercased()] = fields[0] }
        }
    }

    /// The address the file gives `name`, if any.
    public func address(of name: String) -> String? { addresses[name.lowercased()] }
}
