public import SetpointCore
public import SetpointState

/// A plan saved by `setpoint plan --out` is applied exactly as saved, or not at all: the manifests must be those it
/// was made from, it must not have been applied or rejected since, and nothing it touches may have moved. Which of its
/// actions need approval is decided again from the manifests, never taken from the file.
public enum SavedPlanCheck {
    public enum Refusal: Error, Equatable, CustomStringConvertible {
        case manifestsChanged(plan: String, paths: [String])
        case alreadyDecided(plan: String, status: StoredPlan.Status)
        /// Resources it touches that could not be observed, with why.
        case unobservable(plan: String, [ResourceID: String])
        /// What moved since it was made.
        case stale(plan: String, [String])

        public var description: String {
            switch self {
            case .manifestsChanged(let plan, let paths):
                return
                    "the manifests in \(paths.joined(separator: ", ")) changed since plan \(plan) was made; plan again"
            case .alreadyDecided(let plan, let status):
                return "plan \(plan) was already \(status.rawValue); plan again"
            case .unobservable(let plan, let errors):
                return "cannot check plan \(plan): "
                    + errors.keys.sorted().map { "\($0) could not be observed: \(errors[$0]!)" }.joined(separator: "; ")
            case .stale(let plan, let moved):
                return "plan \(plan) is stale; nothing was applied:\n" + moved.map { "  \($0)\n" }.joined()
                    + "plan again to see what changed"
            }
        }
    }

    /// The manifests as loaded now are the plan's (checked before anything is opened or locked).
    public static func checkManifests(_ plan: Plan, resources: [Resource]) throws(Refusal) {
        guard Planner.manifestDigest(of: resources) == plan.source.manifestDigest else {
            throw .manifestsChanged(plan: plan.id, paths: plan.source.paths)
        }
    }

    /// The plan to apply: not decided since, nothing it touches moved (observed again through `pipeline`), approvals
    /// decided anew from `resources`.
    public static func verify(
        _ saved: SavedPlan,
        resources: [Resource],
        store: any StateStore,
        pipeline: PlanPipeline
    ) async throws -> Plan {
        var plan = saved.plan
        if let stored = try await store.storedPlan(id: plan.id), stored.status == .applied || stored.status == .rejected
        {
            throw Refusal.alreadyDecided(plan: plan.id, status: stored.status)
        }
        let annotated = Set(resources.filter(ApprovalRule.isAnnotated).map(\.id))
        for i in plan.actions.indices {
            plan.actions[i].requiresApproval = ApprovalRule.requiresApproval(
                plan.actions[i],
                annotated: annotated.contains(plan.actions[i].resource)
            )
        }
        // Re-observe what the plan touches; anything else may have changed freely.
        let owned = try await store.ownedResources()
        let byID = Dictionary(resources.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let touched = plan.fingerprints.keys.sorted().map { id in
            byID[id].map {
                ResolvedResource(resource: $0, providerID: owned[id]?.providerID, lastApplied: owned[id]?.spec)
            }
                ?? .orphan(id, providerID: owned[id]?.providerID, lastApplied: owned[id]?.spec)
        }
        let (now, errors) = await pipeline.observe(touched)
        if !errors.isEmpty { throw Refusal.unobservable(plan: plan.id, errors) }
        let moved = PlanStaleness.check(plan, observedThen: saved.observed, observedNow: now)
        guard moved.isEmpty else { throw Refusal.stale(plan: plan.id, moved.map(\.summary)) }
        return plan
    }
}
