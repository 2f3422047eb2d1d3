import Foundation
import SetpointCore

/// Cron schedules on the wall clock of a time zone: when a schedule next fires, and the longest it ever waits.
struct ScheduleCalendar: Sendable {
    let calendar: Calendar

    init?(timeZone identifier: String) {
        guard let zone = TimeZone(identifier: identifier) else { return nil }
        var c = Calendar(identifier: .gregorian)
        c.timeZone = zone
        calendar = c
    }

    /// The first minute strictly after `date` at which `schedule` fires (nil when none within ~5 years: `0 0 30 2 *`).
    func next(_ schedule: CronSchedule, after date: Date) -> Date? {
        var t = Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 60).rounded(.down) * 60 + 60)
        let limit = date.addingTimeInterval(5 * 366 * 86_400)
        while t < limit {
            let c = calendar.dateComponents([.minute, .hour, .day, .month, .weekday], from: t)
            let (minute, hour, day, month, weekday) = (c.minute!, c.hour!, c.day!, c.month!, c.weekday! - 1)
            if !schedule.mayMatch(hour: hour, day: day, month: month, weekday: weekday) {
                t = t.addingTimeInterval(Double(60 - minute) * 60)  // the next hour
                continue
            }
            if schedule.matches(minute: minute, hour: hour, day: day, month: month, weekday: weekday) { return t }
            t = t.addingTimeInterval(60)
        }
        return nil
    }

    /// The longest time between two runs of any of `schedules` in the `horizon` after `date` (the horizon itself
    /// when they run less than twice in it).
    func longestGap(_ schedules: [CronSchedule], from date: Date, horizon: TimeInterval = 62 * 86_400) -> TimeInterval {
        var previous: Date?
        var longest: TimeInterval = 0
        var runs = 0
        var t = date
        let end = date.addingTimeInterval(horizon)
        while t < end {
            guard let n = schedules.compactMap({ next($0, after: t) }).min(), n < end else { break }
            if let p = previous { longest = max(longest, n.timeIntervalSince(p)) }
            previous = n
            runs += 1
            t = n
        }
        return runs < 2 ? horizon : longest
    }
}

