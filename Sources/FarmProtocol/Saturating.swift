/// Conversions from a Double that cannot trap: NaN and out-of-range values saturate instead of
/// crashing the process (`Int(1e300)` and `Int32(.nan)` trap). Values from outside are range-checked
/// where they enter (`Bounds`); these keep the arithmetic after that safe whatever happens.
public enum Saturating {
    /// `seconds` as milliseconds in an Int32 (poll and WSAPoll take those), at least `minimum`.
    public static func milliseconds32(_ seconds: Double, minimum: Int32 = 0) -> Int32 {
        let milliseconds = seconds * 1000
        guard !milliseconds.isNaN else { return minimum }
        if milliseconds >= Double(Int32.max) { return Int32.max }
        return max(minimum, Int32(max(Double(Int32.min), milliseconds.rounded(.up))))
    }

    /// `value` as an Int, rounded toward zero; NaN is 0, beyond the range the nearest end.
    public static func int(_ value: Double) -> Int {
        guard !value.isNaN else { return 0 }
        if value >= Double(Int.max) { return Int.max }
        if value <= Double(Int.min) { return Int.min }
        return Int(value)
    }

    /// Seconds for a message: "1800", "0.5", "1e+300"; never a trap.
    public static func seconds(_ value: Double) -> String {
        guard value.isFinite, abs(value) < 1e15 else { return "\(value)" }
        if value == value.rounded() { return String(Int(value)) }
        return String((value * 10).rounded() / 10)
    }
}
