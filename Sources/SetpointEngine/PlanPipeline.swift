public import SetpointCore
public import SetpointState

/// Observe → diff → plan for a set of desired resources: what `setpoint plan` and `apply` run before anything changes.
///
/// Each provider observes its resources in one bulk call; providers run concurrently. A provider that fails turns
/// into an observation error for its resources only (SP2001), so the rest still plans.
public struct PlanPipeline: Sendable {
    public var registry: ProviderRegistry
    public var context: ProviderContext
    /// Nil when there is no state yet (nothing owned; ownership of managed kinds unknown).
    public var store: (any StateStore)?
    public var fingerprint: @Sendable (FieldPath, Value) -> String

    public init(
        registry: ProviderRegistry,
        context: ProviderContext,
        store: (any StateStore)?,
        fingerprint: @escaping @Sendable (FieldPath, Value) -> String = Differ.referenceFingerprint
    ) {
        self.registry = registry
        self.context = context
        self.store = store
        self.fingerprint = fingerprint
    }

    /// Plans `desired` against what is observed now.
    public func plan(
        _ desired: [Resource],
        options: PlanOptions = PlanOptions(),
        source: Plan.Source? = nil,
        createdAt: String = ""
    ) async throws -> Plan {
        try await planAndObservations(desired, options: options, source: source, createdAt: createdAt).plan
    }

    /// Plans, and returns what was observed of the resources the plan touches (what a saved plan keeps).
    public func planAndObservations(
        _ desired: [Resource],
        options: PlanOptions = PlanOptions(),
        source: Plan.Source? = nil,
        createdAt: String = ""
    ) async throws -> (plan: Plan, observed: [ResourceID: Observation]) {
        let applied = try await store?.ownedResources() ?? [:]
        // Ids a dead apply reserved and journaled before it could record the object as owned.
        var journaled: [ResourceID: String] = [:]
        for (action, entries) in try await store?.openJournals() ?? [:] {
            if let id = entries[StoreJournal.providerIDKey] { journaled[action.resource] = id }
        }
        let desiredIDs = Set(desired.map(\.id))
        var toObserve = desired.map {
            ResolvedResource(
                resource: $0,
                providerID: applied[$0.id]?.providerID ?? journaled[$0.id],
                lastApplied: applied[$0.id]?.spec
            )
        }
        for (id, record) in applied where !desiredIDs.contains(id) {
            toObserve.append(.orphan(id, providerID: record.providerID, lastApplied: record.spec))
        }
        let (observed, errors) = await observe(toObserve)
        let registry = self.registry
        var request = PlanRequest(
            desired: desired,
            applied: applied,
            observed: observed,
            observeErrors: errors,
            policies: { kind in registry.provider(for: kind)?.fieldPolicy(for: kind) ?? FieldPolicy() },
            fingerprint: fingerprint,
            options: options,
            hasState: store != nil,
            source: source,
            createdAt: createdAt
        )
        request.resumeCreates = Set(journaled.keys)
        let plan = Planner().plan(request)
        let touched = observed.filter { plan.fingerprints[$0.key] != nil }
        return (plan, touched)
    }

    /// Observes resources, one bulk call per provider, providers in parallel.
    public func observe(_ resources: [ResolvedResource]) async -> ([ResourceID: Observation], [ResourceID: String]) {
        var byProvider: [Int: [ResolvedResource]] = [:]
        var errors: [ResourceID: String] = [:]
        for r in resources {
            guard let index = registry.index(for: r.id.kind) else {
                errors[r.id] = "this build has no provider for \(r.id.kind)"
                continue
            }
            byProvider[index, default: []].append(r)
        }
        let registry = self.registry
        let context = self.context
        return await withTaskGroup(of: ([ResourceID: Observation], [ResourceID: String]).self) { group in
            for (index, batch) in byProvider {
                group.addTask {
                    do {
                        var found = try await registry.providers[index].observe(batch, in: context)
                        var missing: [ResourceID: String] = [:]
                        for r in batch where found[r.id] == nil {
                            missing[r.id] = "the provider returned no observation"
                        }
                        for (id, observation) in found {
                            if case .failed(let why) = observation {
                                missing[id] = why
                                found[id] = nil
                            }
                        }
                        return (found, missing)
                    } catch {
                        return ([:], Dictionary(batch.map { ($0.id, "\(error)") }, uniquingKeysWith: { a, _ in a }))
                    }
                }
            }
            var observed: [ResourceID: Observation] = [:]
            for await (found, failed) in group {
                observed.merge(found) { a, _ in a }
                errors.merge(failed) { a, _ in a }
            }
            return (observed, errors)
        }
    }
}
