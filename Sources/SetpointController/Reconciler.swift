import Foundation
public import SetpointCore
public import SetpointEngine
import SetpointManifest
import SetpointRender
public import SetpointState
import Synchronization

/// What one pass did.
public struct PassReport: Sendable {
    public var planID: String?
    public var manifestDigest: String?
    /// Manifest or planning errors: with a manifest error nothing is applied from a partial desired state.
    public var errors: [String] = []
    public var applied: [ActionID] = []
    public var failed: [ActionID: String] = [:]
    /// Actions waiting in the pending plan.
    public var waiting: [ActionID] = []
    /// Actions not done in this pass, with why (paused, drift reported, backing off, depends on one of those).
    public var held: [ActionID: String] = [:]
    public var pendingPlanID: String?
    public var drift: [ResourceID] = []
    /// Resources the pass could not observe or plan (an error diagnostic of theirs), with why.
    public var unobserved: [ResourceID: String] = [:]
    /// Set when another process held the apply lease: nothing was planned or applied.
    public var leaseHeldBy: String?
    /// The resources the manifests declare (empty when they could not be loaded).
    public var declared: [ResourceID] = []
    /// This controller held the lease (led) for this pass.
    public var leading = false
    /// The commit reconciled (with `--git-remote`: after fetching and fast-forwarding) and its author.
    public var git: GitSync.Head?
    /// Why the work tree could not be brought to the remote's tip (the pass reconciled the commit it had).
    public var gitProblem: String?
    /// Set when this pass's fetch moved the work tree: "origin/main moved OLD → NEW (author: subject)".
    public var gitMoved: String?
    /// How long the pass took, in seconds (set by whoever ran it).
    public var seconds: Double = 0

    public var isSuccess: Bool { errors.isEmpty && failed.isEmpty }
}

/// One reconcile pass, level-triggered: load the manifests, plan against what exists, apply what the policy lets apply
/// by itself, and park the rest in a pending plan (reused while the same actions wait on the same observations).
public final class Reconciler: Sendable {
    public struct Configuration: Sendable {
        public var paths: [String]
        public var providers: [any Provider]
        public var secrets: any SecretResolver
        public var policy: ControllerPolicy
        /// Recorded as the actor of the controller's audit records.
        public var identity: String
        public var parallelism: Int
        /// How long leadership survives without renewal (renewed every third of it): a dead leader is replaced
        /// within this time.
        public var leaseTTL: Duration
        /// Fetch and fast-forward the manifests' work tree before each pass (nil: reconcile the files as they are).
        public var git: GitSync?
        /// The one clock of the passes, the lease, the audit records and the providers.
        public var clock: any SetpointClock
        /// The sessions to the Hosts the passes reach, kept across passes; each pass first drops dead ones.
        public var hosts: (any HostSessions)?

        public init(
            paths: [String],
            providers: [any Provider],
            secrets: any SecretResolver,
            policy: ControllerPolicy = ControllerPolicy(),
            identity: String = "controller@" + ProcessInfo.processInfo.hostName,
            parallelism: Int = 8,
            leaseTTL: Duration = .seconds(10),
            git: GitSync? = nil,
            clock: any SetpointClock = SystemClock(),
            hosts: (any HostSessions)? = nil
        ) {
            self.clock = clock
            self.hosts = hosts
            self.leaseTTL = leaseTTL
            self.git = git
            self.paths = paths
            self.providers = providers
            self.secrets = secrets
            self.policy = policy
            self.identity = identity
            self.parallelism = parallelism
        }
    }

    public let configuration: Configuration
    public let store: any StateStore
    public let interruption: Interruption
    let log: any ProviderLog
    /// Everything that changes between and during passes, under the one lock: the state machine, the pass in flight
    /// (interrupted when the lease is lost or the controller stops) and the desired state the last pass loaded.
    private let locked = Mutex(Locked())
    /// Why a pass was asked for before the interval is out (a verified push webhook), until the loop takes it.
    private let wakeReason = Mutex<String?>(nil)

    struct Locked {
        var machine = ReconcilerStateMachine<LeaseKeeper>()
        var pass: Interruption?
        var desired: Desired?
    }

    /// What the last pass loaded, for the work the controller runs beside its passes (scheduled backups): the declared
    /// resources, the providers' context, and the resources whose last pass left actions failed or waiting.
    public struct Desired: Sendable {
        public var resources: [Resource]
        public var context: ProviderContext
        public var unsettled: [ResourceID: String] = [:]
    }

    public init(
        _ configuration: Configuration,
        store: any StateStore,
        interruption: Interruption = Interruption(),
        log: any ProviderLog = SilentLog()
    ) {
        self.configuration = configuration
        self.store = store
        self.interruption = interruption
        self.log = log
    }

    /// The last desired state that loaded (nil before the first pass). Kept while a later edit does not load: a typo in
    /// a manifest must not stop the backups.
    public var desired: Desired? {
        locked.withLock { l in
            l.desired.map { d in
                var d = d
                d.unsettled = l.machine.unsettled
                return d
            }
        }
    }

    /// Takes lock domains for work beside the passes; returns why not when a pass is applying actions in one of them
    /// or other work holds one.
    public func claim(_ domains: [String], for why: String) -> String? {
        locked.withLock { $0.machine.claim(domains, for: why) }
    }

    public func release(_ domains: [String]) { locked.withLock { $0.machine.release(domains) } }

    /// The per-resource retry state (for the API and tests).
    public var retries: [ResourceID: Backoff.Entry] { locked.withLock { $0.machine.backoff.entries } }

    /// A cheap signature of the manifest files (each file's path, size and modification time): checked every second
    /// between passes, so it never parses anything.
    public func manifestDigest() -> String? {
        var diagnostics: [Diagnostic] = []
        let files = ManifestFiles.collect(configuration.paths, diagnostics: &diagnostics)
        var parts: [String] = []
        for f in files {
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: f) else {
                parts.append("\(f):gone")
                continue
            }
            let size = (attributes[.size] as? NSNumber)?.int64Value ?? -1
            let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            parts.append("\(f):\(size):\(modified)")
        }
        return parts.joined(separator: "|")
    }

    /// One pass at `now` (the clock's when nil).
    public func pass(now: Date? = nil) async -> PassReport {
        passCounts.withLock { $0.started += 1 }
        let report = await passBody(now: now)
        passCounts.withLock {
            $0.finished += 1
            $0.last = report
        }
        return report
    }

    /// Passes started and finished since this process began, and the last one's report: a caller that asked for a
    /// pass (``wake(_:)``) waits for one that started after it asked.
    private let passCounts = Mutex<(started: Int, finished: Int, last: PassReport?)>((0, 0, nil))

    public var passesStarted: Int { passCounts.withLock { $0.started } }

    /// The report of the last pass, once `finished` passes have ended (nil before).
    public func lastReport(afterFinished count: Int) -> PassReport? {
        passCounts.withLock { $0.finished >= count ? $0.last : nil }
    }

    private func passBody(now: Date?) async -> PassReport {
        let now = now ?? configuration.clock.now
        var report = PassReport()
        // 0. With a git remote: the branch's tip, fast-forward only (a problem leaves the checked-out commit in place).
        if let git = configuration.git {
            let synced = await git.sync(paths: configuration.paths)
            report.git = synced.head
            report.gitProblem = synced.problem
            if let from = synced.movedFrom, let head = synced.head {
                report.gitMoved =
                    "\(synced.followed ?? git.remote) moved \(from.prefix(12)) → \(head.commit.prefix(12)) (\(head.authorEmail): \(head.subject))"
            }
        }
        // 1. The desired state, whole or not at all.
        var set = ManifestLoader().load(paths: configuration.paths)
        let registry: ProviderRegistry
        do { registry = try ProviderRegistry(configuration.providers) } catch {
            report.errors = ["\(error)"]
            return report
        }
        let context = ProviderContext(
            secrets: configuration.secrets,
            clock: configuration.clock,
            log: log,
            declared: Dictionary(set.resources.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a }),
            hosts: configuration.hosts,
            // A Host's key is trusted on first use by a controller that leads (it writes the state); a follower, and
            // the backup schedule's look on one, only read.
            hostKeys: StoredHostKeys(
                store: store,
                audit: AuditTrail(log: store, actor: configuration.identity, clock: configuration.clock),
                mayTrust: { [weak self] in self?.isLeading ?? false }
            )
        )
        // A master that died since the last pass is replaced, and a host that failed is tried again.
        await configuration.hosts?.refresh()
        if set.isValid {
            set.diagnostics += await ProviderChecks.run(
                set.resources,
                providers: configuration.providers,
                context: context
            )
        }
        guard set.isValid else {
            report.leading = isLeading
            report.errors = set.diagnostics.filter { $0.severity == .error }.map { d in
                "\(d.location.map { "\($0.file):\($0.line):\($0.column): " } ?? "")\(d.code): \(d.summary)"
            }
            return report
        }
        report.declared = set.resources.map(\.id)
        locked.withLock { $0.desired = Desired(resources: set.resources, context: context) }
        // 2. Leadership: the apply lease, kept across passes and renewed; a follower (another controller, or a CLI apply
        // holding it) plans and applies nothing. With PostgreSQL every write is fenced on the lease's epoch.
        guard !interruption.isInterrupted, await lead() else {
            report.leaseHeldBy = leaseHolderText ?? "another process holds the state lease"
            return report
        }
        report.leading = true
        let pass = Interruption()
        let started = locked.withLock { l in
            guard l.machine.passStarted() else { return false }
            l.pass = pass
            return true
        }
        guard started else { return report }  // stopping
        do {
            try await reconcile(
                set,
                registry: registry,
                context: context,
                now: now,
                report: &report,
                interruption: pass
            )
        } catch {
            report.errors.append("\(error)")
        }
        var settling: [ResourceID: String] = [:]
        for (id, why) in report.failed {
            settling[id.resource] = "its action \(id) failed: \(why)"
        }
        for id in report.waiting {
            settling[id.resource] = "its action \(id) waits for approval"
        }
        locked.withLock { l in
            l.machine.passEnded(unsettled: settling)
            l.pass = nil
        }
        return report
    }

    /// Who holds the lease while this controller follows (the store's words).
    public var leaseHolderText: String? { locked.withLock { $0.machine.holder } }

    /// Why work that only the leader does is refused here: nil while this controller leads.
    public var notLeading: String? {
        isLeading
            ? nil
            : "this controller follows (\(leaseHolderText ?? "another holds the state lease")): ask the leading controller"
    }

    /// Takes (or keeps) the lease; false when another holds it or the controller stops.
    func lead() async -> Bool {
        switch locked.withLock({ $0.machine.leaseNeeded() }) {
        case .stop: return false
        case .lead: return true
        case .acquire(let unfence):
            // A follower writes unfenced (approvals, audit records of them).
            if unfence { (store as? PostgresStateStore)?.unfence() }
        }
        let keeper: LeaseKeeper
        do {
            keeper = try await LeaseKeeper.acquire(
                store,
                timeout: .zero,
                ttl: configuration.leaseTTL,
                clock: configuration.clock,
                onLost: { [weak self] in self?.leaseLost() }
            )
        } catch {
            locked.withLock { $0.machine.leaseRefused(holder: "\(error)") }
            return false
        }
        switch locked.withLock({ $0.machine.leaseAcquired(keeper) }) {
        case .lead:
            log.log(.notice, "leading: holding the state lease as \(keeper.holder)", metadata: [:])
            return true
        case .release(let lease):
            await lease.release()
            return false
        case .lost:
            log.log(.warning, "the state lease was lost as soon as it was taken: following", metadata: [:])
            return false
        }
    }

    /// Another took the lease over while this process was paused: stop starting actions, give up leadership.
    private func leaseLost() {
        let pass = locked.withLock { l in l.machine.leaseLost() ? l.pass : nil }
        pass?.interrupt()
    }

    /// Whether this controller holds the lease now.
    public var isLeading: Bool { locked.withLock { $0.machine.isLeading } }

    /// Stops: no new pass or action starts, the pass in flight finishes its started actions; then `resign()`.
    /// Asks for a pass now (a push the webhook verified): the loop between passes takes it within a second.
    public func wake(_ why: String) {
        wakeReason.withLock { $0 = why }
    }

    /// The reason a pass was asked for, once (nil: none since the last take).
    public func takeWake() -> String? {
        wakeReason.withLock { r in
            defer { r = nil }
            return r
        }
    }

    public func stop() {
        interruption.interrupt()
        let pass = locked.withLock { l in l.machine.stopRequested() ? l.pass : nil }
        pass?.interrupt()
    }

    /// Gives leadership up (at shutdown), so that another controller leads at once.
    public func resign() async {
        let lease = locked.withLock { $0.machine.resign() }
        await lease?.release()
    }

    private func reconcile(
        _ set: ManifestSet,
        registry: ProviderRegistry,
        context: ProviderContext,
        now: Date,
        report: inout PassReport,
        interruption: Interruption
    ) async throws {
        let fingerprint = SecretFingerprints.make(configuration.secrets)
        let pipeline = PlanPipeline(registry: registry, context: context, store: store, fingerprint: fingerprint)
        let digest = Planner.manifestDigest(of: set.resources)
        // The commit is recorded in every plan and audit record; a git-driven plan's author is the commit's.
        let source = Plan.Source(
            paths: configuration.paths,
            gitCommit: report.git?.commit ?? GitHead.commit(for: configuration.paths),
            gitAuthor: report.git?.authorEmail,
            manifestDigest: digest
        )
        let plan = try await pipeline.plan(
            set.resources,
            source: source,
            createdAt: Timestamp.seconds(now)
        )
        report.planID = plan.id
        report.manifestDigest = digest
        report.errors += plan.diagnostics.filter { $0.severity == .error }.map {
            "\($0.resource.map { "\($0): " } ?? "")\($0.summary)"
        }
        for d in plan.diagnostics where d.severity == .error {
            if let id = d.resource { report.unobserved[id] = d.summary }
        }
        let byID = Dictionary(set.resources.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        report.drift = Array(Set(plan.changes.filter { $0.changes.contains { $0.origin == .drift } }.map(\.resource)))
            .sorted()

        // 3. Policy and backoff, per action; an action that depends on one not done now is not done either.
        // The manifest digest of each resource a change touches (the backoff keys on it), not of every declared one.
        var digests: [ResourceID: String] = [:]
        for id in Set(plan.changes.map(\.resource)) {
            if let r = byID[id] { digests[id] = CanonicalJSON.digest(r.spec) }
        }
        let policy = configuration.policy
        let sorting = locked.withLock { l in
            l.machine.planned(
                plan.changes,
                // The provider's domains, and the resource itself (an import through the API claims it).
                domains: {
                    (registry.provider(for: $0.resource.kind)?.concurrencyDomains(for: $0).map(\.name) ?? [])
                        + ["resource:\($0.resource)"]
                },
                digests: digests,
                decide: { policy.decide($0, resource: byID[$0.resource]) },
                now: now
            )
        }
        var held = sorting.held
        var waiting = plan.changes.filter { sorting.waiting.contains($0.id) }
        report.held = held

        // 4. Waiting actions form the pending plan; an approved one lets them run.
        var approved: Set<ActionID> = sorting.autoApproved
        if !waiting.isEmpty {
            let pending = try await pendingPlan(for: waiting, of: plan)
            report.pendingPlanID = pending.id
            switch pending.status {
            case .approved:
                approved.formUnion(waiting.map(\.id))
            case .rejected:
                // Rejected: this exact change is not made; a new manifest edit makes a new plan.
                for a in waiting { held[a.id] = "rejected in plan \(pending.id)" }
                report.held = held
                waiting = []
            default:
                report.waiting = waiting.map(\.id)
            }
        } else {
            // Nothing waits any more: earlier pending plans describe a world that is gone.
            for old in try await store.storedPlans(status: .pending) {
                _ = try await store.transitionPlan(id: old.id, from: [.pending], to: .stale, audit: nil)
            }
        }

        // 5. Apply what may run now (never the held ones, nor unapproved waiting ones: they are not even in the walk).
        let runnable = plan.actions.filter { a in
            !a.isChange || (held[a.id] == nil && (!waiting.contains { $0.id == a.id } || approved.contains(a.id)))
        }
        var toApply = plan
        toApply.actions = runnable
        guard !toApply.isEmpty else { return }
        let audit = AuditTrail(log: store, actor: configuration.identity, clock: configuration.clock)
        let applier = Applier(
            registry: registry,
            context: context,
            store: store,
            parallelism: configuration.parallelism,
            approved: approved,
            approveAllRisky: false,
            interruption: interruption,
            fingerprint: fingerprint,
            audit: audit
        )
        let result = try await applier.apply(toApply, resources: byID)
        report.applied = result.succeeded
        report.failed = result.failed
        var outcomes: [ReconcilerStateMachine<LeaseKeeper>.Outcome] = []
        for id in result.succeeded {
            if let a = toApply.action(id) {
                outcomes.append(.init(resource: a.resource, digest: digests[a.resource] ?? ""))
            }
        }
        for (id, message) in result.failed {
            guard let a = toApply.action(id) else { continue }
            outcomes.append(
                .init(
                    resource: a.resource,
                    failure: message,
                    transient: !result.terminal.contains(id),
                    digest: digests[a.resource] ?? "",
                    jitter: Double.random(in: 0.75...1.25)
                )
            )
        }
        locked.withLock { $0.machine.applied(outcomes, now: now) }
        if let pendingID = report.pendingPlanID, approved.isSuperset(of: waiting.map(\.id)), result.isSuccess {
            _ = try await store.transitionPlan(id: pendingID, from: [.approved], to: .applied, audit: nil)
        }
    }

    /// The pending plan for these waiting actions: the same actions on the same observations reuse one plan; anything
    /// else makes a new one and marks the earlier pending ones stale.
    func pendingPlan(for waiting: [Action], of plan: Plan) async throws -> StoredPlan {
        let resources = Set(waiting.map(\.resource))
        // What is approved is exactly this: these actions, with these target values, on these observations. Any edit of
        // the manifest or move of the system makes another plan (the approved one never applies what nobody saw).
        let key =
            waiting.sorted { $0.id < $1.id }.map { a in
                a.id.description + "="
                    + CanonicalJSON.digest(
                        .list(a.changes.map { c in .list([.string(c.path.description), c.after ?? .null]) })
                    )
                    + "/" + CanonicalJSON.digest(a.desired ?? .null)
            }.joined(separator: ",") + "|"
            + resources.sorted().map { "\($0)=\(plan.fingerprints[$0] ?? "")" }.joined(separator: ",")
        let id = "p-" + String(SHA256.hex(key).prefix(12))
        if let existing = try await store.storedPlan(id: id), existing.status != .stale { return existing }
        for old in try await store.storedPlans(status: .pending) where old.id != id {
            _ = try await store.transitionPlan(id: old.id, from: [.pending], to: .stale, audit: nil)
        }
        var pending = plan
        pending.id = id
        pending.actions = waiting
        pending.fingerprints = plan.fingerprints.filter { resources.contains($0.key) }
        let stored = StoredPlan(
            id: id,
            status: .pending,
            plan: pending,
            json: PlanJSONRenderer().render(pending),
            text: PlanTextRenderer().render(pending),
            createdAt: plan.createdAt
        )
        try await store.savePlan(stored)
        try await AuditTrail(log: store, actor: configuration.identity, clock: configuration.clock).record(
            .pending,
            plan: pending,
            detail: .map(["actions": .list(waiting.map { .string($0.id.description) })])
        )
        return stored
    }
}
