import Foundation
import SetpointController
import SetpointCore
import SetpointState
import Testing

/// When scheduled runs are due: the anacron rule (a missed run runs once), what counts as a success, retry delays.
@Suite(.timeLimit(.minutes(2))) struct BackupDueTests {
    static let t0 = Date(timeIntervalSince1970: 1_796_000_000)  // 2026-11-29T…Z

    /// A schedule firing every `period` seconds, on multiples of it (a stand-in for a cron calendar).
    static func every(_ kind: BackupRun.Kind, _ period: TimeInterval) -> BackupSchedule {
        BackupSchedule(kind: kind, cron: "every \(Int(period)) s", timeZone: "UTC") { d in
            Date(timeIntervalSince1970: ((d.timeIntervalSince1970 / period).rounded(.down) + 1) * period)
        }
    }

    static func run(
        _ kind: BackupRun.Kind,
        finished: Date,
        _ outcome: BackupRun.Outcome = .succeeded,
        policy: String = "p"
    ) -> BackupRun {
        let f = ISO8601DateFormatter()
        return BackupRun(
            id: "\(policy):\(kind):\(finished.timeIntervalSince1970)",
            policy: policy,
            kind: kind,
            startedAt: f.string(from: finished),
            finishedAt: f.string(from: finished),
            seconds: 1,
            outcome: outcome,
            trigger: "test"
        )
    }

    static let day: TimeInterval = 86_400
    static let hour: TimeInterval = 3600

    @Test func aPolicyWithoutAnyFullBackupGetsOneAtOnce() {
        let due = BackupDue.next(
            schedules: [Self.every(.full, Self.day), Self.every(.incr, Self.hour)],
            runs: [],
            newestInRepository: [:],
            firstSeen: Self.t0,
            failures: [:],
            now: Self.t0
        )
        #expect(due?.kind == .full)
        #expect(due?.fired == 0)
        #expect(due?.reason == "no full backup exists yet")
        // A full the repository holds (made by hand, or before Setpoint) counts: nothing is due before the schedules fire.
        let held = BackupDue.next(
            schedules: [Self.every(.full, Self.day)],
            runs: [],
            newestInRepository: [.full: Self.t0],
            firstSeen: Self.t0,
            failures: [:],
            now: Self.t0.addingTimeInterval(60)
        )
        #expect(held == nil)
    }

    @Test func runsMissedWhileNoControllerLedRunOnceStandingForTheLatestSlot() throws {
        let lastFull = Self.t0.addingTimeInterval(-3 * Self.day - 60)
        let schedules = [Self.every(.full, Self.day)]
        let due = try #require(
            BackupDue.next(
                schedules: schedules,
                runs: [Self.run(.full, finished: lastFull)],
                newestInRepository: [:],
                firstSeen: Self.t0,
                failures: [:],
                now: Self.t0
            )
        )
        #expect(due.kind == .full)
        #expect(due.fired == 3, "\(due.reason)")
        #expect(due.slot <= Self.t0 && due.slot > Self.t0.addingTimeInterval(-Self.day), "the latest slot: \(due.slot)")
        #expect(due.reason.contains("fired 3 times since the last success"), "\(due.reason)")
        // Once it ran, nothing is due until the schedule fires again.
        let after = Self.t0.addingTimeInterval(120)
        let runs = [Self.run(.full, finished: after), Self.run(.full, finished: lastFull)]
        #expect(
            BackupDue.next(
                schedules: schedules,
                runs: runs,
                newestInRepository: [:],
                firstSeen: Self.t0,
                failures: [:],
                now: after.addingTimeInterval(60)
            ) == nil
        )
    }

    @Test func aFullCountsForDiffAndIncrAndRunsFirstWhenSeveralAreDue() throws {
        let schedules = [Self.every(.incr, Self.hour), Self.every(.diff, 6 * Self.hour), Self.every(.full, Self.day)]
        let base = Self.t0.addingTimeInterval(-2 * Self.day)
        // Everything overdue: the full goes first.
        let due = try #require(
            BackupDue.next(
                schedules: schedules,
                runs: [Self.run(.full, finished: base)],
                newestInRepository: [:],
                firstSeen: base,
                failures: [:],
                now: Self.t0
            )
        )
        #expect(due.kind == .full)
        // A full just made satisfies the incr and diff slots before it.
        let fresh = [Self.run(.full, finished: Self.t0)]
        #expect(
            BackupDue.next(
                schedules: schedules,
                runs: fresh,
                newestInRepository: [:],
                firstSeen: base,
                failures: [:],
                now: Self.t0.addingTimeInterval(10)
            ) == nil
        )
        // An hour on, only the incr is due.
        let later = try #require(
            BackupDue.next(
                schedules: schedules,
                runs: fresh,
                newestInRepository: [:],
                firstSeen: base,
                failures: [:],
                now: Self.t0.addingTimeInterval(Self.hour + 10)
            )
        )
        #expect(later.kind == .incr && later.fired == 1)
        // A failed incr does not count: the incr stays due.
        let failed = fresh + [Self.run(.incr, finished: Self.t0.addingTimeInterval(Self.hour + 20), .failed)]
        #expect(
            BackupDue.next(
                schedules: schedules,
                runs: failed,
                newestInRepository: [:],
                firstSeen: base,
                failures: [:],
                now: Self.t0.addingTimeInterval(Self.hour + 30)
            )?.kind == .incr
        )
    }

    @Test func aFailedRunIsRetriedAfterADelayThatDoublesUpToAnHour() {
        #expect(BackupDue.retryDelay(1) == 300)
        #expect(BackupDue.retryDelay(2) == 600)
        #expect(BackupDue.retryDelay(4) == 2400)
        #expect(BackupDue.retryDelay(9) == 3600)
        let schedules = [Self.every(.full, Self.day)]
        let failures = [BackupRun.Kind.full: BackupDue.Failures(count: 1, last: Self.t0)]
        #expect(
            BackupDue.next(
                schedules: schedules,
                runs: [],
                newestInRepository: [:],
                firstSeen: Self.t0,
                failures: failures,
                now: Self.t0.addingTimeInterval(240)
            ) == nil,
            "within the delay"
        )
        #expect(
            BackupDue.next(
                schedules: schedules,
                runs: [],
                newestInRepository: [:],
                firstSeen: Self.t0,
                failures: failures,
                now: Self.t0.addingTimeInterval(301)
            )?.kind == .full,
            "after it"
        )
    }

    @Test func aDrillCountsWhenItFinishedEvenFailedAndKindsWithoutHistoryWaitForTheirSchedule() {
        let schedules = [Self.every(.drill, Self.day), Self.every(.logical, Self.day)]
        let repo: [BackupRun.Kind: Date] = [.full: Self.t0]
        let seen = Self.t0.addingTimeInterval(-10)
        #expect(
            BackupDue.next(
                schedules: schedules,
                runs: [],
                newestInRepository: repo,
                firstSeen: seen,
                failures: [:],
                now: Self.t0
            ) == nil,
            "nothing is due until the schedules fire after the policy was first seen"
        )
        let nextDay = Self.t0.addingTimeInterval(Self.day)
        let due = BackupDue.next(
            schedules: schedules,
            runs: [],
            newestInRepository: repo,
            firstSeen: seen,
            failures: [:],
            now: nextDay
        )
        #expect(due?.kind == .logical, "a dump goes before a drill")
        let done = [Self.run(.logical, finished: nextDay), Self.run(.drill, finished: nextDay, .failed)]
        #expect(
            BackupDue.next(
                schedules: schedules,
                runs: done,
                newestInRepository: repo,
                firstSeen: seen,
                failures: [:],
                now: nextDay.addingTimeInterval(60)
            ) == nil,
            "a failed drill is a finding, not retried at once"
        )
    }

    @Test func upcomingRunsAreTheNextSlotAfterTheLastSuccess() {
        let schedules = [Self.every(.full, Self.day), Self.every(.incr, Self.hour)]
        let last = Self.t0
        let next = BackupDue.upcoming(
            schedules: schedules,
            runs: [Self.run(.full, finished: last)],
            newestInRepository: [:],
            firstSeen: last
        )
        #expect(next[.full] == schedules[0].next(last))
        #expect(next[.incr] == schedules[1].next(last))
        #expect(
            BackupDue.upcoming(schedules: schedules, runs: [], newestInRepository: [:], firstSeen: last)[.full] == last,
            "no full: at once"
        )
    }
}
