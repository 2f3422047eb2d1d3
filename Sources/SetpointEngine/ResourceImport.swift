public import SetpointCore
public import SetpointState

/// `setpoint import`: adopts an existing object as the resource a manifest declares — the provider looks it up (by id
/// or by name), and the state records it as owned, with what is observed of the fields the manifest sets as its last
/// applied values, so the next plan shows only the differences to the manifest. Audited as `import`. The caller
/// holds the lease (the CLI takes it; the leading controller has it).
public enum ResourceImport {
    /// Why an object was not adopted, for the person who asked.
    public struct Refused: Error, CustomStringConvertible {
        public var description: String
    }

    /// Adopts `declared`; returns the line to print.
    public static func adopt(
        _ declared: Resource,
        id: String?,
        provider: any Provider,
        store: any StateStore,
        context: ProviderContext,
        actor: String,
        clock: any SetpointClock,
        how: String? = nil
    ) async throws -> String {
        let target = declared.id
        guard KindRegistry.definition(for: target.kind)?.isManaged ?? false else {
            throw Refused(
                description: "\(target.kind) is a referenced kind: it is never owned, so there is nothing to import"
            )
        }
        if let owned = try await store.owned(target) {
            throw Refused(
                description: "\(target) is already owned (id \(owned.providerID ?? "none")); nothing to import"
            )
        }
        let lookedUp = try await provider.lookup(declared, id: id, in: context)
        if case .failed(let why) = lookedUp { throw Refused(description: "\(target) cannot be adopted: \(why)") }
        guard case .present(let found) = lookedUp else {
            throw Refused(
                description: "no existing object found for \(target)\(id.map { " with id \($0)" } ?? ""); check the id"
            )
        }
        // Last applied = what exists now, for the fields the manifest sets: the next plan shows manifest changes only.
        try await store.recordApplied(
            AppliedResource(
                id: target,
                providerID: found.providerID ?? id,
                spec: restrict(found.spec, to: declared.spec),
                dependsOn: declared.references.map(\.target)
            )
        )
        var detail: [String: Value] = [
            "resource": .string(target.description), "id": found.providerID.map(Value.string) ?? .null,
        ]
        if let how { detail["how"] = .string(how) }
        try await AuditTrail(log: store, actor: actor, clock: clock).record(.import, detail: .map(detail))
        return
            "imported \(target)\(found.providerID.map { " (id \($0))" } ?? ""); plan shows its differences to the manifest"
    }

    /// The observed spec, only where the desired one sets a field (secrets left out).
    public static func restrict(_ observed: Value, to desired: Value) -> Value {
        guard case .map(let o) = observed, case .map(let d) = desired else { return observed }
        var out: [String: Value] = [:]
        for (key, want) in d {
            if case .secret = want { continue }
            if let have = o[key] { out[key] = restrict(have, to: want) }
        }
        return .map(out)
    }
}
