import Foundation
import SetpointCore
public import SetpointState

/// When a policy's scheduled runs are due. Pure: the scheduler passes what it knows.
///
/// Each kind is due at the first time its schedule fires after the kind's last success, so a run missed while no
/// controller led runs once when one leads again, however many times the schedule fired meanwhile (anacron's rule,
/// not cron's). A full backup also counts as a diff and an incr, a diff as an incr: pgBackRest builds each on the
/// newer. What counts as a success is what the state store recorded and what the repository itself holds (backups
/// made by hand, or before Setpoint). A drill counts when it finished, passed or failed: a failed drill is a finding,
/// not something to hammer. A policy without any full backup gets one at once: until then nothing can be restored.
public struct BackupDue: Sendable, Equatable {
    public var kind: BackupRun.Kind
    /// The latest time the schedule fired, which this run stands for (now, for a first full backup).
    public var slot: Date
    /// The schedule fired this many times since the last success (more than one: runs were missed and coalesce into
    /// this one). 0 for a first full backup.
    public var fired: Int
    /// Why it runs, for the log and the run's trigger.
    public var reason: String

    /// Consecutive failures of one kind, for the retry delay.
    public struct Failures: Sendable, Equatable {
        public var count: Int
        public var last: Date
        public init(count: Int, last: Date) {
            self.count = count
            self.last = last
        }
    }

    /// The retry delay after `count` consecutive failures: 5 min, doubling, at most an hour.
    public static func retryDelay(_ count: Int) -> TimeInterval { min(3600, 300 * pow(2, Double(max(0, count - 1)))) }

    /// The order runs go in when several are due at once (one at a time per policy).
    static let priority: [BackupRun.Kind] = [.full, .diff, .incr, .logical, .drill]

    /// The run to start now for one policy, if any.
    public static func next(
        schedules: [BackupSchedule],
        runs: [BackupRun],
        newestInRepository: [BackupRun.Kind: Date],
        firstSeen: Date,
        failures: [BackupRun.Kind: Failures],
        now: Date
    ) -> BackupDue? {
        let byKind = Dictionary(schedules.map { ($0.kind, $0) }, uniquingKeysWith: { a, _ in a })
        for kind in priority {
            guard let schedule = byKind[kind] else { continue }
            if let f = failures[kind], now < f.last.addingTimeInterval(retryDelay(f.count)) { continue }
            let last = lastCounted(kind, runs: runs, repository: newestInRepository)
            if kind == .full, last == nil {
                return BackupDue(kind: .full, slot: now, fired: 0, reason: "no full backup exists yet")
            }
            let anchor = last ?? firstSeen
            guard let first = schedule.next(anchor), first <= now else { continue }
            let (fired, latest) = timesFired(schedule, after: first, until: now)
            let since = last.map { "the last success (\(Timestamp.seconds($0)))" } ?? "first seen"
            let slot = fired >= cap ? now : latest  // past the cap the latest firing is not known; now stands for it
            let reason =
                fired >= cap
                ? "schedule \(schedule.cron) (\(schedule.timeZone)) fired at least \(cap) times since \(since), first at \(Timestamp.seconds(first)): the missed runs make this one run"
                : fired > 1
                    ? "schedule \(schedule.cron) (\(schedule.timeZone)) fired at \(Timestamp.seconds(latest)); it fired \(fired) times since \(since): the missed runs make this one run"
                    : "schedule \(schedule.cron) (\(schedule.timeZone)) fired at \(Timestamp.seconds(latest))"
            return BackupDue(kind: kind, slot: slot, fired: fired, reason: reason)
        }
        return nil
    }

    /// When the next run of each scheduled kind is due (for the metrics and the API), ignoring retry delays.
    public static func upcoming(
        schedules: [BackupSchedule],
        runs: [BackupRun],
        newestInRepository: [BackupRun.Kind: Date],
        firstSeen: Date
    ) -> [BackupRun.Kind: Date] {
        var out: [BackupRun.Kind: Date] = [:]
        for s in schedules {
            let last = lastCounted(s.kind, runs: runs, repository: newestInRepository)
            if s.kind == .full, last == nil {
                out[.full] = firstSeen
                continue
            }
            if let n = s.next(last ?? firstSeen) { out[s.kind] = n }
        }
        return out
    }

    /// The newest finish that satisfies a kind's schedule.
    static func lastCounted(_ kind: BackupRun.Kind, runs: [BackupRun], repository: [BackupRun.Kind: Date]) -> Date? {
        let counts: Set<BackupRun.Kind> =
            switch kind {
            case .full: [.full]
            case .diff: [.full, .diff]
            case .incr: [.full, .diff, .incr]
            case .logical: [.logical]
            case .drill: [.drill]
            }
        var newest: Date?
        for run in runs where counts.contains(run.kind) && (run.outcome == .succeeded || kind == .drill) {
            if let d = Timestamp.parse(run.finishedAt) { newest = max(newest ?? d, d) }
        }
        for k in counts { if let d = repository[k] { newest = max(newest ?? d, d) } }
        return newest
    }

    /// The newest run of each kind and outcome: what the schedules count, kept by the scheduler beside the recent
    /// window it reads, so that a kind whose last run is older than the window is not taken for one never run.
    public static func kept(_ runs: [BackupRun]) -> [BackupRun] {
        var newest: [String: BackupRun] = [:]
        for run in runs {
            let key = "\(run.kind.rawValue) \(run.outcome.rawValue)"
            if let k = newest[key], (k.startedAt, k.id) >= (run.startedAt, run.id) { continue }
            newest[key] = run
        }
        return newest.values.sorted { ($0.startedAt, $0.id) > ($1.startedAt, $1.id) }
    }

    /// Two lists of runs as one, newest first, each run once.
    public static func merged(_ a: [BackupRun], _ b: [BackupRun]) -> [BackupRun] {
        var seen = Set<String>()
        return (a + b).sorted { ($0.startedAt, $0.id) > ($1.startedAt, $1.id) }.filter { seen.insert($0.id).inserted }
    }

    /// Runs that need the repository readable: every kind but a logical dump.
    public static func needsRepository(_ kind: BackupRun.Kind) -> Bool { kind != .logical }

    static let cap = 1000

    /// How often the schedule fired from `first` (a time it fired) up to `now` (at most `cap`), and the latest time it did.
    static func timesFired(_ schedule: BackupSchedule, after first: Date, until now: Date) -> (Int, Date) {
        var n = 1
        var t = first
        while n < cap, let next = schedule.next(t), next <= now {
            n += 1
            t = next
        }
        return (n, t)
    }

}
