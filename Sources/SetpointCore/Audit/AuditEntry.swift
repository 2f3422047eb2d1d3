/// What happened, as a writer hands it to the audit log. The store numbers it and chains it (`AuditRecord`).
///
/// Never holds a secret: details carry a plan's actions and field changes with sensitive values replaced by
/// `(sensitive)` (`AuditTrail.detail(of:)`), error messages, and identities.
public struct AuditEntry: Sendable, Hashable, Codable {
    /// UTC, ISO 8601, from the writer's clock.
    public var time: String
    /// Who: the approver's identity for approvals (`--as`, default the OS user), `user@host` otherwise.
    public var actor: String
    public var event: AuditEvent
    public var planID: String?
    public var actionID: String?
    public var resource: ResourceID?
    /// `succeeded`, `failed`, `skipped` for outcomes.
    public var result: String?
    /// Free-form detail (the plan, an error message, what was approved). JSON-shaped, no secrets.
    public var detail: Value

    public init(
        time: String,
        actor: String,
        event: AuditEvent,
        planID: String? = nil,
        actionID: String? = nil,
        resource: ResourceID? = nil,
        result: String? = nil,
        detail: Value = .null
    ) {
        self.time = time
        self.actor = actor
        self.event = event
        self.planID = planID
        self.actionID = actionID
        self.resource = resource
        self.result = result
        self.detail = detail
    }

    /// The canonical form that is hashed.
    public var canonical: Value {
        .map([
            "time": .string(time), "actor": .string(actor), "event": .string(event.rawValue),
            "planID": planID.map(Value.string) ?? .null, "actionID": actionID.map(Value.string) ?? .null,
            "resource": resource.map { .string($0.description) } ?? .null, "result": result.map(Value.string) ?? .null,
            "detail": detail,
        ])
    }
}

/// Kinds of audit records.
public struct AuditEvent: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// A plan about to be applied: written (and synced) before the first change.
    public static let plan = AuditEvent(rawValue: "plan")
    /// An action about to start.
    public static let intent = AuditEvent(rawValue: "intent")
    /// How an action ended.
    public static let outcome = AuditEvent(rawValue: "outcome")
    /// Risky actions approved on the command line or through the API.
    public static let approval = AuditEvent(rawValue: "approval")
    /// An apply stopped by a signal, or found dead (intents without outcomes) by the next one.
    public static let interrupted = AuditEvent(rawValue: "interrupted")
    /// An apply that picks up actions a dead one left in flight.
    public static let resumed = AuditEvent(rawValue: "resumed")
    /// An operator recorded that the chain is broken at a record (edited, removed, or records missing from the end),
    /// with why: verification accepts that break and goes on after it. `detail`: `brokenAt`, `problem`, `reason`.
    public static let auditBreak = AuditEvent(rawValue: "audit-break")
}
