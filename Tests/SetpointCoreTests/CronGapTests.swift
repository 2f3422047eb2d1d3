import Testing

@testable import SetpointCore

/// The longest gap between runs of cron schedules, against a minute-by-minute walk of the same calendar.
@Suite(.timeLimit(.minutes(1))) struct CronGapTests {
    /// Every minute of every day, asking each schedule whether it fires then.
    static func reference(_ schedules: [CronSchedule], startDay: Int, horizonDays: Int) -> Int? {
        var previous: Int?
        var longest = 0
        for dayNumber in startDay..<(startDay + horizonDays) {
            let (_, month, day) = CronSchedule.civil(dayNumber)
            let weekday = ((dayNumber % 7) + 11) % 7
            for minute in 0..<1440
            where schedules.contains(where: {
                $0.matches(minute: minute % 60, hour: minute / 60, day: day, month: month, weekday: weekday)
            }) {
                let t = dayNumber * 1440 + minute
                if let p = previous { longest = max(longest, t - p) }
                previous = t
            }
        }
        return longest > 0 ? longest : nil
    }

    @Test(arguments: [
        ["0 1 * * 0"], ["30 2 * * *"], ["*/15 * * * *"], ["0 3 1 * *"], ["0 4 * * 1-5"], ["0 0 29 2 *"],
        ["0 1 * * 0", "0 13 * * 3"], ["5,35 */6 1,15 * mon"], ["0 1 * * 0", "0 1 * * 0"], ["@daily", "@hourly"],
        ["0 0 31 * *"], ["0 12 * jan,jul sun"],
    ])
    func matchesAMinuteByMinuteWalk(_ texts: [String]) throws {
        let schedules = try texts.map { try #require(CronSchedule($0)) }
        for start in [20_454, 20_000] {
            #expect(
                CronSchedule.longestGapMinutes(schedules, startDay: start, horizonDays: 400)
                    == Self.reference(schedules, startDay: start, horizonDays: 400),
                "\(texts) from day \(start)"
            )
        }
    }

    @Test func aWeeklyFullLeavesAWeekAndAYearlyOneMoreThanTheHorizon() throws {
        #expect(CronSchedule.longestGapMinutes([try #require(CronSchedule("0 1 * * 0"))], startDay: 20_454) == 7 * 1440)
        #expect(
            CronSchedule.longestGapMinutes([try #require(CronSchedule("0 0 1 1 *"))], startDay: 20_454, horizonDays: 62)
                == nil,
            "fewer than two runs in the horizon"
        )
    }
}
