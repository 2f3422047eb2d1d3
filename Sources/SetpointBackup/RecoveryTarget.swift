import Foundation

/// A point in time to recover to, as an operator writes it (`2026-12-06T10:15:00Z`, `2026-12-06 10:15:00.25+01`,
/// `2026-12-06 10:15:00` meaning UTC) and as pgBackRest wants it (`YYYY-MM-DD HH:MM:SS.ffffff+00`: without a zone
/// pgBackRest would assume the machine's local time).
public struct RecoveryTarget: Sendable, Equatable, CustomStringConvertible {
    public var date: Date

    public init(date: Date) { self.date = date }

    public init?(_ text: String) {
        var t = text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: " ", with: "T")
        if t.hasSuffix("+00") || t.hasSuffix("-00") { t += ":00" }
        // A zone of "+HH" or "+HHMM" as PostgreSQL prints them.
        if let r = t.range(of: #"[+-]\d{2}$"#, options: .regularExpression) {
            t = t.replacingCharacters(in: r, with: t[r] + ":00")
        }
        if let r = t.range(of: #"[+-]\d{4}$"#, options: .regularExpression) {
            let z = t[r]
            t = t.replacingCharacters(in: r, with: z.prefix(3) + ":" + z.suffix(2))
        }
        let zoned = t.hasSuffix("Z") || t.range(of: #"[+-]\d{2}:\d{2}$"#, options: .regularExpression) != nil
        if !zoned { t += "Z" }
        // The fraction is read here: the formatter keeps milliseconds only, and PostgreSQL prints microseconds.
        var fraction = 0.0
        if let r = t.range(of: #"\.\d+"#, options: .regularExpression) {
            fraction = Double("0" + t[r]) ?? 0
            t.removeSubrange(r)
        }
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        guard let d = plain.date(from: t) else { return nil }
        date = d.addingTimeInterval(fraction)
    }

    /// pgBackRest's `--target`, in UTC with microseconds.
    public var pgBackRest: String {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: "UTC")!
        let p = c.dateComponents([.year, .month, .day, .hour, .minute, .second, .nanosecond], from: date)
        let micros = Int((Double(p.nanosecond ?? 0) / 1000).rounded()) % 1_000_000
        return String(
            format: "%04d-%02d-%02d %02d:%02d:%02d.%06d+00",
            p.year!,
            p.month!,
            p.day!,
            p.hour!,
            p.minute!,
            p.second!,
            micros
        )
    }

    public var description: String { pgBackRest }

    public static let help =
        "a time such as 2026-12-06T10:15:00Z or '2026-12-06 10:15:00.5+01' (UTC when no zone is given)"
}
