/// Decides whether a saved plan still holds: only resources the plan touches matter, and for each one that moved
/// the fields that moved are named.
public enum PlanStaleness {
    public struct Moved: Sendable, Hashable {
        public var resource: ResourceID
        /// Spec paths whose observed value differs from when the plan was made; empty when the resource appeared,
        /// disappeared or only its staged (pending) values or id changed.
        public var fields: [FieldPath]
        public var summary: String
    }

    /// - Parameters:
    ///   - plan: the saved plan (its `fingerprints` cover exactly the touched resources).
    ///   - observedThen: what was observed of the touched resources when planning.
    ///   - observedNow: a fresh observation of the same resources.
    public static func check(
        _ plan: Plan,
        observedThen: [ResourceID: Observation],
        observedNow: [ResourceID: Observation]
    ) -> [Moved] {
        var moved: [Moved] = []
        for (id, fingerprint) in plan.fingerprints.sorted(by: { $0.key < $1.key }) {
            let now = observedNow[id] ?? .absent
            guard now.fingerprint != fingerprint else { continue }
            switch (observedThen[id] ?? .absent, now) {
            case (.absent, .present):
                moved.append(Moved(resource: id, fields: [], summary: "\(id) was created since the plan was made"))
            case (.present, .absent):
                moved.append(Moved(resource: id, fields: [], summary: "\(id) was deleted since the plan was made"))
            case (.present(let a), .present(let b)):
                let fields = changedPaths(a.spec, b.spec, FieldPath())
                let list =
                    fields.isEmpty ? "its pending changes or id" : fields.map { "spec.\($0)" }.joined(separator: ", ")
                moved.append(
                    Moved(resource: id, fields: fields, summary: "\(id) changed since the plan was made: \(list)")
                )
            case (.absent, .absent):
                continue
            case (_, .failed(let why)):
                moved.append(Moved(resource: id, fields: [], summary: "\(id) cannot be observed now: \(why)"))
            case (.failed, _):
                moved.append(
                    Moved(resource: id, fields: [], summary: "\(id) could not be observed when the plan was made")
                )
            }
        }
        return moved
    }

    static func changedPaths(_ a: Value, _ b: Value, _ path: FieldPath) -> [FieldPath] {
        guard case .map(let x) = a, case .map(let y) = b else { return a == b ? [] : [path] }
        return Set(x.keys).union(y.keys).sorted().flatMap { key -> [FieldPath] in
            switch (x[key], y[key]) {
            case (let u?, let v?): changedPaths(u, v, path.appending(key))
            case (nil, nil): []
            default: [path.appending(key)]
            }
        }
    }
}
