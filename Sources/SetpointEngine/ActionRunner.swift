import SetpointCore
import SetpointState

/// Runs one action: the provider applies it, a fresh observation confirms it, state records it.
struct ActionRunner: Sendable {
    let provider: any Provider
    let context: ProviderContext
    let store: any StateStore
    let fingerprint: @Sendable (FieldPath, Value) -> String

    func run(_ action: Action, resource: Resource?) async throws {
        var context = self.context
        context.journal = StoreJournal(store: store, action: action.id)
        let previous = try await store.owned(action.resource)?.spec
        var resolved =
            resource.map { ResolvedResource(resource: $0, providerID: action.providerID, lastApplied: previous) }
            ?? .orphan(action.resource, providerID: action.providerID, lastApplied: previous)
        let result = try await provider.apply(action, resource: resolved, in: context)
        // A create learns the object's id from the provider (or its journal); confirm by that id.
        if let id = result.resource?.providerID { resolved.providerID = id }
        try await confirm(action, resource: resource, resolved: resolved)
        try await store.clearJournal(action: action.id)
    }

    private func confirm(_ action: Action, resource: Resource?, resolved: ResolvedResource) async throws {
        // Confirm by observing again, not by trusting what apply returned.
        let observed = try await provider.observe([resolved], in: context)[action.resource] ?? .absent
        switch (action.verb, observed) {
        case (.delete, .absent):
            try await store.forget(action.resource)
            return
        case (.delete, .present):
            throw SetpointError(.notConverged, "still exists after delete", resource: action.resource)
        case (_, .absent):
            throw SetpointError(.notConverged, "does not exist after \(action.verb)", resource: action.resource)
        case (_, .failed(let why)):
            throw SetpointError(
                .notConverged,
                "cannot be observed after \(action.verb): \(why)",
                resource: action.resource
            )
        case (_, .present(let now)):
            guard let resource else { return }
            let policy = provider.fieldPolicy(for: action.resource.kind)
            let differ = Differ(policy: policy, ignore: resource.metadata.ignore, fingerprint: fingerprint)
            let previous = try await store.owned(action.resource)
            let applied = differ.appliedForm(of: resource.spec)
            // What this action was meant to change must now match (write-only values cannot be observed back).
            let remaining = differ.diff(
                desired: resource.spec,
                lastApplied: applied,
                observed: now.spec,
                pending: now.pending
            )
            let mine = Set(action.changes.map(\.path))
            let unconverged =
                action.verb == .create || action.verb == .replace
                ? remaining
                : remaining.filter { change in
                    mine.contains { isPrefix($0, of: change.path) || isPrefix(change.path, of: $0) }
                }
            if action.verb == .restart, let pending = now.pending, pending != .null, pending != .map([:]) {
                throw SetpointError(.notConverged, "changes still pending after restart", resource: action.resource)
            }
            if let first = unconverged.first(where: { $0.impact != .restart || !policy.stagesRestarts }) {
                throw SetpointError(
                    .notConverged,
                    "spec.\(first.path) is \(first.before?.description ?? "unset") after \(action.verb), "
                        + "expected \(first.isSensitive ? "(sensitive)" : first.after?.description ?? "unset")",
                    resource: action.resource
                )
            }
            // A create or replace establishes the whole spec. Any other action records what now matches the manifest —
            // the fields it changed and those that converged by other means (a primary moved by a failover) — but not
            // fields that still differ and belong to another action (a failed resize after an update), which keep their
            // previous record.
            var recorded = applied
            if action.verb != .create, action.verb != .replace, let previous {
                for change in remaining
                where !mine.contains(where: { isPrefix($0, of: change.path) || isPrefix(change.path, of: $0) }) {
                    let keys = change.path.components.compactMap { c -> String? in
                        if case .key(let k) = c { k } else { nil }
                    }
                    var old: Value? = previous.spec
                    for k in keys { old = old?[k] }
                    recorded = old.map { recorded.setting(keys, to: $0) } ?? recorded.removing(keys)
                }
            }
            try await store.recordApplied(
                AppliedResource(
                    id: action.resource,
                    providerID: now.providerID ?? previous?.providerID,
                    spec: recorded,
                    dependsOn: resource.references.map(\.target)
                )
            )
        }
    }

    private func isPrefix(_ a: FieldPath, of b: FieldPath) -> Bool {
        a.components.count <= b.components.count && Array(b.components.prefix(a.components.count)) == a.components
    }
}
