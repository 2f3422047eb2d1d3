import Foundation
import SetpointCore

/// The backup scheduler's memory, as events in and actions out: which policies run a job, the jobs of the last while,
/// the failures each schedule backs off from, what each look read, and the stop. Pure — no I/O, no lock, no clock: times
/// come in with the events — and driven by ``BackupScheduler``, which holds it under one lock, reads the store, runs the
/// jobs and claims their lock domains.
///
/// A job's life: ``reserve(_:policy:unlessFinishedSince:now:)`` (the policy is marked busy), then either
/// ``unreserve(_:)`` (its lock domains were taken) or ``launch(_:)`` (it runs), then ``finished(_:now:)``.
struct BackupSchedulerStateMachine {
    /// What a start asked for comes to.
    enum Reservation: Equatable {
        /// The policy is marked busy under this job id: claim its domains, then launch or unreserve.
        case reserved(String)
        case refused(String)
        /// A run of the policy finished since the caller read the runs it decided on: the next look decides again.
        case stale
    }

    /// How many jobs are kept for `GET /api/v1/backups/jobs/ID`.
    static let jobsKept = 100

    private(set) var stopped = false
    /// When each policy was first declared (a schedule counts from it when nothing ran yet).
    private(set) var firstSeen: [String: Date] = [:]
    /// Failed runs in a row per policy and kind (the schedule backs off from them).
    private(set) var failures: [String: [BackupRun.Kind: BackupDue.Failures]] = [:]
    /// The job each busy policy runs (reserved or running).
    private(set) var running: [String: String] = [:]
    private(set) var jobs: [String: BackupScheduler.Job] = [:]
    private var order: [String] = []
    private(set) var readings: [String: BackupReading] = [:]
    private(set) var upcoming: [String: [BackupRun.Kind: Date]] = [:]
    /// Why a policy's schedules did not start a run, once per reason (not every tick).
    private var told: [String: String] = [:]
    /// Runs finished per policy: a look that read the runs before one finished does not start it again.
    private(set) var finished: [String: Int] = [:]
    /// The newest run of each kind and outcome per policy, beside the recent window read each look.
    private(set) var kept: [String: [BackupRun]] = [:]
    private var sequence = 0

    /// The policies declared now: each is seen from `now` if new; what was kept of the others goes.
    mutating func declared(_ policies: Set<String>, now: Date) {
        for p in policies where firstSeen[p] == nil { firstSeen[p] = now }
        readings = readings.filter { policies.contains($0.key) }
        upcoming = upcoming.filter { policies.contains($0.key) }
        kept = kept.filter { policies.contains($0.key) }
    }

    /// A look read the policy's runs and repository.
    mutating func read(
        _ policy: String,
        reading: BackupReading,
        upcoming next: [BackupRun.Kind: Date],
        runs: [BackupRun]
    ) {
        readings[policy] = reading
        upcoming[policy] = next
        kept[policy] = BackupDue.kept(runs + (kept[policy] ?? []))
    }

    /// True when `message` is new for the policy (logged once, not every tick).
    mutating func tell(_ policy: String, _ message: String) -> Bool {
        defer { told[policy] = message }
        return told[policy] != message
    }

    /// Marks the policy busy for a new job, unless stopping, a job of it is in progress, or (for a look that read
    /// `finished` runs) another finished since.
    mutating func reserve(
        _ policy: ResourceID,
        unlessFinishedSince seen: Int? = nil,
        now: Date
    ) -> Reservation {
        let name = policy.name
        if stopped { return .refused("the controller is stopping") }
        if let id = running[name] {
            return .refused(
                jobs[id].map {
                    "a \($0.kind.rawValue) run of \(policy) is in progress (job \($0.id), since \(Timestamp.seconds($0.startedAt)))"
                } ?? "a run of \(policy) is starting"
            )
        }
        if let seen, finished[name] ?? 0 != seen { return .stale }
        sequence += 1
        let id = "j-\(Int(now.timeIntervalSince1970))-\(sequence)"
        running[name] = id
        return .reserved(id)
    }

    /// The reserved job does not run (its lock domains were taken).
    mutating func unreserve(_ policy: String) { running[policy] = nil }

    /// The reserved job starts; false when the scheduler stopped since the reservation (nothing runs: release its
    /// domains).
    mutating func launch(_ job: BackupScheduler.Job) -> Bool {
        guard !stopped else {
            running[job.policy] = nil
            return false
        }
        jobs[job.id] = job
        order.append(job.id)
        while order.count > Self.jobsKept { jobs[order.removeFirst()] = nil }
        told[job.policy] = nil
        return true
    }

    /// A job ended (before or after the stop: its outcome counts either way). A failure adds to the schedule's
    /// backoff; a success ends it.
    mutating func finished(_ job: BackupScheduler.Job, now: Date) {
        if order.contains(job.id) { jobs[job.id] = job }
        if running[job.policy] == job.id { running[job.policy] = nil }
        finished[job.policy, default: 0] += 1
        if let run = job.run { kept[job.policy] = BackupDue.kept([run] + (kept[job.policy] ?? [])) }
        if job.status == .failed {
            let previous = failures[job.policy]?[job.kind]?.count ?? 0
            failures[job.policy, default: [:]][job.kind] = BackupDue.Failures(count: previous + 1, last: now)
        } else {
            failures[job.policy]?[job.kind] = nil
        }
    }

    /// Starts nothing more (runs in progress finish and are recorded).
    mutating func stop() { stopped = true }

    /// Runs in progress, by policy.
    var runningJobs: [String: BackupScheduler.Job] { running.compactMapValues { jobs[$0] } }
}
