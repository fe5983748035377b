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

extension AgentOperation {
    /// Checks every numeric argument against its documented range.
    public func checkBounds() throws(AgentError) {
        if let bounded = arguments as? any BoundedArguments { try bounded.checkBounds() }
    }
}
