import FarmProtocol
import Foundation
import XCTest

/// The logs' and the journal's times, made by arithmetic, read as Foundation's ISO 8601 formatter
/// writes them, and written back unchanged once read.
final class UTCTimestampTests: XCTestCase {
    func testAgreesWithFoundationsISO8601Formatter() {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(secondsFromGMT: 0)
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var values: [Double] = [0, 1_795_000_000.123, 1_795_000_000.9996, 951_782_400.5, 4_102_444_799.001, 1_800_000_000.0004, -0.5, -86_400.25]
        // A spread of days from 1601 to 2399 (ICU switches to the Julian calendar before 1582), and
        // the days around leap days and century years.
        for day in stride(from: -134_000, through: 156_000, by: 997) { values.append(Double(day) * 86_400 + Double(day % 86_400 + 86_400) * 0.731) }
        for year in [1900, 2000, 2024, 2100] {
            let leap = formatter.date(from: "\(year)-02-28T23:59:59.999Z")!.timeIntervalSince1970
            values += [leap, leap + 0.001, leap + 86_400, leap + 86_400 * 2]
        }
        for value in values {
            let date = Date(timeIntervalSince1970: value)
            XCTAssertEqual(UTCTimestamp.milliseconds(date), formatter.string(from: date), "\(value)")
        }
        XCTAssertEqual(UTCTimestamp.milliseconds(Date(timeIntervalSince1970: 1_795_000_000.123)), "2026-11-18T11:06:40.123Z")
        XCTAssertEqual(UTCTimestamp.milliseconds(Date(timeIntervalSince1970: 1_795_000_059.9996)), "2026-11-18T11:07:40.000Z")
    }

    /// `Date.ISO8601FormatStyle` truncates: .002 read back is 0.00199…, which it writes as .001.
    func testATimeReadBackIsWrittenTheSame() throws {
        let parser = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        for millisecond in 0..<1000 {
            let text = "2026-12-06T02:48:55." + String(repeating: "0", count: 3 - String(millisecond).count) + "\(millisecond)Z"
            XCTAssertEqual(UTCTimestamp.milliseconds(try parser.parse(text)), text)
        }
    }
}
