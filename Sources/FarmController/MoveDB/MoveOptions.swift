import FarmProtocol
import Foundation

/// How a move behaves, as the operator chose on the command line. Holds no secret. Kept in the
/// run's record, so `resume` and `rollback` behave as the run did.
public struct MoveOptions: Codable, Sendable, Equatable {
    /// Front-ends applied at once.
    public var parallel: Int = 1
    /// Front-end failures tolerated before no new front-end starts.
    public var maxFailures: Int = 0
    /// Refuse servers that point anywhere else.
    public var expectFrom: DatabaseServerAddress?
    /// Go on with a farm whose servers point at different databases.
    public var force = false
    /// Allow a --limit that leaves part of the farm on the old database.
    public var allowPartial = false
    /// The restore is done: do not wait at the gate.
    public var databaseRestored = false
    /// Run /ApplySettingsFactory on the deployment controller at the end (the article's last step).
    public var applySettings = true
    /// End the process of a platform service still STOP_PENDING at its deadline (its PID from the
    /// service query), instead of failing the stop.
    public var killStuckServices = false
    /// What a stuck service's failure says (the agent's words), and the option that resumes past it.
    public static let killStuckServicesOption = "--kill-stuck-services"
    public var window: MaintenanceWindow?
    /// Seconds one server's apply is expected to take; nil: learn from the servers done so far.
    public var serverBudget: Double?
    /// Seconds for each connection phase and each answer.
    public var timeout: Double = 10
    public var serviceTimeout: Double = 180
    public var configurationToolTimeout: Double = 1800
    public var readinessTimeout: Double = 300
    /// The most any step that drives services may take in all.
    public var stepTimeout: Double = 3600
    /// Name of the environment variable holding the Windows-authentication admin password.
    public var adminPasswordVariable: String?
    /// Log in to the new database as every user server.hsconf names, at the gate and in preflight
    /// (nil: yes; false: --no-login-check).
    public var loginCheck: Bool?

    public var checksLogins: Bool { loginCheck ?? true }

    public init() {}

    /// Every number's range, checked when the command line or a run's record is read, so that no
    /// value can reach a conversion that traps.
    public static var ranges: [(name: String, keyPath: WritableKeyPath<MoveOptions, Double>, range: ClosedRange<Double>)] {
        [
            ("--timeout", \.timeout, 1...3600),
            ("--service-timeout", \.serviceTimeout, 1...86_400),
            ("--config-tool-timeout", \.configurationToolTimeout, 1...86_400),
            ("--readiness-timeout", \.readinessTimeout, 1...86_400),
            ("--step-timeout", \.stepTimeout, 1...86_400),
        ]
    }
    public static let parallelRange = 1...256
    public static let maxFailuresRange = 0...10_000
    public static let serverBudgetRange: ClosedRange<Double> = 1...86_400

    /// The first value out of its range, named as on the command line.
    public func problems() -> [String] {
        var problems: [String] = []
        for (name, keyPath, range) in Self.ranges where !range.contains(self[keyPath: keyPath]) {
            problems.append(
                "\(name) \(Self.format(self[keyPath: keyPath])) is out of range (\(Self.format(range.lowerBound))…\(Self.format(range.upperBound)) seconds)")
        }
        if !Self.parallelRange.contains(parallel) {
            problems.append("--parallel \(parallel) is out of range (\(Self.parallelRange.lowerBound)…\(Self.parallelRange.upperBound))")
        }
        if !Self.maxFailuresRange.contains(maxFailures) {
            problems.append("--max-failures \(maxFailures) is out of range (\(Self.maxFailuresRange.lowerBound)…\(Self.maxFailuresRange.upperBound))")
        }
        if let serverBudget, !Self.serverBudgetRange.contains(serverBudget) {
            problems.append("--server-budget \(Self.format(serverBudget)) is out of range (1…86400 seconds)")
        }
        if let variable = adminPasswordVariable, !EnvironmentVariableName.isValid(variable) {
            problems.append("--admin-password-env \"\(variable)\" is not an environment variable name")
        }
        return problems
    }

    /// The same options with every out-of-range value back at its default: what a rollback uses
    /// when a run's record holds a bad value, so that the way back never depends on it.
    public func withDefaultsForProblems() -> MoveOptions {
        var fixed = self
        let defaults = MoveOptions()
        for (_, keyPath, range) in Self.ranges where !range.contains(self[keyPath: keyPath]) {
            fixed[keyPath: keyPath] = defaults[keyPath: keyPath]
        }
        if !Self.parallelRange.contains(parallel) { fixed.parallel = defaults.parallel }
        if !Self.maxFailuresRange.contains(maxFailures) { fixed.maxFailures = defaults.maxFailures }
        if let serverBudget, !Self.serverBudgetRange.contains(serverBudget) { fixed.serverBudget = nil }
        return fixed
    }

    static func format(_ value: Double) -> String {
        value.isFinite && value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}

/// Environment variable names osfarm accepts for secrets: letters, digits and '_', not starting with a digit.
public enum EnvironmentVariableName {
    public static func isValid(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.count <= 128, !CharacterSet.decimalDigits.contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_") }
    }
}
