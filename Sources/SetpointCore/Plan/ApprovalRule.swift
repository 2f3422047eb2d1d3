/// What waits for an operator's approval: the one rule the planner applies when it makes a plan and `apply` applies
/// again to a plan read from a file (a file can ask for more approvals, never for fewer).
///
/// ```swift
/// let risky = ApprovalRule.requiresApproval(verb: .update, impact: .restart, annotated: false, providerSays: true)
/// ```
public enum ApprovalRule {
    /// The annotation that makes every change of a resource wait (`setpoint/approval: required`).
    public static let annotation = "setpoint/approval"

    /// Whether a resource carries `setpoint/approval: required`.
    public static func isAnnotated(_ resource: Resource) -> Bool {
        resource.metadata.annotations[annotation] == "required"
    }

    /// Restarts, deletes and replacements, any change whose impact is replace or dataLoss, every change of an
    /// annotated resource, and whatever the provider says is risky (a restart it cannot stage, a field rule such as
    /// removing a replica).
    public static func requiresApproval(verb: Verb, impact: Impact, annotated: Bool, providerSays: Bool) -> Bool {
        verb == .restart || verb == .delete || verb == .replace || impact >= .replace || annotated || providerSays
    }

    /// The rule for a planned action; its own flag stands for what the provider said.
    public static func requiresApproval(_ action: Action, annotated: Bool) -> Bool {
        action.isChange
            && requiresApproval(
                verb: action.verb,
                impact: action.impact,
                annotated: annotated,
                providerSays: action.requiresApproval
            )
    }
}
