/// The planner's working state for one plan.
struct PlanBuilder {
    let request: PlanRequest
    var actions: [Action] = []
    var diagnostics: [Diagnostic] = []
    var fingerprints: [ResourceID: String] = [:]
    var orphans: [ResourceID] = []
    /// The last action planned for each resource: what dependents wait for.
    var lastAction: [ResourceID: ActionID] = [:]

    init(request: PlanRequest) {
        self.request = request
    }

    mutating func build() {
        let byID = Dictionary(request.desired.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let edges = request.desired.flatMap { r in r.references.map { (from: r.id, to: $0.target) } }
        let graph = DependencyGraph(nodes: Array(byID.keys), edges: edges)
        var selected = Set(byID.keys)
        if !request.options.targets.isEmpty {
            selected = []
            var stack = request.options.targets
            while let id = stack.popLast() {
                guard selected.insert(id).inserted else { continue }
                stack.append(contentsOf: graph.dependencies[id] ?? [])
            }
            selected.formIntersection(byID.keys)
        }
        let order = graph.topologicalOrder() ?? graph.nodes
        for id in order where selected.contains(id) {
            planResource(byID[id]!, dependencies: graph.dependencies[id] ?? [])
        }
        if request.options.targets.isEmpty { planOrphans(desired: Set(byID.keys)) }
    }

    // MARK: - one desired resource

    mutating func planResource(_ r: Resource, dependencies: [ResourceID]) {
        let waitFor = dependencies.compactMap { lastAction[$0] }
        let approvalRequired = ApprovalRule.isAnnotated(r)
        if let message = request.observeErrors[r.id] {
            diagnostics.append(
                Diagnostic(
                    .error,
                    .observeFailed,
                    "could not observe: \(message)",
                    hint: "other resources still plan; fix what the message says and plan again",
                    at: r.location,
                    resource: r.id
                )
            )
            return
        }
        let observation = request.observed[r.id] ?? .absent
        if request.resumeCreates.contains(r.id), case .present(let found) = observation, request.applied[r.id] == nil {
            add(
                Action(
                    resource: r.id,
                    verb: .create,
                    changes: [],
                    impact: .hot,
                    reasons: ["resuming an interrupted create: its journal holds id \(found.providerID ?? "?")"],
                    dependsOn: waitFor,
                    requiresApproval: approvalRequired,
                    desired: r.spec,
                    providerID: found.providerID
                ),
                for: r.id
            )
            return
        }
        guard case .present(let observed) = observation else {
            guard KindRegistry.definition(for: r.id.kind)?.isManaged ?? true else {
                diagnostics.append(
                    Diagnostic(
                        .error,
                        .referencedMissing,
                        "it does not exist",
                        hint: "\(r.id.kind) is referenced, never created: check its endpoints and credentials",
                        at: r.location,
                        resource: r.id
                    )
                )
                return
            }
            let changes = topLevelFields(of: r.spec).map { key, value in
                // Only a secret itself is sensitive; secrets nested deeper print "(sensitive)" on their own.
                FieldChange(
                    path: [key],
                    before: nil,
                    after: value,
                    isSensitive: { if case .secret = value { true } else { false } }(),
                    origin: .manifest,
                    impact: .hot
                )
            }
            add(
                Action(
                    resource: r.id,
                    verb: .create,
                    changes: changes,
                    impact: .hot,
                    reasons: ["\(r.id) does not exist"],
                    dependsOn: waitFor,
                    requiresApproval: approvalRequired,
                    desired: r.spec
                ),
                for: r.id
            )
            return
        }
        for warning in observed.warnings ?? [] {
            diagnostics.append(
                Diagnostic(
                    .warning,
                    .providerWarning,
                    warning,
                    hint: "see the message; the plan can go ahead",
                    at: r.location,
                    resource: r.id
                )
            )
        }
        let policy = request.policies(r.id.kind)
        let differ = Differ(policy: policy, ignore: ignorePaths(r), fingerprint: request.fingerprint)
        let applied = request.applied[r.id]
        let changes = differ.diff(
            desired: r.spec,
            lastApplied: applied?.spec,
            observed: observed.spec,
            pending: observed.pending
        )
        for change in changes {
            if let message = policy.rule(for: change.path)?.check?(change) {
                diagnostics.append(
                    Diagnostic(
                        .error,
                        .changeRefused,
                        "spec.\(change.path): \(message)",
                        hint: "change the manifest back, or replace the resource deliberately",
                        at: r.location(of: FieldPath([.key("spec")] + change.path.components)),
                        resource: r.id
                    )
                )
            }
        }
        let providerID = observed.providerID ?? applied?.providerID
        if changes.contains(where: { $0.impact == .replace }) {
            let reasons = changes.filter { $0.impact == .replace }.map {
                "spec.\($0.path) forces replacement" + ($0.reason.map { ": \($0)" } ?? "")
            }
            add(
                Action(
                    resource: r.id,
                    verb: .replace,
                    changes: changes,
                    impact: changes.map(\.impact).max()!,
                    reasons: reasons,
                    dependsOn: waitFor,
                    requiresApproval: true,
                    desired: r.spec,
                    providerID: providerID
                ),
                for: r.id
            )
            return
        }
        var previous = waitFor
        var planned = false
        // Plain updates first, then typed operations (resize, migrate …), each after the one before.
        let byVerb = Dictionary(grouping: changes) { policy.rule(for: $0.path)?.verb ?? .update }
        for verb in [Verb.update] + byVerb.keys.filter({ $0 != .update }).sorted(by: { $0.rawValue < $1.rawValue }) {
            guard let group = byVerb[verb], !group.isEmpty else { continue }
            let impact = group.map(\.impact).max()!
            var reasons = Array(Set(group.compactMap(\.reason))).sorted()
            if group.contains(where: { $0.origin == .drift }) {
                reasons.insert("drift: the system no longer matches the last apply", at: 0)
            }
            // A restart-impact change the provider cannot stage restarts the service: risky like a restart. Only plain
            // updates are staged; a typed operation with restart impact (a container's restart-mode migration) is
            // itself the restart.
            let approvalReasons =
                policy.requiresApproval.map { check in group.compactMap { check($0.path, observed.spec, $0.after) } }
                ?? []
            reasons += approvalReasons
            let risky = ApprovalRule.requiresApproval(
                verb: verb,
                impact: impact,
                annotated: approvalRequired,
                providerSays: (impact == .restart && (!policy.stagesRestarts || verb != .update))
                    || !approvalReasons.isEmpty
            )
            add(
                Action(
                    resource: r.id,
                    verb: verb,
                    changes: group,
                    impact: impact,
                    reasons: reasons,
                    dependsOn: previous,
                    requiresApproval: risky,
                    desired: r.spec,
                    providerID: providerID
                ),
                for: r.id
            )
            previous = [lastAction[r.id]!]
            planned = true
        }
        let stagedNow = changes.contains {
            $0.impact == .restart && (policy.rule(for: $0.path)?.verb ?? .update) == .update
        }
        let stagedBefore = hasPending(observed.pending)
        if policy.stagesRestarts, stagedNow || stagedBefore {
            let reason =
                stagedNow ? "restart-impact changes take effect at the next restart" : "changes are pending restart"
            add(
                Action(
                    resource: r.id,
                    verb: .restart,
                    impact: .restart,
                    reasons: [reason],
                    dependsOn: previous,
                    requiresApproval: true,
                    desired: r.spec,
                    providerID: providerID
                ),
                for: r.id
            )
            planned = true
        }
        if !planned {
            add(
                Action(resource: r.id, verb: .noop, dependsOn: [], desired: r.spec, providerID: providerID),
                for: r.id,
                isChange: false
            )
        }
    }

    // MARK: - orphans

    mutating func planOrphans(desired: Set<ResourceID>) {
        let owned = request.applied.keys.filter { !desired.contains($0) }.sorted()
        orphans = owned
        guard request.options.prune, !owned.isEmpty else { return }
        if request.desired.isEmpty {
            diagnostics.append(
                Diagnostic(
                    .warning,
                    .pruneRefused,
                    "no resources in the manifests: nothing is pruned",
                    hint: "an empty manifest set never prunes; check the paths given"
                )
            )
            return
        }
        // Delete dependents first: an orphan waits for the deletes of orphans that depend on it.
        let orphanSet = Set(owned)
        var dependents: [ResourceID: [ResourceID]] = [:]
        for id in owned {
            for dep in request.applied[id]!.dependsOn where orphanSet.contains(dep) {
                dependents[dep, default: []].append(id)
            }
        }
        let graph = DependencyGraph(
            nodes: owned,
            edges: owned.flatMap { id in (dependents[id] ?? []).map { (from: id, to: $0) } }
        )
        for id in graph.topologicalOrder() ?? owned {
            let waitFor = (dependents[id] ?? []).compactMap { lastAction[$0] }
            add(
                Action(
                    resource: id,
                    verb: .delete,
                    impact: .dataLoss,
                    reasons: ["\(id) is owned but no manifest declares it (--prune)"],
                    dependsOn: waitFor,
                    requiresApproval: true,
                    providerID: request.applied[id]?.providerID
                ),
                for: id
            )
        }
    }

    // MARK: - helpers

    /// Records an action. A resource the plan touches gets the fingerprint of what was observed, so a saved plan
    /// can tell later whether that resource moved; untouched resources need none.
    mutating func add(_ action: Action, for id: ResourceID, isChange: Bool = true) {
        actions.append(action)
        guard isChange else { return }
        lastAction[id] = action.id
        if fingerprints[id] == nil { fingerprints[id] = (request.observed[id] ?? .absent).fingerprint }
    }

    func ignorePaths(_ r: Resource) -> [String] {
        r.metadata.ignore
    }

    func topLevelFields(of spec: Value) -> [(String, Value)] {
        guard case .map(let m) = spec else { return [] }
        return m.keys.sorted().map { ($0, m[$0]!) }
    }

    func hasPending(_ pending: Value?) -> Bool {
        switch pending {
        case .map(let m)?: !m.isEmpty
        case nil, .null?: false
        default: true
        }
    }

    func finish() -> Plan {
        let manifestDigest = request.manifestDigest ?? Planner.manifestDigest(of: request.desired)
        let source = request.source ?? Plan.Source(paths: [], manifestDigest: manifestDigest)
        var withDigest = source
        withDigest.manifestDigest = manifestDigest
        let ownershipUnknown =
            request.hasState
            ? []
            : Array(
                Set(request.desired.map(\.id.kind)).filter {
                    KindRegistry.definition(for: $0)?.isManaged ?? true
                }
            ).sorted()
        let idSeed =
            manifestDigest + actions.map(\.id.description).joined(separator: ",")
            + fingerprints.keys.sorted().map { fingerprints[$0]! }.joined()
        return Plan(
            id: String(SHA256.hex(idSeed).prefix(12)),
            createdAt: request.createdAt,
            source: withDigest,
            actions: actions,
            fingerprints: fingerprints,
            orphans: orphans,
            diagnostics: diagnostics,
            ownershipUnknown: ownershipUnknown
        )
    }
}
