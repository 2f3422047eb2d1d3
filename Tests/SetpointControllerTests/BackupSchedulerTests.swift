import Foundation
import SetpointController
import SetpointCore
import SetpointEngine
import SetpointState
import SetpointTesting
import Synchronization
import Testing

/// The controller's scheduler on a fake backup provider: the leader runs what is due, once; a missed run runs once;
/// a follower runs nothing; a run holds its cluster's lock domain against the passes; API requests; failures wait.
@Suite(.timeLimit(.minutes(2))) struct BackupSchedulerTests {
    /// Serves PostgresCluster and BackupPolicy from memory and makes "backups" that the test can hold open.
    final class FakeBackups: Provider, BackupScheduling {
        let inner = InMemoryProvider(
            kinds: [.postgresCluster, .backupPolicy],
            domains: { action in
                action.resource.kind == .postgresCluster ? [ConcurrencyDomain("pg:\(action.resource.name)")] : []
            }
        )
        let made = Mutex<[BackupRun]>([])
        /// While true, a run waits before it finishes.
        let hold = Mutex(false)
        let fail = Mutex(false)
        /// Set: the repository cannot be read (what `reading` reports as its problem).
        let unreadable = Mutex<String?>(nil)
        let scheduleList: [BackupSchedule]

        init(scheduleList: [BackupSchedule]) { self.scheduleList = scheduleList }

        var kinds: [ResourceKind] { inner.kinds }
        func observe(
            _ resources: [ResolvedResource],
            in context: ProviderContext
        ) async throws -> [ResourceID: Observation] {
            try await inner.observe(resources, in: context)
        }
        func fieldPolicy(for kind: ResourceKind) -> FieldPolicy { inner.fieldPolicy(for: kind) }
        func concurrencyDomains(for action: Action) -> [ConcurrencyDomain] { inner.concurrencyDomains(for: action) }
        func apply(
            _ action: Action,
            resource: ResolvedResource?,
            in context: ProviderContext
        ) async throws -> Observation {
            try await inner.apply(action, resource: resource, in: context)
        }

        var scheduledKind: ResourceKind { .backupPolicy }
        func schedules(of resource: Resource) -> [BackupSchedule] { scheduleList }
        func domains(of resource: Resource) -> [String] { ["pg:\(resource.spec["cluster"]?.stringValue ?? "?")"] }
        func run(
            _ kind: BackupRun.Kind,
            of resource: Resource,
            targetTime: String?,
            trigger: String,
            in context: ProviderContext
        )
            async throws -> BackupRun
        {
            let start = context.clock.now
            while hold.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
            let run = BackupRun(
                id: "\(resource.id.name):\(kind):\(made.withLock { $0.count })",
                policy: resource.id.name,
                kind: kind,
                startedAt: Timestamp.seconds(start),
                finishedAt: Timestamp.seconds(context.clock.now),
                seconds: 0.1,
                outcome: fail.withLock { $0 } ? .failed : .succeeded,
                label: "20261206-000000F",
                message: fail.withLock { $0 } ? "ERROR: [056]: unable to find primary cluster" : nil,
                trigger: trigger
            )
            made.withLock { $0.append(run) }
            return run
        }
        func problem(targetTime: String) -> String? {
            targetTime.hasPrefix("20") ? nil : "target time \(targetTime): expected an ISO 8601 time"
        }
        func reading(of resource: Resource, runs: [BackupRun], in context: ProviderContext) async -> BackupReading {
            if let problem = unreadable.withLock({ $0 }) {
                return BackupReading(gauges: [], newestBackup: [:], problem: problem)
            }
            let done = made.withLock { $0 }.filter { $0.outcome == .succeeded && $0.kind != .drill }
            var newest: [BackupRun.Kind: Date] = [:]
            for r in done { newest[r.kind] = ISO8601DateFormatter().date(from: r.finishedAt) }
            return BackupReading(
                gauges: [
                    GaugeSample(
                        "setpoint_backup_compliant",
                        help: "1 when compliant.",
                        labels: ["policy": resource.id.name],
                        value: done.isEmpty ? 0 : 1
                    )
                ],
                newestBackup: newest
            )
        }
    }

    struct Env {
        let dir: String
        let store = InMemoryStateStore()
        let provider: FakeBackups
        let reconciler: Reconciler
        let scheduler: BackupScheduler
        /// The scheduler's time: fixed, and moved only by the test. With the machine's clock a test read `now`, the
        /// scheduler read it again seconds later on a loaded machine, and a 10-minute incr slot could fall between the
        /// two (CI saw the incr made instead of the drill). 12:03:20 is 200 s past an incr slot.
        let clock = ManualClock(now: Timestamp.parse("2026-12-07T12:03:20Z")!)

        init(schedules: [BackupSchedule] = [BackupDueTests.every(.full, 86_400)]) throws {
            dir =
                FileManager.default.temporaryDirectory.appendingPathComponent("setpoint-sched-\(UUID().uuidString)")
                .path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try """
            apiVersion: setpoint/v1
            kind: PostgresCluster
            metadata: {name: main}
            spec:
              primary: pg-1
              members: [{name: pg-1, host: 127.0.0.1}]
            ---
            apiVersion: setpoint/v1
            kind: BackupPolicy
            metadata: {name: main-backups}
            spec:
              cluster: main
              repository: {path: /var/lib/pgbackrest}
              schedules: {full: "0 1 * * *"}
              retention: {full: 2}

            """.write(toFile: dir + "/stack.yaml", atomically: true, encoding: .utf8)
            provider = FakeBackups(scheduleList: schedules)
            reconciler = Reconciler(
                Reconciler.Configuration(
                    paths: [dir],
                    providers: [provider],
                    secrets: EnvironmentSecretResolver(environment: [:]),
                    identity: "controller:test",
                    clock: clock
                ),
                store: store
            )
            scheduler = try #require(BackupScheduler(reconciler: reconciler, store: store))
        }

        /// Waits for the runs in progress to end (each fake run takes milliseconds unless held).
        func settle() async throws {
            for _ in 0..<500 where !scheduler.running.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
            #expect(scheduler.running.isEmpty, "a run did not finish")
        }
    }

    static let policy = ResourceID(kind: .backupPolicy, name: "main-backups")

    @Test func theLeaderTakesAFirstFullAtOnceRecordsItAndDoesNotRunItAgain() async throws {
        let env = try Env()
        let pass = await env.reconciler.pass()
        #expect(pass.isSuccess && pass.leading, "\(pass)")
        await env.scheduler.tick()
        try await env.settle()
        let runs = try await env.store.backupRuns(policy: "main-backups", limit: 10)
        #expect(runs.map(\.kind) == [.full], "\(runs)")
        #expect(runs.first?.trigger == "schedule: no full backup exists yet")
        let audit = try await env.store.auditRecords(after: 0, limit: 100).map(\.entry).filter {
            $0.event.rawValue == "backup"
        }
        #expect(
            audit.count == 1 && audit.first?.resource == Self.policy && audit.first?.actor == "controller:test"
                && audit.first?.result == "succeeded",
            "\(audit)"
        )
        // The next looks start nothing: the schedule has not fired since.
        await env.scheduler.tick()
        await env.scheduler.tick()
        #expect(env.scheduler.running.isEmpty)
        #expect(env.provider.made.withLock { $0.count } == 1)
        let gauges = env.scheduler.gauges
        #expect(gauges.contains { $0.name == "setpoint_backup_compliant" && $0.value == 1 }, "\(gauges)")
        #expect(
            gauges.contains {
                $0.name == "setpoint_backup_next_run_timestamp_seconds" && $0.labels["type"] == "full"
                    && $0.value > env.clock.now.timeIntervalSince1970
            }
        )
        #expect(gauges.contains { $0.name == "setpoint_backup_running" && $0.value == 0 })
    }

    @Test func aRunMissedWhileNoControllerLedRunsOnceWhenOneLeads() async throws {
        let env = try Env(schedules: [BackupDueTests.every(.full, 86_400), BackupDueTests.every(.incr, 3600)])
        // The last full finished three days ago: the daily schedule fired three times (and the hourly incr many) since.
        let old = env.clock.now.addingTimeInterval(-3 * 86_400 - 120)
        try await env.store.recordBackupRun(BackupDueTests.run(.full, finished: old, policy: "main-backups"))
        _ = await env.reconciler.pass()
        await env.scheduler.tick()
        try await env.settle()
        for _ in 0..<3 {
            await env.scheduler.tick()
            try await env.settle()
        }
        let made = env.provider.made.withLock { $0 }
        #expect(
            made.map(\.kind) == [.full],
            "one full stands for every missed slot, and counts for the incr: \(made.map(\.kind))"
        )
        #expect(made.first?.trigger.contains("times since the last success") == true, "\(made.first?.trigger ?? "")")
    }

    @Test func aFollowerRunsNothingButStillExportsTheReadings() async throws {
        let env = try Env()
        let other = try await LeaseKeeper.acquire(env.store, timeout: .zero, ttl: .seconds(30))
        let pass = await env.reconciler.pass()
        #expect(pass.leaseHeldBy != nil)
        await env.scheduler.tick()
        #expect(
            env.scheduler.running.isEmpty && env.provider.made.withLock { $0.isEmpty },
            "only the leader runs schedules"
        )
        #expect(env.scheduler.gauges.contains { $0.name == "setpoint_backup_compliant" && $0.value == 0 })
        #expect(throws: BackupScheduler.Refusal.self) {
            try env.scheduler.request("main-backups", kind: .full, targetTime: nil, by: "alice@example.net")
        }
        await other.release()
    }

    @Test func aRunHoldsItsClusterAgainstThePassesAndTheAPIStartsRunsWithTheCallersIdentity() async throws {
        let env = try Env()
        _ = await env.reconciler.pass()
        await env.scheduler.tick()
        try await env.settle()
        env.provider.hold.withLock { $0 = true }
        let job = try env.scheduler.request("main-backups", kind: .diff, targetTime: nil, by: "alice@example.net")
        #expect(job.status == .running && job.trigger == "api alice@example.net")
        #expect(throws: BackupScheduler.Refusal.self, "one run per policy at a time") {
            try env.scheduler.request("main-backups", kind: .incr, targetTime: nil, by: "bob@example.net")
        }
        #expect(throws: BackupScheduler.Refusal.self) {
            try env.scheduler.request("nope", kind: .full, targetTime: nil, by: "alice@example.net")
        }

        // The cluster drifts while the backup runs: the pass holds its correction, saying why.
        let cluster = ResourceID(kind: .postgresCluster, name: "main")
        let current = try #require(env.provider.inner.backend.entry(cluster))
        env.provider.inner.backend.set(
            cluster,
            spec: current.spec.setting(["primary"], to: .string("pg-2")),
            providerID: current.providerID
        )
        let during = await env.reconciler.pass()
        let held = during.held["PostgresCluster/main:update"]
        #expect(held?.contains("pg:main is taken: a diff run of BackupPolicy/main-backups") == true, "\(during)")
        #expect(during.applied.isEmpty)

        env.provider.hold.withLock { $0 = false }
        try await env.settle()
        let done = try #require(env.scheduler.job(job.id))
        #expect(done.status == .succeeded && done.run?.kind == .diff)
        let audit = try await env.store.auditRecords(after: 0, limit: 100).map(\.entry).filter {
            $0.event.rawValue == "backup"
        }
        #expect(audit.last?.actor == "alice@example.net", "audited as the caller")
        let after = await env.reconciler.pass()
        #expect(after.applied.contains("PostgresCluster/main:update"), "released: the correction applies: \(after)")
    }

    @Test func aFailedRunWaitsBeforeItIsTriedAgainAndAPolicyWithAFailedActionRunsNothing() async throws {
        let env = try Env()
        env.provider.fail.withLock { $0 = true }
        _ = await env.reconciler.pass()
        await env.scheduler.tick()
        try await env.settle()
        await env.scheduler.tick()
        try await env.settle()
        let runs = try await env.store.backupRuns(policy: "main-backups", limit: 10)
        #expect(runs.map(\.outcome) == [.failed], "one attempt, then the retry delay: \(runs)")
        #expect(runs.first?.message?.contains("[056]") == true, "the tool's message is kept")

        // A policy whose own action failed in the last pass: nothing runs for it.
        let blocked = try Env()
        blocked.provider.inner.backend.set(ResourceID(kind: .postgresCluster, name: "main"), spec: .map([:]))
        let failing = Reconciler(
            Reconciler.Configuration(
                paths: [blocked.dir],
                providers: [FailingPolicy(inner: blocked.provider)],
                secrets: EnvironmentSecretResolver(environment: [:])
            ),
            store: blocked.store
        )
        let pass = await failing.pass()
        #expect(pass.failed.keys.contains("BackupPolicy/main-backups:create"), "\(pass)")
        let scheduler = try #require(BackupScheduler(reconciler: failing, store: blocked.store))
        await scheduler.tick()
        #expect(
            scheduler.running.isEmpty && blocked.provider.made.withLock { $0.isEmpty },
            "an unsettled policy's runs wait"
        )
    }

    @Test func aKindWhoseLastRunIsOlderThanTheRecentWindowStillCounts() async throws {
        let env = try Env(schedules: [
            BackupDueTests.every(.full, 86_400), BackupDueTests.every(.incr, 600),
            BackupDueTests.every(.drill, 7 * 86_400),
        ])
        // The last drill was eight days ago; 250 incremental backups were recorded since, more than one look reads.
        let now = env.clock.now
        try await env.store.recordBackupRun(
            BackupDueTests.run(.drill, finished: now.addingTimeInterval(-8 * 86_400), policy: "main-backups")
        )
        try await env.store.recordBackupRun(
            BackupDueTests.run(.full, finished: now.addingTimeInterval(-8 * 86_400 + 60), policy: "main-backups")
        )
        for i in 0..<250 {
            try await env.store.recordBackupRun(
                BackupDueTests.run(
                    .incr,
                    finished: now.addingTimeInterval(-Double(250 - i) * 300),
                    policy: "main-backups"
                )
            )
        }
        env.provider.made.withLock {
            $0 = [BackupDueTests.run(.full, finished: now.addingTimeInterval(-1), policy: "main-backups")]
        }  // counts for the incr too
        _ = await env.reconciler.pass()
        await env.scheduler.tick()
        try await env.settle()
        let made = env.provider.made.withLock { $0 }.dropFirst().map(\.kind)
        #expect(made == [.drill], "the weekly drill is overdue, not new: \(made)")
    }

    @Test func anUnreadableRepositoryStartsNoBackupAndATargetTimeIsCheckedBeforeARunStarts() async throws {
        let env = try Env()
        env.provider.unreadable.withLock { $0 = "pgbackrest info: ERROR: [082]: unable to read repository" }
        _ = await env.reconciler.pass()
        await env.scheduler.tick()
        #expect(
            env.scheduler.running.isEmpty && env.provider.made.withLock { $0.isEmpty },
            "no full backup is taken for missing while the repository cannot be read"
        )
        do {
            _ = try env.scheduler.request(
                "main-backups",
                kind: .drill,
                targetTime: "yesterday",
                by: "alice@example.net"
            )
            Issue.record("a drill to an unreadable target time started")
        } catch let refusal as BackupScheduler.Refusal {
            #expect(refusal.reason == .invalid && refusal.description.contains("yesterday"), "\(refusal)")
        }
        env.provider.unreadable.withLock { $0 = nil }
        await env.scheduler.tick()
        try await env.settle()
        #expect(env.provider.made.withLock { $0.map(\.kind) } == [.full], "readable again: the first full runs")
    }

    /// The fake whose BackupPolicy apply fails.
    struct FailingPolicy: Provider, BackupScheduling {
        let inner: FakeBackups
        var kinds: [ResourceKind] { inner.kinds }
        func observe(
            _ resources: [ResolvedResource],
            in context: ProviderContext
        ) async throws -> [ResourceID: Observation] {
            try await inner.observe(resources, in: context)
        }
        func fieldPolicy(for kind: ResourceKind) -> FieldPolicy { inner.fieldPolicy(for: kind) }
        func apply(
            _ action: Action,
            resource: ResolvedResource?,
            in context: ProviderContext
        ) async throws -> Observation {
            if action.resource.kind == .backupPolicy {
                throw SetpointError(.applyFailed, "pgbackrest stanza-create: ERROR: [055]", resource: action.resource)
            }
            return try await inner.apply(action, resource: resource, in: context)
        }
        var scheduledKind: ResourceKind { .backupPolicy }
        func schedules(of resource: Resource) -> [BackupSchedule] { inner.schedules(of: resource) }
        func domains(of resource: Resource) -> [String] { inner.domains(of: resource) }
        func run(
            _ kind: BackupRun.Kind,
            of resource: Resource,
            targetTime: String?,
            trigger: String,
            in context: ProviderContext
        )
            async throws -> BackupRun
        {
            try await inner.run(kind, of: resource, targetTime: targetTime, trigger: trigger, in: context)
        }
        func problem(targetTime: String) -> String? { inner.problem(targetTime: targetTime) }
        func reading(of resource: Resource, runs: [BackupRun], in context: ProviderContext) async -> BackupReading {
            await inner.reading(of: resource, runs: runs, in: context)
        }
    }
}
