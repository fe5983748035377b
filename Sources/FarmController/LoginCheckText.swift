import FarmProtocol

/// How a login finding reads in preflight, `osfarm check` and the gate.
public enum LoginCheckText {
    public static func line(_ finding: LoginFinding) -> String {
        "login \(finding.subject): \(finding.kind.rawValue)" + (finding.errorNumber.map { " (SQL Server error \($0))" } ?? "") + ": \(finding.message)"
            + (finding.fix.map { "; DBA fix: \($0)" } ?? "")
    }
}
