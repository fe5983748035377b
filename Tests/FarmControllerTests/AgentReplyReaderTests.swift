import FarmController
import FarmProtocol
import XCTest

/// The controller's reading of agent lines, case by case (the fuzz test covers the rest).
final class AgentReplyReaderTests: XCTestCase {
    private func item(_ message: AgentMessage) throws -> LineFramer.Item {
        .line(Array(try WireCodec.encode(message).dropLast()))
    }

    private let pong = ResultData.pong(Pong(agentTimeMilliseconds: 1))

    func testProgressThenTheResultOfTheRequestWaitedOn() throws {
        var reader = AgentReplyReader()
        reader.begin(id: "1", operation: "ping")
        XCTAssertEqual(
            try reader.read(item(.progress(requestID: "1", ProgressEvent(step: "s", message: "m")))),
            .progress(ProgressEvent(step: "s", message: "m")))
        XCTAssertEqual(try reader.read(item(.result(requestID: "1", .ok(pong)))), .result(pong))
        XCTAssertNil(reader.pendingRequest)
    }

    func testALateAnswerToAGivenUpRequestIsSkippedNotTakenForTheNext() throws {
        var reader = AgentReplyReader()
        reader.begin(id: "1", operation: "inspect")
        reader.abandonPending()
        reader.begin(id: "2", operation: "ping")
        XCTAssertNil(try reader.read(item(.progress(requestID: "1", ProgressEvent(step: "s", message: "late")))))
        XCTAssertNil(
            try reader.read(
                item(.result(requestID: "1", .ok(.inspection(ServerInspection(host: HostFacts(hostname: "h", operatingSystem: "o", processID: 1))))))))
        XCTAssertEqual(try reader.read(item(.result(requestID: "2", .ok(pong)))), .result(pong))
        // Its result came once; a second one is out of place.
        reader.begin(id: "3", operation: "ping")
        XCTAssertThrowsError(try reader.read(item(.result(requestID: "1", .ok(pong))))) {
            guard case let .protocolViolation(detail)? = $0 as? AgentSessionError else { return XCTFail("\($0)") }
            XCTAssertTrue(detail.contains("a result for request \"1\", which is not waiting"), detail)
        }
    }

    func testWrongRepeatedAndAnonymousResultsAreViolations() throws {
        var reader = AgentReplyReader()
        reader.begin(id: "1", operation: "ping")
        _ = try reader.read(item(.result(requestID: "1", .ok(pong))))
        reader.begin(id: "2", operation: "ping")
        for message in [
            AgentMessage.result(requestID: "1", .ok(pong)), .result(requestID: "9", .ok(pong)),
            .hello(Hello(host: HostFacts(hostname: "h", operatingSystem: "o", processID: 1))),
            .result(requestID: "2", .ok(.shutdown)),
        ] {
            var copy = reader
            XCTAssertThrowsError(try copy.read(item(message)), "\(message)") {
                guard case .protocolViolation? = $0 as? AgentSessionError else { return XCTFail("\($0)") }
            }
        }
        XCTAssertThrowsError(try reader.read(item(.result(requestID: nil, .failure(AgentError(.malformedRequest, "bad")))))) {
            XCTAssertEqual("\($0)", "protocol violation: the agent could not read request 2 (ping): malformed_request: bad")
        }
        XCTAssertThrowsError(try reader.read(.oversize(byteCount: 2_000_000))) {
            XCTAssertEqual("\($0)", "protocol violation: a protocol line of 2000000 bytes is over the 1048576-byte limit")
        }
        XCTAssertThrowsError(try reader.read(.line([0xFF, 0xFE])))
    }

    func testATypedErrorLeavesTheStreamInStep() throws {
        var reader = AgentReplyReader()
        reader.begin(id: "1", operation: "ping")
        XCTAssertThrowsError(try reader.read(item(.result(requestID: "1", .failure(AgentError(.notFound, "x")))))) {
            XCTAssertEqual($0 as? AgentSessionError, .agentFailed(operation: "ping", AgentError(.notFound, "x")))
        }
        reader.begin(id: "2", operation: "ping")
        XCTAssertEqual(try reader.read(item(.result(requestID: "2", .ok(pong)))), .result(pong))
    }

    func testTheFirstLineMustBeAHello() throws {
        XCTAssertNoThrow(try AgentReplyReader.hello(from: item(.hello(Hello(host: HostFacts(hostname: "h", operatingSystem: "o", processID: 1))))))
        XCTAssertThrowsError(try AgentReplyReader.hello(from: item(.result(requestID: "1", .ok(pong))))) {
            XCTAssertEqual("\($0)", "protocol violation: the agent's first message was not hello")
        }
    }
}
