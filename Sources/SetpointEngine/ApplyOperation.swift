public import SetpointCore
import SetpointRender
public import SetpointState

/// What applying a shown, confirmed plan is — whoever asks for it (`setpoint apply`, a saved plan file, an API):
/// refusing a plan that may not run as a whole, recording the approval of its risky actions, the apply itself, and
/// the plan kept with its status. The caller shows the plan, asks, and renders the progress and the outcome.
public struct ApplyOperation: Sendable {
    public struct Options: Sendable {
        /// Actions run at once, at most.
        public var parallelism: Int
        /// Deletes and replacements the plan may make, at most.
        public var maxDestroy: Int
        /// Risky actions approved by their resource.
        public var approvedResources: Set<ResourceID>
        public var approveAllRisky: Bool
        /// How the approval was given, for its audit record (`interactive yes`, `--approve on the command line`).
        public var approvalHow: String

        public init(
            parallelism: Int = 8,
            maxDestroy: Int = 1,
            approvedResources: Set<ResourceID> = [],
            approveAllRisky: Bool = false,
            approvalHow: String
        ) {
            self.parallelism = parallelism
            self.maxDestroy = maxDestroy
            self.approvedResources = approvedResources
            self.approveAllRisky = approveAllRisky
            self.approvalHow = approvalHow
        }
    }

    /// Why a plan is not applied at all.
    public enum Refusal: Error, Equatable, CustomStringConvertible {
        case planHasErrors
        /// It deletes or replaces these, more than the limit.
        case tooDestructive([ResourceID], limit: Int)

        public var description: String {
            switch self {
            case .planHasErrors: return "the plan has errors (above); nothing was applied"
            case .tooDestructive(let ids, let limit):
                return "the plan deletes or replaces \(ids.count) resources, more than --max-destroy \(limit): "
                    + ids.map(\.description).joined(separator: ", ")
                    + "\nnothing was applied; raise --max-destroy if this is intended"
            }
        }
    }

    /// How an apply ended.
    public struct Outcome: Sendable {
        public var report: ApplyReport
        /// Why the plan's status could not be kept (the apply itself stands).
        public var statusNotSaved: String?
        /// 0 applied; 1 a failed action or an interruption; 3 risky actions skipped awaiting approval.
        public var exitCode: Int32 {
            if !report.failed.isEmpty || report.wasInterrupted { return 1 }
            return report.awaitingApproval.isEmpty ? 0 : 3
        }
    }

    public let registry: ProviderRegistry
    public let context: ProviderContext
    public let store: any StateStore
    public let fingerprint: @Sendable (FieldPath, Value) -> String
    public let audit: AuditTrail

    public init(
        registry: ProviderRegistry,
        context: ProviderContext,
        store: any StateStore,
        fingerprint: @escaping @Sendable (FieldPath, Value) -> String,
        audit: AuditTrail
    ) {
        self.registry = registry
        self.context = context
        self.store = store
        self.fingerprint = fingerprint
        self.audit = audit
    }

    /// Why the plan may not be applied as a whole, or nil.
    public static func refusal(of plan: Plan, maxDestroy: Int) -> Refusal? {
        guard plan.isApplyable else { return .planHasErrors }
        let destructive = plan.changes.filter(\.isDestructive)
        if destructive.count > maxDestroy { return .tooDestructive(destructive.map(\.resource), limit: maxDestroy) }
        return nil
    }

    /// Records the approval of the risky actions approved, applies the plan, and keeps it with its status: applied
    /// when everything ran, pending while risky actions await approval.
    public func apply(
        _ plan: Plan,
        resources: [ResourceID: Resource],
        options: Options,
        interruption: Interruption,
        onEvent: @escaping @Sendable (ApplyEvent) -> Void = { _ in }
    ) async throws -> Outcome {
        let approvedIDs = Set(plan.changes.filter { options.approvedResources.contains($0.resource) }.map(\.id))
        let risky = plan.changes.filter(\.requiresApproval).map(\.id)
        let approvedRisky = options.approveAllRisky ? risky : risky.filter { approvedIDs.contains($0) }
        if !approvedRisky.isEmpty {
            try await audit.record(
                .approval,
                plan: plan,
                detail: .map([
                    "approved": .list(approvedRisky.map { .string($0.description) }),
                    "how": .string(options.approvalHow),
                ])
            )
        }
        let applier = Applier(
            registry: registry,
            context: context,
            store: store,
            parallelism: options.parallelism,
            approved: approvedIDs,
            approveAllRisky: options.approveAllRisky,
            interruption: interruption,
            fingerprint: fingerprint,
            audit: audit
        )
        let report = try await applier.apply(plan, resources: resources, onEvent: onEvent)
        var outcome = Outcome(report: report)
        let status: StoredPlan.Status? =
            report.isSuccess ? (report.awaitingApproval.isEmpty ? .applied : .pending) : nil
        if let status {
            do {
                try await store.savePlan(
                    StoredPlan(
                        id: plan.id,
                        status: status,
                        plan: plan,
                        json: PlanJSONRenderer().render(plan),
                        text: PlanTextRenderer().render(plan),
                        createdAt: plan.createdAt
                    )
                )
            } catch {
                outcome.statusNotSaved = "\(error)"
            }
        }
        return outcome
    }
}
