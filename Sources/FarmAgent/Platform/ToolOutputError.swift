import FarmProtocol

extension AgentError {
    /// A Windows tool printed something the agent cannot read: never guess, say what it was.
    static func unreadableOutput(_ tool: String, _ output: String) -> AgentError {
        let firstLines = output.split(whereSeparator: \.isNewline).prefix(3).joined(separator: " | ")
        return AgentError(.operationFailed, "\(tool) printed output osfarm cannot read: \"\(firstLines.prefix(200))\"")
    }
}
