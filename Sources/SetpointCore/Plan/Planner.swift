/// Computes a plan from desired, last applied and observed state. Pure and deterministic: no I/O, no clock.
///
/// ```swift
/// let plan = Planner().plan(PlanRequest(desired: set.resources, applied: owned, observed: observed,
///                                       policies: { registry.provider(for: $0)!.fieldPolicy(for: $0) }))
/// ```
public struct Planner: Sendable {
    public init() {}

    public func plan(_ request: PlanRequest) -> Plan {
        var builder = PlanBuilder(request: request)
        builder.build()
        return builder.finish()
    }

    /// The digest of a desired state (ids, specs, annotations), as recorded in `Plan.Source.manifestDigest`: the
    /// SHA-256 of every resource's own digest, in id order.
    public static func manifestDigest(of resources: [Resource]) -> String {
        combine(resources.map { ($0.id, $0.contentDigest()) })
    }

    /// The manifest digest from per-resource content digests (computed elsewhere, e.g. in parallel).
    public static func combine(_ digests: [(ResourceID, String)]) -> String {
        var text = ""
        text.reserveCapacity(digests.count * 96)
        for (id, digest) in digests.sorted(by: { $0.0 < $1.0 }) { text += "\(id)\t\(digest)\n" }
        return "sha256:" + SHA256.hex(text)
    }
}

/// Everything a plan is computed from.
public struct PlanRequest: Sendable {
    public var desired: [Resource]
    /// Owned resources from state.
    public var applied: [ResourceID: AppliedResource]
    public var observed: [ResourceID: Observation]
    /// Resources that could not be observed, with the provider's message; other resources still plan.
    public var observeErrors: [ResourceID: String]
    public var policies: @Sendable (ResourceKind) -> FieldPolicy
    /// Fingerprints for write-only values (the engine resolves secrets); see `Differ.fingerprint`.
    public var fingerprint: @Sendable (FieldPath, Value) -> String
    public var options: PlanOptions
    /// False when there was no state to read: ownership of managed kinds is then unknown.
    public var hasState: Bool
    public var source: Plan.Source?
    public var createdAt: String
    /// Resources whose create was interrupted (an open action journal): their create is planned again, to resume
    /// with the journal (the provider finds what it reserved instead of creating a second object).
    public var resumeCreates: Set<ResourceID> = []
    /// The manifest digest when the caller computed it already (in parallel); nil computes it here.
    public var manifestDigest: String?

    public init(
        desired: [Resource],
        applied: [ResourceID: AppliedResource] = [:],
        observed: [ResourceID: Observation],
        observeErrors: [ResourceID: String] = [:],
        policies: @escaping @Sendable (ResourceKind) -> FieldPolicy,
        fingerprint: @escaping @Sendable (FieldPath, Value) -> String = Differ.referenceFingerprint,
        options: PlanOptions = PlanOptions(),
        hasState: Bool = true,
        source: Plan.Source? = nil,
        createdAt: String = ""
    ) {
        self.desired = desired
        self.applied = applied
        self.observed = observed
        self.observeErrors = observeErrors
        self.policies = policies
        self.fingerprint = fingerprint
        self.options = options
        self.hasState = hasState
        self.source = source
        self.createdAt = createdAt
    }
}

public struct PlanOptions: Sendable, Hashable {
    /// Turn orphans into delete actions.
    public var prune: Bool
    /// Limit the plan to these resources and what they depend on (empty: everything).
    public var targets: [ResourceID]

    public init(prune: Bool = false, targets: [ResourceID] = []) {
        self.prune = prune
        self.targets = targets
    }
}
