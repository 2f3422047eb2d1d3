import Foundation
import SetpointCore
import Testing

@testable import SetpointBackup

/// Cron schedules across daylight-saving changes (Europe/Berlin, 2026: clocks go forward on 29 March at 02:00 CET,
/// back on 25 October at 03:00 CEST), without a server.
@Suite(.timeLimit(.minutes(2))) struct ScheduleCalendarTests {
    let berlin = ScheduleCalendar(timeZone: "Europe/Berlin")!

    static func utc(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    func firings(_ cron: String, from: String, until: String) -> [Date] {
        let schedule = CronSchedule(cron)!
        var out: [Date] = []
        var t = Self.utc(from)
        while let n = berlin.next(schedule, after: t), n < Self.utc(until) {
            out.append(n)
            t = n
        }
        return out
    }

    @Test func aNightlyRunInTheRepeatedHourFiresOnce() {
        // 02:30 happens at 00:30Z (CEST) and again at 01:30Z (CET) on 25 October: one run, at the first.
        #expect(
            firings("30 2 * * *", from: "2026-10-24T12:00:00Z", until: "2026-10-26T12:00:00Z")
                == [Self.utc("2026-10-25T00:30:00Z"), Self.utc("2026-10-26T01:30:00Z")]
        )
        // Asked from inside the repeated hour, after the first 02:30 went by, it is the next day's.
        #expect(
            berlin.next(CronSchedule("30 2 * * *")!, after: Self.utc("2026-10-25T01:10:00Z"))
                == Self.utc("2026-10-26T01:30:00Z")
        )
    }

    @Test func aNightlyRunInTheSkippedHourFiresAtTheJump() {
        // 02:30 never happens on 29 March: the run goes at 03:00 CEST (01:00Z), and the next day at 02:30 CEST.
        #expect(
            firings("30 2 * * *", from: "2026-03-28T12:00:00Z", until: "2026-03-30T12:00:00Z")
                == [Self.utc("2026-03-29T01:00:00Z"), Self.utc("2026-03-30T00:30:00Z")]
        )
    }

    @Test func anHourlyScheduleFollowsRealTime() {
        // Every 30 minutes through the night clocks go back: five hours of real time hold ten runs, none twice at once.
        let back = firings("*/30 * * * *", from: "2026-10-24T23:59:00Z", until: "2026-10-25T04:59:00Z")
        #expect(back.count == 10 && Set(back).count == 10, "\(back)")
        // …and the night they go forward: no run in the hour that does not exist, every 30 minutes otherwise.
        let forward = firings("*/30 * * * *", from: "2026-03-28T23:59:00Z", until: "2026-03-29T02:59:00Z")
        #expect(
            forward == (0..<6).map { Self.utc("2026-03-29T00:00:00Z").addingTimeInterval(Double($0) * 1800) },
            "\(forward)"
        )
    }

    @Test func ordinaryDaysAndTheLongestGap() {
        #expect(
            firings("0 1 * * 0", from: "2026-06-01T00:00:00Z", until: "2026-06-15T00:00:00Z")
                == [Self.utc("2026-06-06T23:00:00Z"), Self.utc("2026-06-13T23:00:00Z")]
        )
        // A daily run at 02:30 is never more than 25 hours from the last one, even over the change.
        let gap = berlin.longestGap(
            [CronSchedule("30 2 * * *")!],
            from: Self.utc("2026-10-20T00:00:00Z"),
            horizon: 14 * 86_400
        )
        #expect(gap == 25 * 3600)
    }
}
