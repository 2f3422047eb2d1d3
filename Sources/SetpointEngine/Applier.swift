public import SetpointCore
public import SetpointState

/// Carries out a plan: walks its DAG, runs independent actions in parallel (up to `parallelism`, and within each
/// concurrency domain's limit), confirms each result by re-observing, records what was applied, and stops the
/// dependents of a failed action without stopping unrelated work.
public struct Applier: Sendable {
    public var registry: ProviderRegistry
    public var context: ProviderContext
    public var store: any StateStore
    public var parallelism: Int
    /// Ids of risky actions approved for this run; `approveAllRisky` approves every one.
    public var approved: Set<String>
    public var approveAllRisky: Bool
    public var interruption: Interruption
    /// Write-only fingerprints, as used when planning.
    public var fingerprint: @Sendable (FieldPath, Value) -> String

    public init(
        registry: ProviderRegistry, context: ProviderContext, store: any StateStore, parallelism: Int = 8,
        approved: Set<String> = [], approveAllRisky: Bool = false, interruption: Interruption = Interruption(),
        fingerprint: @escaping @Sendable (FieldPath, Value) -> String = Differ.referenceFingerprint
    ) {
        self.registry = registry
        self.context = context
        self.store = store
        self.parallelism = max(1, parallelism)
        self.approved = approved
        self.approveAllRisky = approveAllRisky
        self.interruption = interruption
        self.fingerprint = fingerprint
    }

    /// Applies the plan's change actions. `resources` are the desired resources by id (absent for deletes).
    public func apply(
        _ plan: Plan, resources: [ResourceID: Resource], onEvent: @escaping @Sendable (ApplyEvent) -> Void = { _ in }
    ) async -> ApplyReport {
        var walk = ApplyWalk(actions: plan.changes)
        var report = ApplyReport()
        // Risky actions without approval never start; neither do their dependents.
        for action in walk.pending where action.requiresApproval && !(approveAllRisky || approved.contains(action.id)) {
            walk.skip(action.id, .awaitingApproval, report: &report, onEvent: onEvent)
        }
        await withTaskGroup(of: (String, String?).self) { group in
            var domainsInUse: [String: Int] = [:]
            var running = 0
            func launchReady() {
                guard !interruption.isInterrupted else { return }
                for action in walk.ready() where running < parallelism {
                    guard let provider = registry.provider(for: action.resource.kind) else {
                        walk.finish(action.id, error: "no provider for kind \(action.resource.kind)", report: &report, onEvent: onEvent)
                        continue
                    }
                    let domains = provider.concurrencyDomains(for: action)
                    guard domains.allSatisfy({ domainsInUse[$0.name, default: 0] < $0.limit }) else { continue }
                    for d in domains { domainsInUse[d.name, default: 0] += 1 }
                    walk.markRunning(action.id)
                    running += 1
                    onEvent(.started(action))
                    let runner = ActionRunner(provider: provider, context: context, store: store, fingerprint: fingerprint)
                    let resource = resources[action.resource]
                    group.addTask {
                        let start = ContinuousClock.now
                        do {
                            try await runner.run(action, resource: resource)
                            onEvent(.succeeded(action, ContinuousClock.now - start))
                            return (action.id, nil)
                        } catch {
                            return (action.id, "\(error)")
                        }
                    }
                }
            }
            launchReady()
            while let (id, error) = await group.next() {
                running -= 1
                if let action = walk.action(id), let provider = registry.provider(for: action.resource.kind) {
                    for d in provider.concurrencyDomains(for: action) { domainsInUse[d.name, default: 1] -= 1 }
                }
                walk.finish(id, error: error, report: &report, onEvent: onEvent)
                if interruption.isInterrupted, !report.wasInterrupted {
                    report.wasInterrupted = true
                    onEvent(.interrupted(inFlight: walk.runningIDs))
                }
                launchReady()
            }
        }
        if interruption.isInterrupted {
            report.wasInterrupted = true
            for action in walk.pending { walk.skip(action.id, .interrupted, report: &report, onEvent: onEvent) }
        }
        // Anything still pending waits on something that cannot start (a domain never free): report it.
        for action in walk.pending { walk.skip(action.id, .interrupted, report: &report, onEvent: onEvent) }
        onEvent(.finished(report))
        return report
    }
}
