import FarmController
import FarmProtocol
import Foundation
import XCTest

/// One request to the real agent over real sshd, for the agent-level tests of issue 11.
extension AgentSession {
    /// The typed data of a request that must succeed, with its progress lines.
    func answer(_ operation: AgentOperation, timeout: Double = 30) async throws -> (data: ResultData, progress: [String]) {
        let lines = ProgressLines()
        let data = try await perform(operation, timeout: timeout) { lines.append($0.message) }
        return (data, lines.all)
    }

    /// The agent's error for a request that must fail.
    func refusal(_ operation: AgentOperation, timeout: Double = 30, file: StaticString = #filePath, line: UInt = #line) async throws -> AgentError {
        do {
            let data = try await perform(operation, timeout: timeout)
            XCTFail("\(operation.name) should have failed, got \(data)", file: file, line: line)
            throw AgentError(.internalError, "unexpected success")
        } catch let AgentSessionError.agentFailed(_, error) {
            return error
        }
    }
}

/// Progress lines collected from the session's callback.
final class ProgressLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}
