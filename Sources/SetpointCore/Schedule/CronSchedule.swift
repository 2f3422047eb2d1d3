/// A five-field cron schedule (`minute hour day-of-month month day-of-week`) or a shortcut (`@daily`), as the
/// manifest's `cron` format accepts it. Pure: the caller turns instants into wall-clock fields in the schedule's time
/// zone. Day-of-month and day-of-week combine as in Vixie cron: when both are restricted, either matching is enough.
public struct CronSchedule: Sendable, Hashable, CustomStringConvertible {
    public let text: String
    let minutes: Set<Int>
    let hours: Set<Int>
    let days: Set<Int>
    let months: Set<Int>
    /// 0 = Sunday … 6 = Saturday.
    let weekdays: Set<Int>
    let daysRestricted: Bool
    let weekdaysRestricted: Bool

    public var description: String { text }

    static let shortcuts: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *",
        "@hourly": "0 * * * *",
    ]
    static let weekdayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
    static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// Parses a schedule; nil when it is not one.
    public init?(_ text: String) {
        let expanded = Self.shortcuts[text] ?? text
        let fields = expanded.split(separator: " ").map { String($0).lowercased() }
        guard fields.count == 5,
            let minutes = Self.field(fields[0], 0...59, names: []),
            let hours = Self.field(fields[1], 0...23, names: []),
            let days = Self.field(fields[2], 1...31, names: []),
            let months = Self.field(fields[3], 1...12, names: Self.monthNames, firstName: 1),
            let weekdays = Self.field(fields[4], 0...7, names: Self.weekdayNames, firstName: 0)
        else { return nil }
        self.text = text
        self.minutes = minutes
        self.hours = hours
        self.days = days
        self.months = months
        self.weekdays = Set(weekdays.map { $0 % 7 })
        daysRestricted = !fields[2].hasPrefix("*")
        weekdaysRestricted = !fields[4].hasPrefix("*")
    }

    /// Whether the schedule fires at this wall-clock minute.
    public func matches(minute: Int, hour: Int, day: Int, month: Int, weekday: Int) -> Bool {
        guard minutes.contains(minute), hours.contains(hour), months.contains(month) else { return false }
        switch (daysRestricted, weekdaysRestricted) {
        case (true, true): return days.contains(day) || weekdays.contains(weekday)
        case (true, false): return days.contains(day)
        case (false, true): return weekdays.contains(weekday)
        case (false, false): return true
        }
    }

    /// Whether it fires in every hour (`*/15 * * * *`): such schedules follow real time across daylight-saving changes,
    /// as cronie runs them, rather than the wall clock.
    public var everyHour: Bool { hours.count == 24 }

    /// Whether any minute of this hour can match (lets a search skip whole hours).
    public func mayMatch(hour: Int, day: Int, month: Int, weekday: Int) -> Bool {
        matches(minute: minutes.min() ?? 0, hour: hour, day: day, month: month, weekday: weekday)
    }

    static func field(_ text: String, _ range: ClosedRange<Int>, names: [String], firstName: Int = 0) -> Set<Int>? {
        var out = Set<Int>()
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            var step = 1
            if parts.count == 2 {
                guard let s = Int(parts[1]), s >= 1 else { return nil }
                step = s
            }
            let base = String(parts[0])
            var low = range.lowerBound
            var high = range.upperBound
            if base != "*" {
                let bounds = base.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
                guard bounds.count <= 2 else { return nil }
                func value(_ s: String) -> Int? {
                    if let n = Int(s) { return range.contains(n) ? n : nil }
                    if let i = names.firstIndex(of: s) { return i + firstName }
                    return nil
                }
                guard let l = value(bounds[0]) else { return nil }
                low = l
                if bounds.count == 2 {
                    guard let h = value(bounds[1]), h >= l else { return nil }
                    high = h
                } else if parts.count == 1 {
                    high = l
                }
            }
            out.formUnion(stride(from: low, through: high, by: step))
        }
        return out.isEmpty ? nil : out
    }
}
