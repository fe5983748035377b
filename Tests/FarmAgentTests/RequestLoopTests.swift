import FarmAgent
import FarmProtocol
import Foundation
import XCTest

/// The agent's request loop driven with in-memory input, the way sshd drives it with a pipe.
final class RequestLoopTests: XCTestCase {
    private let facts = HostFacts(hostname: "OSFE01", operatingSystem: "Test OS", processID: 42)

    /// Runs the loop over `input` split into `chunkSize` pieces; returns the decoded output messages.
    private func serve(_ input: [UInt8], chunkSize: Int = 7) throws -> [AgentMessage] {
        var chunks = stride(from: 0, to: input.count, by: chunkSize).map { Array(input[$0..<min($0 + chunkSize, input.count)]) }
        var output: [UInt8] = []
        let facts = self.facts
        let loop = RequestLoop(
            operations: ServerOperations(facts: { facts }),
            readChunk: { chunks.isEmpty ? nil : chunks.removeFirst() },
            writeLine: { output += $0 },
            log: AgentLog(write: { _ in }))
        try loop.run()
        var framer = LineFramer()
        return try framer.feed(output).map {
            guard case let .line(bytes) = $0 else { throw WireError.oversizeLine(byteCount: 0) }
            return try WireCodec.decodeAgentMessage(bytes)
        }
    }

    private func line(_ request: Request) throws -> [UInt8] { try WireCodec.encode(request) }

    func testHelloFirstThenOneResultPerRequest() throws {
        let input = try line(Request(id: "a", operation: .ping(PingArguments()))) + line(Request(id: "b", operation: .inspect))
        let messages = try serve(input)
        XCTAssertEqual(messages.count, 3)
        XCTAssertEqual(messages[0], .hello(Hello(host: facts, heartbeatSeconds: RequestLoop.defaultHeartbeatSeconds)))
        guard case .result("a", .ok(.pong)) = messages[1] else { return XCTFail("\(messages[1])") }
        guard case let .result("b", .ok(.inspection(inspection))) = messages[2] else { return XCTFail("\(messages[2])") }
        XCTAssertEqual(inspection.host, facts)
        XCTAssertNotNil(inspection.platformProblem, "no OutSystems installation on a test machine")
    }

    func testMalformedUnknownAndOversizeRequestsGetTypedErrorsAndServingGoesOn() throws {
        var input = Array("this is not json\n".utf8)
        input += Array(#"{"id":"u","op":"format-disk","v":1}"#.utf8) + [10]
        input += [UInt8](repeating: UInt8(ascii: "x"), count: WireCodec.maxLineBytes + 10) + [10]
        input += Array(#"{"id":"p","op":"ping","v":1,"args":{"holdMilliseconds":-5}}"#.utf8) + [10]
        input += try line(Request(id: "after", operation: .ping(PingArguments())))
        let messages = try serve(input, chunkSize: 64 * 1024)
        XCTAssertEqual(messages.count, 6)
        XCTAssertEqual(messages[1], .result(requestID: nil, .failure(AgentError(.malformedRequest, "the request line is not valid JSON"))))
        XCTAssertEqual(messages[2], .result(requestID: "u", .failure(AgentError(.unknownOperation, "unknown operation \"format-disk\""))))
        guard case let .result(nil, .failure(oversize)) = messages[3] else { return XCTFail("\(messages[3])") }
        XCTAssertEqual(oversize.code, .oversizeRequest)
        guard case let .result("p", .failure(invalid)) = messages[4] else { return XCTFail("\(messages[4])") }
        XCTAssertEqual(invalid.code, .invalidArguments)
        guard case .result("after", .ok(.pong)) = messages[5] else { return XCTFail("the agent stopped serving: \(messages[5])") }
    }

    /// An id or op name of nearly 1 MiB fits in a request line, but no answer echoing it would fit
    /// in one: refused as an invalid request (the id not echoed), and the session goes on.
    func testAnIDOrOperationTooLongToEchoIsRefusedAndServingGoesOn() throws {
        let long = String(repeating: "i", count: WireCodec.maxLineBytes - 100)
        var input = Array(#"{"id":"\#(long)","op":"ping","v":1}"#.utf8) + [10]
        input += Array(#"{"id":"o","op":"\#(long)","v":1}"#.utf8) + [10]
        input += try line(Request(id: String(repeating: "k", count: RequestEchoBounds.maxIDBytes), operation: .ping(PingArguments())))
        input += try line(Request(id: "after", operation: .ping(PingArguments())))
        let messages = try serve(input, chunkSize: 64 * 1024)
        XCTAssertEqual(messages.count, 5, "\(messages.map { "\($0)".prefix(200) })")
        XCTAssertEqual(
            messages[1],
            .result(requestID: nil, .failure(AgentError(.invalidRequest, "the request's \"id\" is \(long.utf8.count) bytes, over the 256-byte limit"))))
        XCTAssertEqual(
            messages[2],
            .result(requestID: "o", .failure(AgentError(.invalidRequest, "the request's \"op\" is \(long.utf8.count) bytes, over the 64-byte limit"))))
        guard case .result(_, .ok(.pong)) = messages[3] else { return XCTFail("an id at the limit is served: \(messages[3])") }
        guard case .result("after", .ok(.pong)) = messages[4] else { return XCTFail("the agent stopped serving: \(messages[4])") }
    }

    /// An orphaned agent (its controller killed while it waited for the claim of the same run) must
    /// not act when the earlier agent lets go: its input has ended, so it gives up and changes nothing.
    func testAnAgentWaitingForTheClaimWhoseInputEndsNeverRunsTheStep() throws {
        let root = NSTemporaryDirectory() + "osfarm-orphan-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let environment = HostEnvironment(root: root, localAddress: "127.0.0.1")
        let claim = environment.localPath(#"C:\ProgramData\osfarm\claim.json"#)
        try FileManager.default.createDirectory(atPath: (claim as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        // Run A's agent (a live process: this test's parent) holds the claim and lets go 0.6 s later.
        let holder = #"{"runID":"run-1","controller":"ops@jump-a","processID":\#(getppid()),"since":"2026-12-05T08:00:00Z"}"#
        try holder.write(toFile: claim, atomically: true, encoding: .utf8)
        let letGo = DispatchWorkItem { try? FileManager.default.removeItem(atPath: claim) }
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.6, execute: letGo)

        let context = RequestContext(runID: "run-1", step: "rollback:stop-iis", controller: "ops@jump-b", waitSeconds: 30)
        let request = Request(id: "1", operation: .stopIIS(ServiceControlArguments(serviceTimeoutSeconds: 60)), context: context)
        var chunks = [try line(request)]  // then end of input: the controller is gone
        var ran = false
        var output: [UInt8] = []
        let facts = self.facts
        let loop = RequestLoop(
            hello: { Hello(host: facts) },
            perform: { _, _ in
                ran = true
                return .ok(.pong(Pong(agentTimeMilliseconds: 0)))
            },
            readChunk: { chunks.isEmpty ? nil : chunks.removeFirst() }, writeLine: { output += $0 }, log: AgentLog(write: { _ in }),
            changes: ChangeGuard(environment: environment, processID: 999_999))
        try loop.run()
        letGo.wait()
        Thread.sleep(forTimeInterval: 0.3)
        XCTAssertFalse(ran, "the orphaned agent ran the step")
        var framer = LineFramer()
        let messages = try framer.feed(output).map {
            guard case let .line(bytes) = $0 else { throw WireError.oversizeLine(byteCount: 0) }
            return try WireCodec.decodeAgentMessage(bytes)
        }
        guard case let .result("1", .failure(error))? = messages.last else { return XCTFail("\(messages)") }
        XCTAssertTrue(error.message.hasPrefix("the session ended while this agent waited for the claim of run run-1"), error.message)
        XCTAssertFalse(FileManager.default.fileExists(atPath: claim), "it holds no claim")
    }

    func testAnotherMajorVersionEndsTheSessionWithAClearError() throws {
        var input = Array(#"{"id":"v","op":"ping","v":2}"#.utf8) + [10]
        input += try line(Request(id: "never", operation: .ping(PingArguments())))
        let messages = try serve(input)
        XCTAssertEqual(messages.count, 2)
        guard case let .result("v", .failure(error)) = messages[1] else { return XCTFail("\(messages[1])") }
        XCTAssertEqual(error.code, .versionMismatch)
        XCTAssertTrue(error.message.contains("protocol 2.x"), error.message)
    }

    func testShutdownAnswersThenEnds() throws {
        let input = try line(Request(id: "s", operation: .shutdown)) + line(Request(id: "late", operation: .inspect))
        let messages = try serve(input)
        XCTAssertEqual(messages.last, .result(requestID: "s", .ok(.shutdown)))
        XCTAssertEqual(messages.count, 2)
    }

    func testPingHoldSendsProgressBeforeItsResult() throws {
        let messages = try serve(try line(Request(id: "h", operation: .ping(PingArguments(holdMilliseconds: 20)))))
        XCTAssertEqual(messages.count, 3)
        guard case .progress("h", _) = messages[1], case .result("h", .ok(.pong)) = messages[2] else { return XCTFail("\(messages)") }
    }

    func testAFinalLineWithoutNewlineIsStillServed() throws {
        let messages = try serve(Array(#"{"id":"z","op":"inspect","v":1}"#.utf8))
        XCTAssertEqual(messages.count, 2)
    }

    /// The loop with an operation performer of the test's own: the loop's framing, decoding and
    /// answering are what is under test here, not the server's operations.
    private func serve(_ input: [UInt8], perform: @escaping RequestLoop.Performer) throws -> [AgentMessage] {
        var output: [UInt8] = []
        var fed = false
        let facts = self.facts
        let loop = RequestLoop(
            hello: { Hello(host: facts) }, perform: perform,
            readChunk: {
                defer { fed = true }; return fed ? nil : input
            },
            writeLine: { output += $0 }, log: AgentLog(write: { _ in }))
        try loop.run()
        var framer = LineFramer()
        return try framer.feed(output).map {
            guard case let .line(bytes) = $0 else { throw WireError.oversizeLine(byteCount: 0) }
            return try WireCodec.decodeAgentMessage(bytes)
        }
    }

    func testAnAnswerOverTheLineLimitBecomesATypedErrorAndTheSessionGoesOn() throws {
        let input = try line(Request(id: "big", operation: .inspect)) + line(Request(id: "next", operation: .ping(PingArguments())))
        let huge = String(repeating: "x", count: WireCodec.maxLineBytes)
        let messages = try serve(input) { operation, progress in
            switch operation {
            case .inspect:
                progress(ProgressEvent(step: "inspect", message: huge))
                return .ok(.inspection(ServerInspection(host: self.facts, platformProblem: huge)))
            default:
                return .ok(.pong(Pong(agentTimeMilliseconds: 1)))
            }
        }
        XCTAssertEqual(messages.count, 4, "hello, the cut progress event, the error, the pong")
        guard case let .progress("big", event) = messages[1] else { return XCTFail("\(messages[1])") }
        XCTAssertLessThanOrEqual(event.message.utf8.count, RequestLoop.maxProgressMessageBytes + 3)
        guard case let .result("big", .failure(error)) = messages[2] else { return XCTFail("\(messages[2])") }
        XCTAssertEqual(error.code, .oversizeResult)
        XCTAssertTrue(error.message.hasPrefix("the answer to inspect would be "), error.message)
        XCTAssertTrue(error.message.hasSuffix("over the 1048576-byte line limit"), error.message)
        guard case .result("next", .ok(.pong)) = messages[3] else { return XCTFail("the session ended: \(messages[3])") }
    }

    func testAnOutOfRangeFieldNeverReachesTheOperation() throws {
        let input = Array(#"{"id":"t","op":"probe-tcp","v":1,"args":{"host":"db","port":1433,"timeoutSeconds":1e300}}"#.utf8) + [10]
        var performed: [AgentOperation] = []
        let messages = try serve(input) { operation, _ in
            performed.append(operation)
            return .failure(AgentError(.internalError, "must not run"))
        }
        XCTAssertEqual(performed, [])
        guard case let .result("t", .failure(error)) = messages[1] else { return XCTFail("\(messages)") }
        XCTAssertEqual(error.message, "arguments of \"probe-tcp\": timeoutSeconds must be 0.1…300 s, not 1e+300")
    }

    func testServerOperationsCheckTheRangesThemselves() {
        let operations = ServerOperations(facts: { HostFacts(hostname: "h", operatingSystem: "o", processID: 1) })
        let outcome = operations.perform(.waitForReadiness(ReadinessArguments(timeoutSeconds: .infinity))) { _ in }
        XCTAssertEqual(outcome, .failure(AgentError(.invalidArguments, "timeoutSeconds must be 0.1…7200 s, not inf")))
    }
}
