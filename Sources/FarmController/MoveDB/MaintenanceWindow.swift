import Foundation

/// The maintenance window: nothing starts before `start`; at `end` nothing new starts.
public struct MaintenanceWindow: Codable, Sendable, Equatable, CustomStringConvertible {
    public var start: Date?
    public var end: Date?

    public init(start: Date?, end: Date?) {
        self.start = start
        self.end = end
    }

    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// `START/END` as ISO 8601 date-times (`2026-11-28T22:00:00Z/2026-11-29T02:00:00Z`) or local
    /// `HH:MM/HH:MM` (today, or the next occurrence; an END before START is the next day).
    public static func parse(_ text: String, now: Date = Date(), calendar: Calendar = .current) throws(Invalid) -> MaintenanceWindow {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 else { throw Invalid(description: "--window \"\(text)\": expected START/END") }
        if let start = isoDate(parts[0]), let end = isoDate(parts[1]) {
            guard end > start else { throw Invalid(description: "--window \"\(text)\": the end is not after the start") }
            return MaintenanceWindow(start: start, end: end)
        }
        // The window that is open now, else the next one: try the START of the last day first.
        guard let nextStart = try clock(parts[0], after: now, calendar: calendar, text: text),
            let previousStart = calendar.date(byAdding: .day, value: -1, to: nextStart)
        else {
            throw Invalid(description: "--window \"\(text)\": use ISO 8601 date-times or HH:MM/HH:MM")
        }
        for start in [previousStart, nextStart] {
            guard let end = try clock(parts[1], after: start.addingTimeInterval(60), calendar: calendar, text: text) else {
                throw Invalid(description: "--window \"\(text)\": use ISO 8601 date-times or HH:MM/HH:MM")
            }
            if end > now { return MaintenanceWindow(start: start, end: end) }
        }
        throw Invalid(description: "--window \"\(text)\": cannot place the window")
    }

    /// One end alone: an ISO 8601 date-time or HH:MM (the next one to come).
    public static func parseInstant(_ text: String, option: String, now: Date = Date(), calendar: Calendar = .current) throws(Invalid) -> Date {
        if let date = isoDate(text) { return date }
        guard let date = try clock(text, after: now, calendar: calendar, text: text) else {
            throw Invalid(description: "\(option) \"\(text)\": use an ISO 8601 date-time or HH:MM")
        }
        return date
    }

    private static func isoDate(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }

    /// The first HH:MM at or after `after`.
    private static func clock(_ text: String, after: Date, calendar: Calendar, text whole: String) throws(Invalid) -> Date? {
        let pieces = text.split(separator: ":")
        guard pieces.count == 2, let hour = Int(pieces[0]), let minute = Int(pieces[1]), pieces[1].count == 2 else { return nil }
        guard (0...23).contains(hour), (0...59).contains(minute) else { throw Invalid(description: "--window \"\(whole)\": \(text) is not a time of day") }
        return calendar.nextDate(
            after: after.addingTimeInterval(-1), matching: DateComponents(hour: hour, minute: minute, second: 0),
            matchingPolicy: .nextTime)
    }

    /// What a resume of a run the window stopped needs: a new window, or none.
    public static let resumeOptions = "--window START/END (or --deadline TIME, or --no-window)"

    /// Whether a stop reason is the window's (its end, or too little of it left).
    static func isWindowReason(_ reason: String) -> Bool { reason.contains("maintenance window") }

    /// Seconds left before the end (nil: no end).
    public func remaining(at now: Date = Date()) -> Double? { end.map { $0.timeIntervalSince(now) } }

    public func hasEnded(at now: Date = Date()) -> Bool { end.map { now >= $0 } ?? false }

    public var description: String {
        let formatter = ISO8601DateFormatter()
        return "\(start.map(formatter.string) ?? "now")/\(end.map(formatter.string) ?? "open")"
    }
}
