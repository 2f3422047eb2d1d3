/// What a provider found for one resource.
public enum Observation: Sendable, Hashable, Codable {
    /// It does not exist.
    case absent
    /// It exists; `spec` is in the same shape as the manifest's spec, in the system's normal form.
    case present(ObservedResource)
    /// It could not be observed, for a reason of its own (a pinned VMID taken by a guest Setpoint does not own):
    /// reported like a failed observation (SP2001) for this resource only.
    case failed(String)

    public var resource: ObservedResource? {
        if case .present(let r) = self { return r }
        return nil
    }

    /// `sha256:…` of what was observed, for saved-plan staleness.
    public var fingerprint: String {
        switch self {
        case .absent: "absent"
        case .failed(let why): "failed:" + why
        case .present(let r):
            CanonicalJSON.digest(
                .map(["spec": r.spec, "pending": r.pending ?? .null, "id": r.providerID.map(Value.string) ?? .null])
            )
        }
    }
}

/// An existing object as observed.
public struct ObservedResource: Sendable, Hashable, Codable {
    public var spec: Value
    /// The provider's id for it (a VMID, a slot name), recorded in state when Setpoint owns it.
    public var providerID: String?
    /// Values staged for the next restart (PVE pending, `ALTER SYSTEM` of a postmaster parameter), in the spec's shape.
    public var pending: Value?
    /// What an operator should know about the object that does not stop a plan (more synchronous standbys wanted
    /// than stream): shown as SP2005 warnings on the resource.
    public var warnings: [String]?

    public init(spec: Value, providerID: String? = nil, pending: Value? = nil, warnings: [String]? = nil) {
        self.spec = spec
        self.providerID = providerID
        self.pending = pending
        self.warnings = warnings
    }
}
