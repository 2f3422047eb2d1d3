public import SetpointCore

/// What the controller does with each action of a pass: apply it by itself, leave it waiting for an approval, or only
/// report it.
public struct ControllerPolicy: Sendable {
    public enum DriftPolicy: String, Sendable, CaseIterable {
        /// Drift is corrected like any other change.
        case correct
        /// Drift is reported (logs, metrics, the resource's status) and left alone.
        case report
    }

    public enum Decision: Sendable, Equatable {
        case apply
        /// Waits for an approved pending plan (risky by default, or `setpoint/approval: required`).
        case wait(String)
        /// Not done in this pass, for a reason of the operator's (paused, drift reported) or of a failure (backing off).
        case hold(String)
    }

    public var driftPolicy: DriftPolicy

    public init(driftPolicy: DriftPolicy = .correct) {
        self.driftPolicy = driftPolicy
    }

    /// The decision for one action of the resource `resource` (nil for orphans).
    ///
    /// Defaults follow DESIGN's risky actions: creates and updates apply (an update of impact `restart` only stages the
    /// change); the `restart` verb, `replace`/`dataLoss` changes and deletes wait. `setpoint/approval: required` makes every
    /// change wait, `auto` none; `setpoint/paused: true` holds everything; `setpoint/drift-policy` overrides the
    /// controller's drift policy for one resource.
    public func decide(_ action: Action, resource: Resource?) -> Decision {
        let annotations = resource?.metadata.annotations ?? [:]
        if annotations["setpoint/paused"] == "true" { return .hold("paused (setpoint/paused: true)") }
        let drift = annotations["setpoint/drift-policy"].flatMap(DriftPolicy.init(rawValue:)) ?? driftPolicy
        if drift == .report, !action.changes.isEmpty, action.changes.allSatisfy({ $0.origin == .drift }) {
            return .hold("drift reported, not corrected (drift policy: report)")
        }
        switch annotations[ApprovalRule.annotation] {
        case "required"?: return .wait("setpoint/approval: required")
        case "auto"?: return .apply
        default: break
        }
        if action.requiresApproval {
            return .wait(
                action.verb == .delete ? "a delete" : action.verb == .restart ? "a restart" : "impact \(action.impact)"
            )
        }
        return .apply
    }
}
