import Foundation
public import SetpointCore
import SetpointEngine
public import SetpointState
import Synchronization

/// Runs the schedules of the declared policies (`BackupPolicy`: full, diff and incr backups, logical dumps, restore
/// drills) in the leading controller, starts runs asked for through the API, and keeps what the metrics export. Every
/// run holds its policy's lock domain (`pg:CLUSTER`), so it never meets an action on the cluster, nor another run on
/// pgBackRest's lock; every run is recorded in the state store and the audit log.
public final class BackupScheduler: Sendable {
    /// A run started by the scheduler or through the API, while it runs and a while after.
    public struct Job: Sendable {
        public enum Status: String, Sendable { case running, succeeded, failed }
        public var id: String
        public var policy: String
        public var kind: BackupRun.Kind
        public var trigger: String
        public var startedAt: Date
        public var status: Status
        public var run: BackupRun?
        /// Why no run could be made (the policy's settings do not resolve, the state store failed).
        public var error: String?
    }

    /// A request the scheduler refuses, with what to do.
    public typealias Refusal = LeaderRefusal

    /// The state machine and the tasks of the runs in progress, under the one lock.
    struct Locked {
        var machine = BackupSchedulerStateMachine()
        var tasks: [String: Task<Void, Never>] = [:]
    }

    /// How many recent runs a look reads (older ones count through `kept`).
    static let window = 200

    public let reconciler: Reconciler
    public let store: any StateStore
    let scheduling: any BackupScheduling
    let log: any ProviderLog
    private let locked = Mutex(Locked())

    /// Nil when no provider of the reconciler has schedules.
    public init?(reconciler: Reconciler, store: any StateStore, log: any ProviderLog = SilentLog()) {
        guard let s = reconciler.configuration.providers.lazy.compactMap({ $0 as? any BackupScheduling }).first else {
            return nil
        }
        self.reconciler = reconciler
        self.store = store
        scheduling = s
        self.log = log
    }

    var identity: String { reconciler.configuration.identity }
    /// The reconciler's clock: schedules, job times and failure times read it.
    var clock: any SetpointClock { reconciler.configuration.clock }

    /// One look: refresh every declared policy's reading (leader or not: the metrics are read-only), and — leading —
    /// start the runs that are due.
    public func tick(now: Date? = nil) async {
        let now = now ?? clock.now
        guard let desired = reconciler.desired, !locked.withLock({ $0.machine.stopped }) else { return }
        let policies = desired.resources.filter { $0.id.kind == scheduling.scheduledKind && !$0.isOrphan }
        locked.withLock { $0.machine.declared(Set(policies.map(\.id.name)), now: now) }
        let leading = reconciler.isLeading
        await withTaskGroup(of: Void.self) { group in
            for policy in policies {
                group.addTask { await self.look(at: policy, desired: desired, leading: leading, now: now) }
            }
        }
    }

    private func look(at policy: Resource, desired: Reconciler.Desired, leading: Bool, now: Date) async {
        let name = policy.id.name
        let (finished, kept) = locked.withLock { ($0.machine.finished[name] ?? 0, $0.machine.kept[name]) }
        var runs: [BackupRun]
        do {
            runs = try await store.backupRuns(policy: name, limit: Self.window)
            if kept == nil, runs.count == Self.window {  // the first look reads them all once: what each kind last did
                runs = BackupDue.merged(
                    runs,
                    BackupDue.kept(try await store.backupRuns(policy: name, limit: 10_000_000))
                )
            }
        } catch {
            log.log(.error, "\(policy.id): cannot read its recorded runs: \(error)", metadata: [:])
            return
        }
        runs = BackupDue.merged(runs, kept ?? [])
        let reading = await scheduling.reading(of: policy, runs: runs, in: desired.context)
        let schedules = scheduling.schedules(of: policy)
        let (firstSeen, failures, busy) = locked.withLock { l in
            (l.machine.firstSeen[name] ?? now, l.machine.failures[name] ?? [:], l.machine.running[name] != nil)
        }
        let upcoming = BackupDue.upcoming(
            schedules: schedules,
            runs: runs,
            newestInRepository: reading.newestBackup,
            firstSeen: firstSeen
        )
        locked.withLock { $0.machine.read(name, reading: reading, upcoming: upcoming, runs: runs) }
        guard leading, !busy else { return }
        // Without a readable repository its backups are unknown: a full taken for missing could be a needless terabyte.
        let runnable = reading.problem == nil ? schedules : schedules.filter { !BackupDue.needsRepository($0.kind) }
        let waiting = schedules.count - runnable.count
        guard
            let due = BackupDue.next(
                schedules: runnable,
                runs: runs,
                newestInRepository: reading.newestBackup,
                firstSeen: firstSeen,
                failures: failures,
                now: now
            )
        else {
            if waiting > 0, let problem = reading.problem {
                tell(
                    name,
                    "\(policy.id): its scheduled backups and drills wait until the repository can be read: \(problem)"
                )
            }
            return
        }
        if let why = desired.unsettled[policy.id] {
            tell(name, "\(policy.id): the scheduled \(due.kind.rawValue) run waits: \(why)")
            return
        }
        if policy.metadata.annotations["setpoint/paused"] == "true" {
            tell(
                name,
                "\(policy.id): the scheduled \(due.kind.rawValue) run waits: the policy is paused (setpoint/paused: true)"
            )
            return
        }
        switch start(
            policy,
            kind: due.kind,
            targetTime: nil,
            trigger: "schedule: \(due.reason)",
            actor: identity,
            context: desired.context,
            unlessFinishedSince: finished
        ) {
        case .refused(let why): tell(name, "\(policy.id): the scheduled \(due.kind.rawValue) run waits: \(why)")
        case .stale: break  // a run finished while this look read: the next look sees it
        case .started:
            log.log(
                due.fired > 1 ? .warning : .notice,
                "\(policy.id): \(due.kind.rawValue) started: \(due.reason)",
                metadata: [:]
            )
        }
    }

    /// Logs a reason a run waits once, not every tick.
    private func tell(_ policy: String, _ message: String) {
        let fresh = locked.withLock { $0.machine.tell(policy, message) }
        if fresh { log.log(.notice, message, metadata: [:]) }
    }

    /// Starts a run asked for through the API (`who` is the token's identity). Only the leader runs anything.
    public func request(_ policy: String, kind: BackupRun.Kind, targetTime: String?, by who: String) throws -> Job {
        guard let desired = reconciler.desired,
            let resource = desired.resources.first(where: {
                $0.id == ResourceID(kind: scheduling.scheduledKind, name: policy)
            }),
            !resource.isOrphan
        else {
            throw Refusal(
                reason: .notDeclared,
                description:
                    "\(scheduling.scheduledKind)/\(policy) is not declared in the manifests the controller reads"
            )
        }
        if let why = reconciler.notLeading { throw Refusal(reason: .notLeading, description: why) }
        if let targetTime {
            guard kind == .drill else {
                throw Refusal(reason: .invalid, description: "a target time is for a drill only")
            }
            if let problem = scheduling.problem(targetTime: targetTime) {
                throw Refusal(reason: .invalid, description: problem)
            }
        }
        switch start(
            resource,
            kind: kind,
            targetTime: targetTime,
            trigger: "api \(who)",
            actor: who,
            context: desired.context
        ) {
        case .refused(let why): throw Refusal(reason: .busy, description: why)
        case .stale: throw Refusal(reason: .busy, description: "a run of \(resource.id) just finished: ask again")
        case .started(let job): return job
        }
    }

    enum Start {
        case started(Job)
        case refused(String)
        /// A run finished since the caller read the runs it decided on.
        case stale
    }

    /// Starts a run unless the policy already runs one, its domains are taken, the controller stops, or (for a look)
    /// a run finished since `finished` was read.
    private func start(
        _ policy: Resource,
        kind: BackupRun.Kind,
        targetTime: String?,
        trigger: String,
        actor: String,
        context: ProviderContext,
        unlessFinishedSince finished: Int? = nil
    ) -> Start {
        let name = policy.id.name
        let domains = scheduling.domains(of: policy)
        let id: String
        switch locked.withLock({ $0.machine.reserve(policy.id, unlessFinishedSince: finished, now: clock.now) }) {
        case .refused(let why): return .refused(why)
        case .stale: return .stale
        case .reserved(let reserved): id = reserved
        }
        if let taken = reconciler.claim(
            domains,
            for: "a \(kind.rawValue) run of \(policy.id) (job \(id)) is in progress"
        ) {
            locked.withLock { $0.machine.unreserve(name) }
            return .refused(taken)
        }
        let job = Job(id: id, policy: name, kind: kind, trigger: trigger, startedAt: clock.now, status: .running)
        // The task is made under the lock that `stop` takes: `drain` waits for every run that started.
        let started = locked.withLock { l in
            guard l.machine.launch(job) else { return false }
            l.tasks[id] = Task {
                await self.execute(
                    job,
                    policy: policy,
                    domains: domains,
                    targetTime: targetTime,
                    actor: actor,
                    context: context
                )
            }
            return true
        }
        guard started else {
            reconciler.release(domains)
            return .refused("the controller is stopping")
        }
        return .started(job)
    }

    private func execute(
        _ job: Job,
        policy: Resource,
        domains: [String],
        targetTime: String?,
        actor: String,
        context: ProviderContext
    ) async {
        var done = job
        do {
            let run = try await scheduling.run(
                job.kind,
                of: policy,
                targetTime: targetTime,
                trigger: job.trigger,
                in: context
            )
            done.run = run
            done.status = run.outcome == .succeeded ? .succeeded : .failed
            let line =
                "\(policy.id): \(run.kind.rawValue) \(run.outcome.rawValue)\(run.label.map { " \($0)" } ?? "") in "
                + String(format: "%.1f s", run.seconds) + (run.message.map { ": \($0)" } ?? "")
            log.log(run.outcome == .succeeded ? .notice : .error, line, metadata: ["job": job.id])
            do { try await AuditTrail(log: store, actor: actor, clock: clock).record(run, in: store) } catch {
                // The run happened: its outcome stands (and counts for the schedule through `kept`); the record is what failed.
                done.error = "the run was not recorded: \(error)"
                log.log(
                    .error,
                    "\(policy.id): the \(run.kind.rawValue) run \(run.id) finished but could not be recorded in the state store "
                        + "or the audit log: \(error)",
                    metadata: ["job": job.id]
                )
            }
        } catch {
            done.status = .failed
            done.error = "\(error)"
            log.log(
                .error,
                "\(policy.id): the \(job.kind.rawValue) run could not be made: \(error)",
                metadata: ["job": job.id]
            )
        }
        reconciler.release(domains)
        let now = clock.now
        locked.withLock { l in
            l.machine.finished(done, now: now)
            l.tasks[job.id] = nil
        }
    }

    public func job(_ id: String) -> Job? { locked.withLock { $0.machine.jobs[id] } }

    /// Runs in progress, by policy.
    public var running: [String: Job] {
        locked.withLock { $0.machine.runningJobs }
    }

    /// The next run due per policy and kind.
    public var upcoming: [String: [BackupRun.Kind: Date]] { locked.withLock { $0.machine.upcoming } }

    /// The gauges of every declared policy, plus when each schedule next runs and whether a run is in progress.
    public var gauges: [GaugeSample] {
        locked.withLock { l in
            let s = l.machine
            var out: [GaugeSample] = []
            for name in s.readings.keys.sorted() {
                out += s.readings[name]!.gauges
                for (kind, at) in (s.upcoming[name] ?? [:]).sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                    out.append(
                        GaugeSample(
                            "setpoint_backup_next_run_timestamp_seconds",
                            help: "When the schedule next starts a run of this type.",
                            labels: ["policy": name, "type": kind.rawValue],
                            value: at.timeIntervalSince1970
                        )
                    )
                }
                out.append(
                    GaugeSample(
                        "setpoint_backup_running",
                        help: "1 while a backup, dump or drill of the policy runs.",
                        labels: ["policy": name],
                        value: s.running[name] == nil ? 0 : 1
                    )
                )
            }
            return out
        }
    }

    /// Ticks until stopped.
    public func loop(every interval: Duration) async {
        while !locked.withLock({ $0.machine.stopped }) && !Task.isCancelled {
            await tick()
            try? await clock.sleep(for: interval)
        }
    }

    /// Starts nothing more.
    public func stop() { locked.withLock { $0.machine.stop() } }

    /// Waits for the runs in progress (at shutdown: the lease is given up after them, so that no other controller starts
    /// a run on the same pgBackRest lock while one goes on).
    public func drain() async {
        var told = false
        while true {
            let inFlight = locked.withLock { Array($0.tasks.values) }
            if inFlight.isEmpty { return }
            if !told {
                log.log(
                    .notice,
                    "waiting for \(inFlight.count) backup run(s) to finish before giving up the lease",
                    metadata: [:]
                )
            }
            told = true
            for t in inFlight { await t.value }
        }
    }
}
