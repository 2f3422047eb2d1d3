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
        // Each schedule's times of day (minutes since midnight), sorted once: a day that matches fires at all of them.
        let times = schedules.map { s in
            s.hours.sorted().flatMap { h in s.minutes.sorted().map { h * 60 + $0 } }
        }
        var previous: Int?
        var longest = 0
        var today: [Int] = []
        for dayOffset in 0..<horizonDays {
            let dayNumber = startDay + dayOffset
            let (_, month, day) = civil(dayNumber)
            let weekday = ((dayNumber % 7) + 11) % 7  // 1970-01-01 was a Thursday (4)
            today.removeAll(keepingCapacity: true)
            for (s, t) in zip(schedules, times) where s.firesOn(day: day, month: month, weekday: weekday) {
                today += t
            }
            if schedules.count > 1 { today.sort() }
            for minuteOfDay in today {
                let t = dayNumber * 1440 + minuteOfDay
                if let p = previous, t > p { longest = max(longest, t - p) }
                previous = t
            }
        }
        return longest > 0 ? longest : nil
    }

    /// Whether it fires on this day at all (at the hours and minutes it names).
    func firesOn(day: Int, month: Int, weekday: Int) -> Bool {
        guard months.contains(month) else { return false }
        switch (daysRestricted, weekdaysRestricted) {
        case (true, true): return days.contains(day) || weekdays.contains(weekday)
        case (true, false): return days.contains(day)
        case (false, true): return weekdays.contains(weekday)
        case (false, false): return true
        }
    }
}
