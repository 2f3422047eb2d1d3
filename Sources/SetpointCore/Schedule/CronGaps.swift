/// How far apart a set of cron schedules fire, on a UTC calendar (plan-time checks need no time zone: a zone moves
/// runs, it does not space them differently, DST's hour aside).
extension CronSchedule {
    /// Civil date of a day number (days since 1970-01-01), Howard Hinnant's algorithm.
    static func civil(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// The longest gap, in minutes, between consecutive runs of any of `schedules` within `horizonDays` from
    /// `startDay` (days since 1970-01-01); nil when they run less than twice in it.
    public static func longestGapMinutes(_ schedules: [CronSchedule], startDay: Int, horizonDays: Int = 62) -> Int? {
        var previous: Int?
        var longest = 0
        for dayOffset in 0..<horizonDays {
            let dayNumber = startDay + dayOffset
            let (_, month, day) = civil(dayNumber)
            let weekday = ((dayNumber % 7) + 11) % 7  // 1970-01-01 was a Thursday (4)
            for hour in 0..<24 {
                let candidates = schedules.filter { $0.mayMatch(hour: hour, day: day, month: month, weekday: weekday) }
                guard !candidates.isEmpty else { continue }
                for minute in 0..<60
                where candidates.contains(where: {
                    $0.matches(minute: minute, hour: hour, day: day, month: month, weekday: weekday)
                }) {
                    let t = (dayNumber * 24 + hour) * 60 + minute
                    if let p = previous { longest = max(longest, t - p) }
                    previous = t
                }
            }
        }
        return longest > 0 ? longest : nil
    }
}
