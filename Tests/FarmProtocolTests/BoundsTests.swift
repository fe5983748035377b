import FarmProtocol
import Foundation
import XCTest

/// Every numeric request field has a documented range, checked when the request is decoded.
final class BoundsTests: XCTestCase {
    private func rejection(_ text: String) -> RequestRejection? {
        do {
            _ = try WireCodec.decodeRequest(Array(text.utf8))
            return nil
        } catch {
            return error
        }
    }

    /// One request line per numeric field, with the value given.
    private func lines(_ value: String) -> [(field: String, line: String)] {
        [
            ("holdMilliseconds", #"{"id":"1","op":"ping","v":1,"args":{"holdMilliseconds":VALUE}}"#),
            ("serviceTimeoutSeconds", #"{"id":"1","op":"stop-services","v":1,"args":{"serviceTimeoutSeconds":VALUE}}"#),
            ("serviceTimeoutSeconds", #"{"id":"1","op":"start-iis","v":1,"args":{"serviceTimeoutSeconds":VALUE}}"#),
            (
                "timeoutSeconds",
                #"{"id":"1","op":"run-configuration-tool","v":1,"args":{"mode":{"mode":"GenerateTemplates"},"installServiceCenter":false,"timeoutSeconds":VALUE,"machineConfigWaitSeconds":1}}"#
            ),
            (
                "machineConfigWaitSeconds",
                #"{"id":"1","op":"run-configuration-tool","v":1,"args":{"mode":{"mode":"GenerateTemplates"},"installServiceCenter":false,"timeoutSeconds":60,"machineConfigWaitSeconds":VALUE}}"#
            ),
            ("port", #"{"id":"1","op":"probe-tcp","v":1,"args":{"host":"db","port":VALUE,"timeoutSeconds":1}}"#),
            ("timeoutSeconds", #"{"id":"1","op":"probe-tcp","v":1,"args":{"host":"db","port":1433,"timeoutSeconds":VALUE}}"#),
            ("timeoutSeconds", #"{"id":"1","op":"wait-for-readiness","v":1,"args":{"timeoutSeconds":VALUE}}"#),
            ("size", #"{"id":"1","op":"begin-agent-update","v":1,"args":{"sha256":"00","size":VALUE}}"#),
            ("offset", #"{"id":"1","op":"agent-update-chunk","v":1,"args":{"offset":VALUE,"data":""}}"#),
            ("maxRuns", #"{"id":"1","op":"list-backups","v":1,"args":{"maxRuns":VALUE}}"#),
        ].map { ($0.0, $0.1.replacingOccurrences(of: "VALUE", with: value)) }
    }

    func testOutOfRangeNumbersAreInvalidArgumentsNamingFieldAndRange() {
        for value in ["-1", "1e300", "1e10", "99999999999999"] {
            for (field, line) in lines(value) {
                guard let rejection = rejection(line) else {
                    XCTFail("\(field) = \(value) was accepted: \(line)")
                    continue
                }
                XCTAssertEqual(rejection.requestID, "1", line)
                XCTAssertEqual(rejection.error.code, .invalidArguments, "\(line): \(rejection.error)")
                XCTAssertTrue(rejection.error.message.contains(field), "\(rejection.error.message) names \(field)")
                // Either the range was named, or the number did not even fit the field's type.
                XCTAssertTrue(
                    rejection.error.message.contains("…") || rejection.error.message.contains("wrong type")
                        || rejection.error.message.contains("bad value"), rejection.error.message)
            }
        }
    }

    func testTheMessageNamesTheRange() {
        let error = rejection(#"{"id":"7","op":"stop-services","v":1,"args":{"serviceTimeoutSeconds":1e300}}"#)?.error
        XCTAssertEqual(error?.message, "arguments of \"stop-services\": serviceTimeoutSeconds must be 0.1…3600 s, not 1e+300")
        let port = rejection(#"{"id":"7","op":"probe-tcp","v":1,"args":{"host":"db","port":70000,"timeoutSeconds":1}}"#)?.error
        XCTAssertEqual(port?.message, "arguments of \"probe-tcp\": port must be 1…65535, not 70000")
    }

    func testInRangeValuesAndTheEndsOfEachRangePass() throws {
        for (_, line) in lines("1") {
            XCTAssertNil(rejection(line), line)
        }
        let upper = try WireCodec.decodeRequest(Array(#"{"id":"1","op":"ping","v":1,"args":{"holdMilliseconds":60000}}"#.utf8))
        XCTAssertEqual(upper.operation, .ping(PingArguments(holdMilliseconds: 60_000)))
        XCTAssertNotNil(rejection(#"{"id":"1","op":"ping","v":1,"args":{"holdMilliseconds":60001}}"#))
        XCTAssertNil(rejection(#"{"id":"1","op":"stop-services","v":1,"args":{"serviceTimeoutSeconds":3600}}"#))
        XCTAssertNotNil(rejection(#"{"id":"1","op":"stop-services","v":1,"args":{"serviceTimeoutSeconds":3600.5}}"#))
    }

    func testNaNAndInfinitiesAreOutsideEveryBound() {
        for value in [Double.nan, .infinity, -.infinity] {
            XCTAssertFalse(Bounds.serviceTimeoutSeconds.contains(value))
            XCTAssertThrowsError(try AgentOperation.stopServices(ServiceControlArguments(serviceTimeoutSeconds: value)).checkBounds())
            XCTAssertThrowsError(try AgentOperation.probeTCP(TCPProbeArguments(host: "h", port: 1, timeoutSeconds: value)).checkBounds())
        }
        XCTAssertNotNil(Bounds.readinessTimeoutSeconds.problem(.nan))
    }

    func testSaturatingConversionsNeverTrap() {
        XCTAssertEqual(Saturating.milliseconds32(1e300), Int32.max)
        XCTAssertEqual(Saturating.milliseconds32(.nan, minimum: 1), 1)
        XCTAssertEqual(Saturating.milliseconds32(-.infinity, minimum: 1), 1)
        XCTAssertEqual(Saturating.milliseconds32(0.0004, minimum: 0), 1, "rounded up: a poll never ends before its deadline")
        XCTAssertEqual(Saturating.int(.nan), 0)
        XCTAssertEqual(Saturating.int(1e300), Int.max)
        XCTAssertEqual(Saturating.int(-1e300), Int.min)
        XCTAssertEqual(Saturating.seconds(1800), "1800")
        XCTAssertEqual(Saturating.seconds(0.25), "0.3")
        XCTAssertEqual(Saturating.seconds(1e300), "1e+300")
        XCTAssertEqual(Saturating.seconds(.nan), "nan")
    }
}
