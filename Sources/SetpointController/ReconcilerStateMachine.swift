import Foundation
import SetpointCore

/// The reconciler between and during its passes, as events in and actions out: leadership (the apply lease), the
/// stop, the lock domains shared with the work beside the passes, the per-resource backoff and the desired state the
/// last pass loaded. Pure — no I/O, no lock, no clock: times and jitter come in with the events — and driven by
/// ``Reconciler``, which holds it under one lock and does what the actions say.
///
/// `Lease` is what holding the lease takes (the driver's `LeaseKeeper`; a plain value in the transition tests): the
/// machine only keeps it and hands it back to be released.
struct ReconcilerStateMachine<Lease> {
    enum Leadership {
        /// Another process holds the lease (its holder, as the store said), or none was tried yet.
        case following(String?)
        case leading(Lease)
        /// Another took the lease over while this process held it: the next pass starts again as a follower.
        case lost
    }

    /// What to do before a pass plans anything.
    enum LeaseStep {
        /// The lease is held: plan and apply.
        case lead
        /// Try to take the lease; `unfence` first when it was lost (a follower's writes are unfenced).
        case acquire(unfence: Bool)
        /// Stopping: take nothing, start nothing.
        case stop
    }

    /// What to do once the lease was taken.
    enum Acquired {
        case lead
        /// A stop came while the lease was being taken: give it back at once.
        case release(Lease)
        /// The keeper found it lost before it was recorded here: lead nothing; the next pass starts as a follower.
        case lost
    }

    /// How the actions of one plan are sorted before the apply.
    struct Sorting: Equatable {
        /// Not done in this pass, with why (domain taken, depends on one not done, backing off, paused …).
        var held: [ActionID: String] = [:]
        /// Waiting for an approved pending plan, in plan order.
        var waiting: [ActionID] = []
        /// Actions that need approval but that the policy lets apply by itself (`setpoint/approval: auto`).
        var autoApproved: Set<ActionID> = []
    }

    /// One applied action's outcome, for the backoff.
    struct Outcome {
        var resource: ResourceID
        /// Nil when it succeeded.
        var failure: String?
        var transient = true
        /// The resource's manifest digest when it was applied.
        var digest: String
        /// This failure's share of its backoff delay, 0.75 … 1.25 (each failure its own, so that resources that fail
        /// together do not retry in step).
        var jitter = 1.0
    }

    private(set) var leadership = Leadership.following(nil)
    /// Between `leaseNeeded` answering `.acquire` and the outcome of that acquisition.
    private var acquiring = false
    /// The keeper reported the lease lost while it was being taken (before `leaseAcquired` recorded it).
    private var lostWhileAcquiring = false
    private(set) var stopping = false
    /// A pass is between ``passStarted()`` and ``passEnded(unsettled:)``.
    private(set) var passInFlight = false
    private(set) var backoff: Backoff
    /// Lock domains taken by work beside the passes (a backup holds `pg:main`), with why.
    private(set) var claimed: [String: String] = [:]
    /// Domains the pass in flight may apply actions in.
    private(set) var applying: Set<String> = []
    /// Resources whose last pass left actions failed or waiting, with why (scheduled backups of them wait).
    private(set) var unsettled: [ResourceID: String] = [:]

    init(backoff: Backoff = Backoff()) { self.backoff = backoff }

    var isLeading: Bool {
        if case .leading = leadership { return true }
        return false
    }

    /// Who holds the lease when this controller follows, as the store said.
    var holder: String? {
        if case .following(let h) = leadership { return h }
        return nil
    }

    // MARK: - leadership

    mutating func leaseNeeded() -> LeaseStep {
        if stopping { return .stop }
        switch leadership {
        case .leading: return .lead
        case .following:
            acquiring = true
            lostWhileAcquiring = false
            return .acquire(unfence: false)
        case .lost:
            leadership = .following(nil)
            acquiring = true
            lostWhileAcquiring = false
            return .acquire(unfence: true)
        }
    }

    mutating func leaseAcquired(_ lease: Lease) -> Acquired {
        acquiring = false
        if lostWhileAcquiring {
            lostWhileAcquiring = false
            leadership = .lost
            return .lost
        }
        if stopping { return .release(lease) }
        leadership = .leading(lease)
        return .lead
    }

    mutating func leaseRefused(holder: String) {
        acquiring = false
        leadership = .following(holder)
    }

    /// The lease keeper found the lease taken over: leadership ends now; true when the pass in flight must stop starting
    /// actions.
    mutating func leaseLost() -> Bool {
        if acquiring {
            lostWhileAcquiring = true
            return false
        }
        guard case .leading = leadership else { return false }
        leadership = .lost
        return passInFlight
    }

    /// At shutdown: the lease to give up, if held.
    mutating func resign() -> Lease? {
        guard case .leading(let lease) = leadership else { return nil }
        leadership = .following(nil)
        return lease
    }

    // MARK: - passes and the stop

    /// False when stopping: no pass starts.
    mutating func passStarted() -> Bool {
        guard !stopping else { return false }
        passInFlight = true
        return true
    }

    mutating func passEnded(unsettled: [ResourceID: String]) {
        passInFlight = false
        applying = []
        self.unsettled = unsettled
    }

    /// No new pass or action starts; true when the pass in flight must stop starting actions.
    mutating func stopRequested() -> Bool {
        stopping = true
        return passInFlight
    }

    // MARK: - lock domains

    /// Takes lock domains for work beside the passes; why not when the pass in flight applies in one or other work
    /// holds one.
    mutating func claim(_ domains: [String], for why: String) -> String? {
        if let d = domains.first(where: { applying.contains($0) }) {
            return "a reconcile pass is applying actions in \(d)"
        }
        if let d = domains.first(where: { claimed[$0] != nil }) { return "\(d) is taken: \(claimed[d]!)" }
        for d in domains { claimed[d] = why }
        return nil
    }

    mutating func release(_ domains: [String]) {
        for d in domains { claimed[d] = nil }
    }

    // MARK: - one plan's actions

    /// Sorts a plan's changes: held (a domain other work holds, depends on one not done now, backing off, the policy
    /// holds it), waiting for approval, or applied now; and marks the domains the pass will apply in.
    ///
    /// `domains` names each action's lock domains, `digests` each resource's manifest digest, `decide` is the
    /// controller policy's decision.
    mutating func planned(
        _ changes: [Action],
        domains: (Action) -> [String],
        digests: [ResourceID: String],
        decide: (Action) -> ControllerPolicy.Decision,
        now: Date
    ) -> Sorting {
        let all = Set(changes.flatMap(domains))
        let taken = claimed.filter { all.contains($0.key) }
        applying = all.subtracting(taken.keys)
        var out = Sorting()
        for action in changes {
            if let d = domains(action).first(where: { taken[$0] != nil }) {
                out.held[action.id] = "\(d) is taken: \(taken[d]!)"
                continue
            }
            if let blocker = action.dependsOn.first(where: { out.held[$0] != nil || out.waiting.contains($0) }) {
                out.held[action.id] = "depends on \(blocker), not done in this pass"
                continue
            }
            if !backoff.isDue(action.resource, now: now, digest: digests[action.resource] ?? ""),
                let e = backoff.entries[action.resource]
            {
                out.held[action.id] =
                    e.nextRetry.map {
                        "backing off after \(e.failures) failure\(e.failures == 1 ? "" : "s") until \(Timestamp.seconds($0))"
                    } ?? "parked until its manifest changes: \(e.lastError)"
                continue
            }
            switch decide(action) {
            case .apply: if action.requiresApproval { out.autoApproved.insert(action.id) }
            case .wait: out.waiting.append(action.id)
            case .hold(let why): out.held[action.id] = why
            }
        }
        return out
    }

    /// The applied actions' outcomes: a success clears its resource's backoff, a failure backs off (transient, by its
    /// jitter times the delay) or parks it until its manifest changes.
    mutating func applied(_ outcomes: [Outcome], now: Date) {
        for o in outcomes {
            if let failure = o.failure {
                backoff.failed(
                    o.resource,
                    error: failure,
                    transient: o.transient,
                    now: now,
                    digest: o.digest,
                    jitter: o.jitter
                )
            } else {
                backoff.succeeded(o.resource)
            }
        }
    }
}
