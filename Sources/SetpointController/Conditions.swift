import Foundation
public import SetpointCore
public import SetpointState
import Synchronization

extension ControllerStatus {
    /// Every declared resource's `Ready` and `Synced` conditions after the last pass (empty when this controller
    /// follows: the leader knows). Transition times are `now`; ``ResourceCondition/merge(previous:new:)`` keeps the
    /// earlier ones whose status did not change.
    public func conditions(retries: [ResourceID: Backoff.Entry], now: Date) -> [ResourceCondition] {
        let s = snapshot
        // Only a pass this controller led and that planned says anything of the resources: one that stopped at the
        // manifests, the lease or an error before its plan leaves the conditions recorded before.
        guard let r = s.last, r.leaseHeldBy == nil, r.leading, r.planID != nil else { return [] }
        let at = Timestamp.milliseconds(now)
        var out: [ResourceCondition] = []
        for (id, state, error) in resourceStatus(retries: retries) {
            func condition(_ type: ResourceCondition.Kind, _ ok: Bool, _ reason: String, _ message: String) {
                out.append(
                    ResourceCondition(
                        resource: id,
                        type: type,
                        status: ok ? .isTrue : .isFalse,
                        reason: reason,
                        message: message,
                        lastTransitionTime: at
                    )
                )
            }
            let mine = { (ids: [ActionID]) in ids.filter { $0.resource == id }.map(\.description) }
            if let why = r.unobserved[id], state == "in-sync" {
                for type in ResourceCondition.Kind.allCases {
                    out.append(
                        ResourceCondition(
                            resource: id,
                            type: type,
                            status: .unknown,
                            reason: "ObserveFailed",
                            message: "the last pass could not observe or plan it: \(why)",
                            lastTransitionTime: at
                        )
                    )
                }
                continue
            }
            switch state {
            case "in-sync":
                condition(.ready, true, "Converged", "what was observed matches the manifest")
                condition(.synced, true, "NothingToDo", "the last pass found nothing to apply")
            case "changed":
                let applied = mine(r.applied).joined(separator: ", ")
                condition(.ready, true, "Applied", "applied in the last pass: \(applied)")
                condition(.synced, true, "Applied", "applied in the last pass: \(applied)")
            case "drift-corrected":
                condition(
                    .ready,
                    true,
                    "DriftCorrected",
                    "drift was changed back: \(mine(r.applied).joined(separator: ", "))"
                )
                condition(.synced, true, "DriftCorrected", "drift was changed back in the last pass")
            case "drift":
                let message =
                    "it differs from its manifest and the drift policy is report: change it back, or the manifest"
                condition(.ready, false, "Drifted", message)
                condition(.synced, false, "DriftReported", message)
            case "waiting":
                let message =
                    "\(mine(r.waiting).joined(separator: ", ")) waits for approval in plan \(r.pendingPlanID ?? "?"): "
                    + "setpoint approve \(r.pendingPlanID ?? "ID"), or reject it"
                condition(.ready, false, "WaitingForApproval", message)
                condition(.synced, false, "WaitingForApproval", message)
            case "failed":
                let retry = retries[id]
                let when =
                    retry.map { entry in
                        entry.nextRetry.map { " (failure \(entry.failures); retried from \(Timestamp.seconds($0)))" }
                            ?? " (failure \(entry.failures); parked until its manifest changes)"
                    } ?? ""
                let message = (error ?? "the last action failed") + when
                condition(.ready, false, "ApplyFailed", message)
                condition(.synced, false, retry?.nextRetry == nil && retry != nil ? "Parked" : "BackingOff", message)
            case "held":
                let message = error ?? "an action is held"
                condition(.ready, false, "Held", message)
                condition(.synced, false, "Held", message)
            default:
                continue
            }
        }
        return out
    }
}

/// Writes the resources' conditions to the state store after each pass this controller led — only when they changed,
/// so a quiet system writes nothing. A write that fails is logged; the next pass tries again.
public final class ConditionRecorder: Sendable {
    let store: any StateStore
    let status: ControllerStatus
    let reconciler: Reconciler
    private let last = LockedConditions()

    final class LockedConditions: Sendable {
        let value = Mutex<[ResourceCondition]?>(nil)
    }

    public init(store: any StateStore, status: ControllerStatus, reconciler: Reconciler) {
        self.store = store
        self.status = status
        self.reconciler = reconciler
    }

    /// Records the conditions of the last pass (when this controller led it).
    public func record(log: (String) -> Void) async {
        let fresh = status.conditions(retries: reconciler.retries, now: reconciler.configuration.clock.now)
        guard !fresh.isEmpty else {
            // Following (or a pass that did not plan): another leader may write meanwhile, so read the store again next time.
            last.value.withLock { $0 = nil }
            return
        }
        do {
            let previous: [ResourceCondition]
            if let known = last.value.withLock({ $0 }) {
                previous = known
            } else {
                previous = try await store.conditions(of: nil)
            }
            let merged = ResourceCondition.merge(previous: previous, new: fresh)
            guard merged != previous else { return }
            try await store.replaceConditions(merged)
            last.value.withLock { $0 = merged }
        } catch {
            log("the resources' conditions were not recorded: \(error)")
        }
    }
}
