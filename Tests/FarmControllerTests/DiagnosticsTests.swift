import FarmController
import Foundation
import XCTest

/// debug.log's timestamps, formatted by hand, read as Foundation's ISO 8601 formatter writes them.
final class DiagnosticsTests: XCTestCase {
    func testTimestampsAreISO8601UTCWithMilliseconds() {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(secondsFromGMT: 0)
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for value: Double in [0, 1_795_000_000.123, 1_795_000_000.9996, 951_782_400.5, 4_102_444_799.001, 1_800_000_000.0004] {
            let date = Date(timeIntervalSince1970: value)
            XCTAssertEqual(Diagnostics.timestamp(date), formatter.string(from: date), "\(value)")
        }
        XCTAssertEqual(Diagnostics.timestamp(Date(timeIntervalSince1970: 1_795_000_000.123)), "2026-11-18T11:06:40.123Z")
        XCTAssertEqual(Diagnostics.timestamp(Date(timeIntervalSince1970: 1_795_000_059.9996)), "2026-11-18T11:07:40.000Z")
    }
}
