/// One step of a plan: a verb on a resource, with the field changes that motivate it.
public struct Action: Sendable, Hashable, Codable, Identifiable {
    /// Stable within a plan: `VirtualMachine/api-1:update`.
    public var id: ActionID
    public var resource: ResourceID
    public var verb: Verb
    /// Field changes (empty for create, delete and most typed operations).
    public var changes: [FieldChange]
    /// The highest impact of the changes (for create: hot; delete: dataLoss when the provider says so).
    public var impact: Impact
    /// Why the action is planned and why it has its impact, for people. Never branched on.
    public var reasons: [String]
    /// Ids of actions that must finish first.
    public var dependsOn: [ActionID]
    /// Risky actions wait for approval: the restart verb, replace or dataLoss impact, deletes, `setpoint/approval: required`.
    public var requiresApproval: Bool
    /// The desired spec the action converges to (nil for delete). Secrets stay references.
    public var desired: Value?
    /// The provider's id of the object, when it exists (a VMID, a slot name).
    public var providerID: String?

    public init(
        resource: ResourceID,
        verb: Verb,
        changes: [FieldChange] = [],
        impact: Impact = .hot,
        reasons: [String] = [],
        dependsOn: [ActionID] = [],
        requiresApproval: Bool = false,
        desired: Value? = nil,
        providerID: String? = nil
    ) {
        self.id = ActionID(resource, verb)
        self.resource = resource
        self.verb = verb
        self.changes = changes
        self.impact = impact
        self.reasons = reasons
        self.dependsOn = dependsOn
        self.requiresApproval = requiresApproval
        self.desired = desired
        self.providerID = providerID
    }

    /// True when the action changes the system (not a noop).
    public var isChange: Bool { verb != .noop }
    /// Deletes and replaces count against `--max-destroy`.
    public var isDestructive: Bool { verb == .delete || verb == .replace }
}
