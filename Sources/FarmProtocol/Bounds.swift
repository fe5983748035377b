/// The documented range of one numeric field.
///
/// Every number that crosses a trust boundary (a request field the agent decodes, an option the
/// controller parses) is checked against its bound where it enters, before any conversion or
/// arithmetic sees it: then no `Int(seconds * 1000)`, `UInt32(x)` or date arithmetic further on
/// can trap on it. NaN and the infinities are outside every bound.
public struct Bound<Value: Comparable & Sendable>: Sendable {
    /// The field's name as it is written on the wire (or the option's name on the command line).
    public let field: String
    public let range: ClosedRange<Value>
    /// "s", "ms", "bytes", … (empty for a plain count).
    public let unit: String

    public init(field: String, range: ClosedRange<Value>, unit: String = "") {
        self.field = field
        self.range = range
        self.unit = unit
    }

    public func contains(_ value: Value) -> Bool { range.contains(value) }

    /// "0.1…3600 s"
    public var rangeDescription: String {
        let text = Self.format(range.lowerBound) + "…" + Self.format(range.upperBound)
        return unit.isEmpty ? text : "\(text) \(unit)"
    }

    /// Why `value` is refused, naming the field (or `name`, e.g. an option) and the range; nil when it is in range.
    public func problem(_ value: Value, name: String? = nil) -> String? {
        guard !contains(value) else { return nil }
        return "\(name ?? field) must be \(rangeDescription), not \(Self.format(value))"
    }

    /// Throws `invalid_arguments` naming the field and its range.
    public func check(_ value: Value) throws(AgentError) {
        if let problem = problem(value) { throw AgentError(.invalidArguments, problem) }
    }

    static func format(_ value: Value) -> String {
        let text = "\(value)"
        return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
    }
}

/// Every numeric range osfarm documents, in one place: the agent checks request fields against
/// them when it decodes a request, and the controller's option parsing uses the same ones.
public enum Bounds {
    // MARK: Request fields (checked by WireCodec.decodeRequest)

    /// `ping` holdMilliseconds: a held answer, for measuring deadlines.
    public static let pingHoldMilliseconds = Bound(field: "holdMilliseconds", range: 0...60_000, unit: "ms")
    /// How long one service may take to stop or start (`stop-services`, `start-services`, `stop-iis`, `start-iis`).
    public static let serviceTimeoutSeconds = Bound(field: "serviceTimeoutSeconds", range: 0.1...3600.0, unit: "s")
    /// A Configuration Tool run (it can take 30 minutes and more on a large database).
    public static let configurationToolTimeoutSeconds = Bound(field: "timeoutSeconds", range: 1.0...86_400.0, unit: "s")
    /// How long to wait for machine.config to be unlocked before a Configuration Tool run.
    public static let machineConfigWaitSeconds = Bound(field: "machineConfigWaitSeconds", range: 0.0...3600.0, unit: "s")
    /// `probe-tcp` port.
    public static let port = Bound(field: "port", range: 1...65_535)
    /// `probe-tcp` timeoutSeconds.
    public static let probeTimeoutSeconds = Bound(field: "timeoutSeconds", range: 0.1...300.0, unit: "s")
    /// `wait-for-readiness` timeoutSeconds.
    public static let readinessTimeoutSeconds = Bound(field: "timeoutSeconds", range: 0.1...7200.0, unit: "s")
    /// `begin-agent-update` size.
    public static let agentBinaryBytes = Bound(field: "size", range: 1...AgentUpdateBegin.maximumSize, unit: "bytes")
    /// `agent-update-chunk` offset.
    public static let agentChunkOffset = Bound(field: "offset", range: 0...AgentUpdateBegin.maximumSize, unit: "bytes")
    /// `list-backups` maxRuns: runs listed per server (the newest first), so the answer stays under the line limit.
    public static let backupRunsListed = Bound(field: "maxRuns", range: 1...1000, unit: "runs")

    /// The request fields above that are whole numbers.
    public static let wholeNumberFields = [pingHoldMilliseconds, port, agentBinaryBytes, agentChunkOffset, backupRunsListed]

    // MARK: Controller settings

    /// Each connection phase (connect, handshake, authentication, channel) and each agent answer.
    public static let connectionTimeoutSeconds = Bound(field: "timeout", range: 0.1...3600.0, unit: "s")
    /// A request's deadlines on the controller: no news for this long, or the whole request.
    public static let requestTimeoutSeconds = Bound(field: "timeout", range: 0.1...172_800.0, unit: "s")
    /// Seconds between SSH keepalives while a session waits.
    public static let keepaliveIntervalSeconds = Bound(field: "keepaliveInterval", range: 1...3600, unit: "s")
    /// Unanswered keepalives in a row after which a server is declared lost.
    public static let keepaliveCount = Bound(field: "keepaliveCount", range: 1...100)
    /// Servers handled at once.
    public static let concurrency = Bound(field: "concurrency", range: 1...1024)
}
