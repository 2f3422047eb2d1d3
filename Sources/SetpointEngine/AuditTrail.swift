import Foundation
public import SetpointCore
public import SetpointState

/// Writes an apply's audit records: who, when, what, result — never a secret.
public struct AuditTrail: Sendable {
    public var log: any AuditLog
    /// The identity recorded as actor (`--as`, default the OS user @ host).
    public var actor: String
    /// Where record times come from (wall clock, milliseconds).
    public var clock: any SetpointClock

    public init(log: any AuditLog, actor: String, clock: any SetpointClock = SystemClock()) {
        self.log = log
        self.actor = actor
        self.clock = clock
    }

    /// `user@host` of this process.
    public static var defaultActor: String {
        let user =
            ProcessInfo.processInfo.environment["USER"] ?? ProcessInfo.processInfo.environment["LOGNAME"] ?? "unknown"
        return "\(user)@\(ProcessInfo.processInfo.hostName)"
    }

    /// An audit entry from this trail's actor and clock: the one place entries are made (the CLI, the engine, the
    /// controller's API and `audit acknowledge` all go through here).
    public func entry(
        _ event: AuditEvent,
        plan: Plan? = nil,
        planID: String? = nil,
        action: Action? = nil,
        resource: ResourceID? = nil,
        result: String? = nil,
        detail: Value = .null
    ) -> AuditEntry {
        AuditEntry(
            time: Timestamp.milliseconds(clock.now),
            actor: actor,
            event: event,
            planID: plan?.id ?? planID,
            actionID: action?.id,
            resource: action?.resource ?? resource,
            result: result,
            detail: detail
        )
    }

    /// Appends an entry (`entry(...)`) after checking the chain.
    @discardableResult
    public func record(
        _ event: AuditEvent,
        plan: Plan? = nil,
        planID: String? = nil,
        action: Action? = nil,
        resource: ResourceID? = nil,
        result: String? = nil,
        detail: Value = .null
    ) async throws -> AuditRecord {
        try await log.appendAudit(
            entry(event, plan: plan, planID: planID, action: action, resource: resource, result: result, detail: detail)
        )
    }

    /// Records that the chain is broken (`audit acknowledge`): appended without the chain check, which would refuse it.
    public func recordBreak(detail: Value) async throws -> AuditRecord {
        try await log.appendAudit(entry(.auditBreak, detail: detail), checkingChain: false)
    }

    /// What a plan record holds: the plan's source and every change action with its field changes (sensitive values
    /// replaced), enough to reconstruct what was decided without the manifests. Encoded from ``PlanRecord``; a plan
    /// that cannot be encoded (it always can) records its id alone.
    public static func detail(of plan: Plan) -> Value {
        guard let data = try? JSONEncoder().encode(PlanRecord(plan)),
            let value = try? JSONDecoder().decode(Value.self, from: data)
        else { return .map(["plan": .string(plan.id)]) }
        return value
    }

    /// A value with every secret reference replaced by "(sensitive)"; absent stays null.
    static func redacted(_ value: Value?) -> Value {
        guard let value else { return .null }
        switch value {
        case .secret: return .string("(sensitive)")
        case .map(let m): return .map(m.mapValues { redacted($0) })
        case .list(let l): return .list(l.map { redacted($0) })
        default: return value
        }
    }
}
