import Foundation
public import SetpointCore
import Synchronization

/// What the controller knows between passes, for the API and metrics: the last pass, the declared resources, counters.
public final class ControllerStatus: Sendable {
    public struct Snapshot: Sendable {
        public var last: PassReport?
        public var lastAt: Date?
        public var lastSuccessAt: Date?
        public var passes = 0
        public var driftDetected = 0
        public var actions: [String: Int] = [:]
        /// The resources the last loaded manifests declare.
        public var declared: [ResourceID] = []
        /// This controller led in its last pass; else who holds the lease, as the store says.
        public var leading = false
        public var leader: String?
        /// Reconcile pass durations: cumulative counts per upper bound (seconds), their sum and count.
        public var durationBuckets: [Int] = Array(repeating: 0, count: ControllerStatus.durationBounds.count)
        public var durationSum = 0.0
        public var durationCount = 0
        /// Grows with every recorded pass and every decision: what the API's cached pages are valid for.
        public var generation = 0
    }

    /// The duration histogram's upper bounds in seconds (+Inf is the count).
    public static let durationBounds: [Double] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]

    private let state = Mutex(Snapshot())

    public init() {}

    public var snapshot: Snapshot { state.withLock { $0 } }

    /// The current generation (see `Snapshot.generation`), without copying the snapshot.
    public var generation: Int { state.withLock { $0.generation } }

    /// Something the API shows changed outside a pass (a plan approved or rejected): cached pages are stale.
    public func invalidate() { state.withLock { $0.generation += 1 } }

    public func record(_ report: PassReport, declared: [ResourceID], at now: Date) {
        state.withLock { s in
            s.generation += 1
            s.last = report
            s.lastAt = now
            s.passes += 1
            for (i, bound) in Self.durationBounds.enumerated() where report.seconds <= bound {
                s.durationBuckets[i] += 1
            }
            s.durationSum += report.seconds
            s.durationCount += 1
            if report.isSuccess && report.leaseHeldBy == nil { s.lastSuccessAt = now }
            s.driftDetected += report.drift.count
            for id in report.applied { s.actions[Self.verb(id) + "|succeeded", default: 0] += 1 }
            for id in report.failed.keys { s.actions[Self.verb(id) + "|failed", default: 0] += 1 }
            if !declared.isEmpty { s.declared = declared }
            s.leading = report.leading
            s.leader = report.leaseHeldBy
        }
    }

    /// `VirtualMachine/api-1:update` → `VirtualMachine|update`.
    static func verb(_ actionID: ActionID) -> String { "\(actionID.resource.kind.rawValue)|\(actionID.verb)" }

    /// Each declared resource's status in the last pass: `failed`, `waiting`, `held`, `drift`, `changed`, `in-sync`.
    public func resourceStatus(retries: [ResourceID: Backoff.Entry]) -> [(ResourceID, String, String?)] {
        let s = snapshot
        guard let r = s.last else { return s.declared.map { ($0, "unknown", nil) } }
        // A follower does not plan: it knows nothing of the resources' state but what failed when it last led.
        if r.leaseHeldBy != nil { return s.declared.sorted().map { ($0, "following", retries[$0]?.lastError) } }
        func ids(_ actions: [ActionID]) -> Set<ResourceID> { Set(actions.map(\.resource)) }
        let failed = ids(Array(r.failed.keys))
        let waiting = ids(r.waiting)
        let held = ids(Array(r.held.keys))
        let applied = ids(r.applied)
        let drift = Set(r.drift)
        return s.declared.sorted().map { id in
            let error = retries[id]?.lastError ?? r.failed.first { $0.key.resource == id }?.value
            if failed.contains(id) { return (id, "failed", error) }
            if waiting.contains(id) { return (id, "waiting", nil) }
            // Backing off after a failure: still failed, with the failure's error (not the backoff's).
            if let retry = retries[id], held.contains(id) { return (id, "failed", retry.lastError) }
            if held.contains(id) { return (id, "held", r.held.first { $0.key.resource == id }?.value) }
            if drift.contains(id) { return (id, applied.contains(id) ? "drift-corrected" : "drift", nil) }
            if applied.contains(id) { return (id, "changed", nil) }
            return (id, "in-sync", nil)
        }
    }
}
