/// Arguments whose numbers have documented ranges (`Bounds`). `WireCodec.decodeRequest` checks
/// them, so a request with a value out of range is refused with `invalid_arguments` before any
/// operation runs; the agent checks again before performing, whatever path a request took.
public protocol BoundedArguments {
    func checkBounds() throws(AgentError)
}

extension PingArguments: BoundedArguments {
    public func checkBounds() throws(AgentError) {
        if let hold = holdMilliseconds { try Bounds.pingHoldMilliseconds.check(hold) }
    }
}

extension ServiceControlArguments: BoundedArguments {
    public func checkBounds() throws(AgentError) { try Bounds.serviceTimeoutSeconds.check(serviceTimeoutSeconds) }
}

extension ConfigurationToolArguments: BoundedArguments {
    public func checkBounds() throws(AgentError) {
        try Bounds.configurationToolTimeoutSeconds.check(timeoutSeconds)
        try Bounds.machineConfigWaitSeconds.check(machineConfigWaitSeconds)
    }
}

extension TCPProbeArguments: BoundedArguments {
    public func checkBounds() throws(AgentError) {
        try Bounds.port.check(port)
        try Bounds.probeTimeoutSeconds.check(timeoutSeconds)
    }
}

extension ReadinessArguments: BoundedArguments {
    public func checkBounds() throws(AgentError) { try Bounds.readinessTimeoutSeconds.check(timeoutSeconds) }
}

extension PlatformInfoArguments: BoundedArguments {
    public func checkBounds() throws(AgentError) {
        if let port { try Bounds.port.check(port) }
        if let hostHeader, !Self.isHostName(hostHeader) {
            throw AgentError(.invalidArguments, "hostHeader \"\(hostHeader.prefix(60))\" is not a host name")
        }
    }
}

extension AgentUpdateBegin: BoundedArguments {
    public func checkBounds() throws(AgentError) { try Bounds.agentBinaryBytes.check(size) }
}

extension AgentUpdateChunk: BoundedArguments {
    public func checkBounds() throws(AgentError) { try Bounds.agentChunkOffset.check(offset) }
}

extension BackupListArguments: BoundedArguments {
    public func checkBounds() throws(AgentError) {
        if let maxRuns { try Bounds.backupRunsListed.check(maxRuns) }
    }
}

extension LoginCheckArguments: BoundedArguments {
    public func checkBounds() throws(AgentError) { try Bounds.probeTimeoutSeconds.check(timeoutSeconds) }
}

extension AgentOperation {
    /// Checks every numeric argument against its documented range.
    public func checkBounds() throws(AgentError) {
        if let bounded = arguments as? any BoundedArguments { try bounded.checkBounds() }
    }
}

/// Bounds on what every answer echoes from its request: the request `id` and the `op` name. A
/// request within the line limit could otherwise carry an id of nearly 1 MiB, and the answer that
/// echoes it (even an `oversize_result` error) would not fit in one line. Checked by
/// `WireCodec.decodeRequest`, before anything else is read: an id over its bound is refused
/// without being echoed.
public enum RequestEchoBounds {
    public static let maxIDBytes = 256
    public static let maxOperationBytes = 64

    static func idProblem(_ id: String) -> AgentError? {
        guard id.utf8.count > maxIDBytes else { return nil }
        return AgentError(.invalidRequest, "the request's \"id\" is \(id.utf8.count) bytes, over the \(maxIDBytes)-byte limit")
    }

    static func operationProblem(_ op: String) -> AgentError? {
        guard op.utf8.count > maxOperationBytes else { return nil }
        return AgentError(.invalidRequest, "the request's \"op\" is \(op.utf8.count) bytes, over the \(maxOperationBytes)-byte limit")
    }
}
