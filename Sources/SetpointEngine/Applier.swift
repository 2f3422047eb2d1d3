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
    public var approved: Set<ActionID>
    public var approveAllRisky: Bool
    public var interruption: Interruption
    /// Write-only fingerprints, as used when planning.
    public var fingerprint: @Sendable (FieldPath, Value) -> String
    /// Where the plan, each action's intent and outcome, and interruptions are recorded; nil records nothing.
    public var audit: AuditTrail?

    public init(
        registry: ProviderRegistry,
        context: ProviderContext,
        store: any StateStore,
        parallelism: Int = 8,
        approved: Set<ActionID> = [],
        approveAllRisky: Bool = false,
        interruption: Interruption = Interruption(),
        fingerprint: @escaping @Sendable (FieldPath, Value) -> String = Differ.referenceFingerprint,
        audit: AuditTrail? = nil
    ) {
        self.audit = audit
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
    /// - Throws: only when the plan cannot be recorded in the audit log: then nothing is changed.
    public func apply(
        _ plan: Plan,
        resources: [ResourceID: Resource],
        onEvent: @escaping @Sendable (ApplyEvent) -> Void = { _ in }
    ) async throws -> ApplyReport {
        // A dead apply left actions in flight: say so, and that this one picks them up.
        let open = try await store.openJournals().filter { $0.value["failed"] == nil }
        if !open.isEmpty {
            let actions = Value.list(open.keys.sorted().map { .string($0.description) })
            try await audit?.record(
                .interrupted,
                detail: .map([
                    "reason": .string("a previous apply stopped with these actions in flight"), "actions": actions,
                ])
            )
            try await audit?.record(.resumed, plan: plan, detail: .map(["actions": actions]))
            // An action in flight that this plan no longer has found nothing left to do: the dead apply finished it
            // (it was killed after recording the object, before clearing the journal). Its journal goes now; one
            // this plan has is cleared by the action when it completes.
            let planned = Set(plan.changes.map(\.id))
            for action in open.keys where !planned.contains(action) {
                try await store.clearJournal(action: action)
            }
        }
        // The plan is in the audit log (durably) before the first change.
        try await audit?.record(.plan, plan: plan, detail: AuditTrail.detail(of: plan))
        let audit = self.audit
        var walk = ApplyWalk(actions: plan.changes)
        var report = ApplyReport()
        // Risky actions without approval never start; neither do their dependents.
        for action in walk.pending where action.requiresApproval && !(approveAllRisky || approved.contains(action.id)) {
            walk.skip(action.id, .awaitingApproval, report: &report, onEvent: onEvent)
        }
        var terminal: Set<ActionID> = []
        await withTaskGroup(of: (ActionID, String?, Bool).self) { group in
            var domainsInUse: [String: Int] = [:]
            var running = 0
            func launchReady() {
                guard !interruption.isInterrupted else { return }
                var unprovided: [Action] = []
                let started = walk.takeReady(limit: parallelism - running) { action in
                    guard let provider = registry.provider(for: action.resource.kind) else {
                        unprovided.append(action)
                        return true
                    }
                    let domains = provider.concurrencyDomains(for: action)
                    guard domains.allSatisfy({ domainsInUse[$0.name, default: 0] < $0.limit }) else { return false }
                    for d in domains { domainsInUse[d.name, default: 0] += 1 }
                    return true
                }
                for action in started {
                    if unprovided.contains(where: { $0.id == action.id }) {
                        walk.finish(
                            action.id,
                            error: "no provider for kind \(action.resource.kind)",
                            report: &report,
                            onEvent: onEvent
                        )
                        continue
                    }
                    let provider = registry.provider(for: action.resource.kind)!
                    running += 1
                    onEvent(.started(action))
                    let runner = ActionRunner(
                        provider: provider,
                        context: context,
                        store: store,
                        fingerprint: fingerprint
                    )
                    let resource = resources[action.resource]
                    let clock = context.clock
                    group.addTask {
                        let start = clock.elapsed
                        do {
                            // Intent before the remote call; outcome after. A failure to record the intent stops the action.
                            try await audit?.record(
                                .intent,
                                plan: plan,
                                action: action,
                                detail: .map(["verb": .string(action.verb.rawValue)])
                            )
                            try await runner.run(action, resource: resource)
                            let took = clock.elapsed - start
                            do {
                                try await audit?.record(
                                    .outcome,
                                    plan: plan,
                                    action: action,
                                    result: "succeeded",
                                    detail: .map([
                                        "seconds": .double(
                                            Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18
                                        )
                                    ])
                                )
                            } catch {
                                // The change is made and recorded in state, but the audit log lacks its outcome: say so.
                                return (
                                    action.id, "done, but its outcome could not be written to the audit log: \(error)",
                                    false
                                )
                            }
                            onEvent(.succeeded(action, took))
                            return (action.id, nil, false)
                        } catch {
                            // The journal stays (a retry resumes from it) but says the action ended: it is not "in flight".
                            try? await store.recordJournal(action: action.id, key: "failed", value: "\(error)")
                            _ = try? await audit?.record(
                                .outcome,
                                plan: plan,
                                action: action,
                                result: "failed",
                                detail: .map(["error": .string("\(error)")])
                            )
                            return (action.id, "\(error)", (error as? SetpointError)?.isTerminal ?? false)
                        }
                    }
                }
            }
            launchReady()
            while let (id, error, isTerminal) = await group.next() {
                running -= 1
                if isTerminal { terminal.insert(id) }
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
            _ = try? await audit?.record(
                .interrupted,
                plan: plan,
                detail: .map([
                    "reason": .string("signal"), "notStarted": .list(report.notStarted.map { .string($0.description) }),
                ])
            )
        }
        for (id, reason) in report.skipped.sorted(by: { $0.key < $1.key }) where reason != .interrupted {
            if let action = walk.action(id) {
                try? await audit?.record(
                    .outcome,
                    plan: plan,
                    action: action,
                    result: "skipped",
                    detail: .map(["reason": .string("\(reason)")])
                )
            }
        }
        // Anything still pending could never start (a concurrency domain that never had room): a failure, not a success.
        for action in walk.pending {
            walk.markStarted(action.id)
            walk.finish(
                action.id,
                error: "could not start: its concurrency domains never had room",
                report: &report,
                onEvent: onEvent
            )
        }
        report.terminal = terminal
        onEvent(.finished(report))
        return report
    }
}
