import Foundation

/// `2026-11-27T17:01:54.123Z`: ISO 8601 in UTC, to the nearest millisecond, as osfarm writes its
/// logs and journal. Made by arithmetic alone: `ISO8601DateFormatter` opens an ICU calendar and
/// formatter on every call (a sixth of a short agent session's CPU went there), and Foundation's
/// `Date.ISO8601FormatStyle` truncates, so a time it reads back (.002 is 0.00199… as a Double)
/// would be written a millisecond earlier. No C calendar call either: the agent builds on Windows.
public enum UTCTimestamp {
    public static func milliseconds(_ date: Date) -> String {
        let total = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let seconds = total >= 0 ? total / 1000 : (total - 999) / 1000
        let millisecond = Int(total - seconds * 1000)
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let ofDay = Int(seconds - days * 86_400)
        let (year, month, day) = civil(daysSince1970: days)
        var text = ""
        text.reserveCapacity(24)
        func append(_ value: Int64, _ width: Int) {
            let digits = String(value)
            if digits.count < width { text += String(repeating: "0", count: width - digits.count) }
            text += digits
        }
        append(year, 4)
        text += "-"
        append(Int64(month), 2)
        text += "-"
        append(Int64(day), 2)
        text += "T"
        append(Int64(ofDay / 3600), 2)
        text += ":"
        append(Int64(ofDay / 60 % 60), 2)
        text += ":"
        append(Int64(ofDay % 60), 2)
        text += "."
        append(Int64(millisecond), 3)
        text += "Z"
        return text
    }

    /// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard Hinnant's
    /// `civil_from_days`: eras of 400 years, years starting in March so the leap day comes last).
    static func civil(daysSince1970 days: Int64) -> (year: Int64, month: Int, day: Int) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * monthIndex + 2) / 5 + 1)
        let month = Int(monthIndex < 10 ? monthIndex + 3 : monthIndex - 9)
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
