import Foundation
import SetpointCore

/// Cron schedules on the wall clock of a time zone: when a schedule next fires, and the longest it ever waits.
///
/// Daylight-saving changes go the way cronie handles them: a wall-clock time that occurs twice (the hour repeated
/// when clocks go back) fires once, at its first occurrence; one that never occurs (the hour skipped when clocks go
/// forward) fires at the jump, so a nightly backup at 02:30 is neither doubled nor lost. A schedule that fires every
/// hour (`*/15 * * * *`) follows real time instead: it fires through the repeated hour and not in the skipped one.
struct ScheduleCalendar: Sendable {
    let zone: TimeZone
    /// Reads wall-clock seconds (local time counted as if it were UTC) into fields.
    let wall: Calendar

    init?(timeZone identifier: String) {
        guard let zone = TimeZone(identifier: identifier) else { return nil }
        self.zone = zone
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(secondsFromGMT: 0)!
        wall = c
    }

    /// The first minute strictly after `date` at which `schedule` fires (nil when none within ~5 years: `0 0 30 2 *`).
    func next(_ schedule: CronSchedule, after date: Date) -> Date? {
        schedule.everyHour ? nextInTime(schedule, after: date) : nextOnWallClock(schedule, after: date)
    }

    private func nextOnWallClock(_ schedule: CronSchedule, after date: Date) -> Date? {
        let start = date.timeIntervalSince1970 + offset(date.timeIntervalSince1970)
        // Wall-clock minutes in order map to instants in order (a repeated minute to its first occurrence, a skipped
        // one to the jump), so the first match whose instant is after `date` is the next firing.
        var w = (start / 60).rounded(.down) * 60 + 60
        let limit = w + 5 * 366 * 86_400
        while w < limit {
            let c = wall.dateComponents([.minute, .hour, .day, .month, .weekday], from: Date(timeIntervalSince1970: w))
            let (minute, hour, day, month, weekday) = (c.minute!, c.hour!, c.day!, c.month!, c.weekday! - 1)
            if !schedule.mayMatch(hour: hour, day: day, month: month, weekday: weekday) {
                w += Double(60 - minute) * 60  // the next hour
                continue
            }
            if schedule.matches(minute: minute, hour: hour, day: day, month: month, weekday: weekday),
                let t = instant(wall: w), t > date
            {
                return t
            }
            w += 60
        }
        return nil
    }

    private func nextInTime(_ schedule: CronSchedule, after date: Date) -> Date? {
        var t = (date.timeIntervalSince1970 / 60).rounded(.down) * 60 + 60
        let limit = t + 5 * 366 * 86_400
        while t < limit {
            let c = wall.dateComponents(
                [.minute, .hour, .day, .month, .weekday],
                from: Date(timeIntervalSince1970: t + offset(t))
            )
            let (minute, hour, day, month, weekday) = (c.minute!, c.hour!, c.day!, c.month!, c.weekday! - 1)
            if !schedule.mayMatch(hour: hour, day: day, month: month, weekday: weekday) {
                t += Double(60 - minute) * 60  // the next hour
                continue
            }
            if schedule.matches(minute: minute, hour: hour, day: day, month: month, weekday: weekday) {
                return Date(timeIntervalSince1970: t)
            }
            t += 60
        }
        return nil
    }

    private func offset(_ t: TimeInterval) -> TimeInterval {
        Double(zone.secondsFromGMT(for: Date(timeIntervalSince1970: t)))
    }

    /// When a wall-clock time happens: its first occurrence when it happens twice, the jump when it is skipped.
    func instant(wall w: TimeInterval) -> Date? {
        // Offsets change at most a few times a year: the ones 18 hours either side are the only candidates.
        let before = offset(w - 18 * 3600)
        let after = offset(w + 18 * 3600)
        if let first = Set([before, after]).map({ w - $0 }).filter({ offset($0) == w - $0 }).min() {
            return Date(timeIntervalSince1970: first)
        }
        // Skipped: the jump lies between the instant read with the later offset and the one read with the earlier.
        var (lo, hi) = (w - after, w - before)
        guard lo < hi else { return nil }
        for _ in 0..<40 where hi - lo > 60 {
            let mid = ((lo + hi) / 120).rounded(.down) * 60
            if offset(mid) == after { hi = mid } else { lo = mid }
        }
        return Date(timeIntervalSince1970: hi)
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
