import FarmProtocol
import Foundation
import XCTest

final class WireFormatTests: XCTestCase {
    private func fixtures(prefix: String) throws -> [(name: String, bytes: [UInt8])] {
        let folder = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasPrefix(prefix) && $0.hasSuffix(".json") }
            .sorted()
        XCTAssertFalse(names.isEmpty, "no \(prefix) fixtures found")
        return try names.map { ($0, Array(try Data(contentsOf: folder.appendingPathComponent($0)))) }
    }

    func testRequestFixturesRoundTripByteForByte() throws {
        for (name, bytes) in try fixtures(prefix: "request-") {
            let line = Array(bytes.dropLast())  // the newline
            let request = try WireCodec.decodeRequest(line)
            XCTAssertEqual(try WireCodec.encode(request), bytes, name)
        }
    }

    func testAgentMessageFixturesRoundTripByteForByte() throws {
        for (name, bytes) in try fixtures(prefix: "agent-") {
            let message = try WireCodec.decodeAgentMessage(Array(bytes.dropLast()))
            XCTAssertEqual(try WireCodec.encode(message), bytes, name)
        }
    }

    func testFixturesDecodeToTheExpectedValues() throws {
        let all = Dictionary(uniqueKeysWithValues: try fixtures(prefix: "").map { ($0.name, Array($0.bytes.dropLast())) })
        XCTAssertEqual(try WireCodec.decodeRequest(all["request-ping-hold.json"]!), Request(id: "2", operation: .ping(PingArguments(holdMilliseconds: 250))))
        guard case let .hello(hello) = try WireCodec.decodeAgentMessage(all["agent-hello.json"]!) else { return XCTFail("not hello") }
        XCTAssertEqual(hello.protocolVersion, ProtocolVersion(major: 1, minor: 0))
        XCTAssertEqual(hello.host.hostname, "OSDC01")
        XCTAssertEqual(
            try WireCodec.decodeAgentMessage(all["agent-result-error-without-id.json"]!),
            .result(requestID: nil, .failure(AgentError(.malformedRequest, "the request line is not valid JSON"))))
    }

    func testUnknownMessageTypeIsAClearError() {
        XCTAssertThrowsError(try WireCodec.decodeAgentMessage(Array(#"{"type":"gossip"}"#.utf8))) { error in
            XCTAssertTrue("\(error)".contains("unknown message type \"gossip\""), "\(error)")
        }
    }

    func testOversizeLinesAreRefusedOnEncodeAndDecode() {
        let huge = Request(id: String(repeating: "x", count: WireCodec.maxLineBytes), operation: .inspect)
        XCTAssertThrowsError(try WireCodec.encode(huge))
        XCTAssertThrowsError(try WireCodec.decodeAgentMessage([UInt8](repeating: UInt8(ascii: " "), count: WireCodec.maxLineBytes + 1))) {
            XCTAssertEqual($0 as? WireError, .oversizeLine(byteCount: WireCodec.maxLineBytes + 1))
        }
    }

    func testRequestRejectionsCarryTheIdWhenTheyCan() {
        func rejection(_ text: String) -> RequestRejection? {
            do {
                _ = try WireCodec.decodeRequest(Array(text.utf8))
                return nil
            } catch {
                return error
            }
        }
        XCTAssertEqual(rejection("not json")?.error.code, .malformedRequest)
        XCTAssertNil(rejection("not json")?.requestID)
        XCTAssertEqual(rejection("[1,2]")?.error.code, .malformedRequest)
        XCTAssertEqual(
            rejection(#"{"id":"9","op":"reboot","v":1}"#),
            RequestRejection(requestID: "9", error: AgentError(.unknownOperation, "unknown operation \"reboot\"")))
        XCTAssertEqual(rejection(#"{"id":"9","op":"ping","v":2}"#)?.error.code, .versionMismatch)
        XCTAssertEqual(rejection(#"{"id":"9","op":"ping","v":1,"args":{"holdMilliseconds":"soon"}}"#)?.error.code, .invalidArguments)
        XCTAssertEqual(rejection(#"{"id":"9","op":"ping","v":1,"args":[1]}"#)?.error.code, .invalidArguments)
        XCTAssertEqual(rejection(#"{"op":"ping","v":1}"#)?.error.code, .malformedRequest)
    }
}
