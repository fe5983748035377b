/// How Windows matches the names the simulator looks up: service names and display names (the
/// service control manager compares them without regard to case, CreateService docs), registry key
/// and value names (not case sensitive, "Structure of the Registry"), program names.
enum WindowsName {
    /// Equal but for case. Done with the standard library's case mapping rather than Foundation's
    /// caseInsensitiveCompare, which goes through NSString at every emulated program's start.
    static func same(_ one: String, _ other: String) -> Bool {
        one == other || one.uppercased() == other.uppercased()
    }
}
