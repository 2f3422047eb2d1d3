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
    public var actionID: ActionID?
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
        actionID: ActionID? = nil,
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
            "planID": planID.map(Value.string) ?? .null, "actionID": actionID.map { .string($0.description) } ?? .null,
            "resource": resource.map { .string($0.description) } ?? .null, "result": result.map(Value.string) ?? .null,
            "detail": detail,
        ])
    }
}

/// Kinds of audit records: one closed list, whose names (`rawValue`) are what the log stores and hashes — they never
/// change, so existing chains and exports keep verifying and parsing. A stored name that is not on the list (a record
/// edited by hand, or written by a newer Setpoint) is read as `unrecognized`, keeping its text, so the chain check
/// still hashes exactly what was stored and reports the record rather than failing to read the log.
public enum AuditEvent: Sendable, Hashable, Codable, RawRepresentable, CustomStringConvertible {
    /// A plan about to be applied: written (and synced) before the first change.
    case plan
    /// An action about to start.
    case intent
    /// How an action ended.
    case outcome
    /// Risky actions approved on the command line or through the API.
    case approval
    /// A pending plan rejected through the API.
    case rejection
    /// An apply stopped by a signal, or found dead (intents without outcomes) by the next one.
    case interrupted
    /// An apply that picks up actions a dead one left in flight.
    case resumed
    /// An operator recorded that the chain is broken at a record (edited, removed, or records missing from the end),
    /// with why: verification accepts that break and goes on after it. `detail`: `brokenAt`, `problem`, `reason`.
    case auditBreak
    /// The controller parked risky actions in a pending plan, waiting for approval.
    case pending
    /// `setpoint import`: an existing object adopted into state.
    case `import`
    /// `setpoint restore`: a database restored from its backups.
    case restore
    /// `setpoint postgres failover`: a replica promoted in place of a lost primary.
    case failover
    /// `setpoint postgres reinit`: a member rebuilt from the primary.
    case reinit
    /// A backup or dump made (CLI or controller schedule).
    case backup
    /// A restore drill: a backup restored and checked on a scratch instance.
    case backupDrill
    /// A Host's key trusted on first use (`ssh.trustOnFirstUse`): `detail` has the endpoint, the key and its
    /// fingerprint.
    case hostKeyTrusted
    /// `setpoint apply --controller`: someone asked the leading controller for a pass now (its plan and actions follow,
    /// under the controller's identity).
    case applyRequested
    /// A stored name this Setpoint does not know; never written by it.
    case unrecognized(String)

    /// Every kind Setpoint writes, by its stored name.
    public static let known: [AuditEvent] = [
        .plan, .intent, .outcome, .approval, .rejection, .interrupted, .resumed, .auditBreak, .pending, .import,
        .restore, .failover, .reinit, .backup, .backupDrill, .hostKeyTrusted, .applyRequested,
    ]
    private static let byName = Dictionary(uniqueKeysWithValues: known.map { ($0.rawValue, $0) })

    public init(rawValue: String) { self = Self.byName[rawValue] ?? .unrecognized(rawValue) }

    /// The stored name.
    public var rawValue: String {
        switch self {
        case .plan: "plan"
        case .intent: "intent"
        case .outcome: "outcome"
        case .approval: "approval"
        case .rejection: "rejection"
        case .interrupted: "interrupted"
        case .resumed: "resumed"
        case .auditBreak: "audit-break"
        case .pending: "pending"
        case .import: "import"
        case .restore: "restore"
        case .failover: "failover"
        case .reinit: "reinit"
        case .backup: "backup"
        case .backupDrill: "backup-drill"
        case .hostKeyTrusted: "host-key-trusted"
        case .applyRequested: "apply-requested"
        case .unrecognized(let name): name
        }
    }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}
