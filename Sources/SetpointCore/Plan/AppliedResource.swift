/// What state remembers of an owned resource: the provider's id and the spec last applied.
public struct AppliedResource: Sendable, Hashable, Codable {
    public var id: ResourceID
    /// The provider's id of the object (a VMID); nil when the provider needs none.
    public var providerID: String?
    /// The desired spec as last applied, write-only values replaced by fingerprints (`Differ.appliedForm`).
    public var spec: Value
    /// What it depended on when applied, so an orphan can be deleted in the right order.
    public var dependsOn: [ResourceID]

    public init(id: ResourceID, providerID: String? = nil, spec: Value, dependsOn: [ResourceID] = []) {
        self.id = id
        self.providerID = providerID
        self.spec = spec
        self.dependsOn = dependsOn
    }
}
