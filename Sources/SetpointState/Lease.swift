import Foundation
public import SetpointCore

/// Who holds the apply lease of a state store, and until when.
public struct LeaseHolder: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Unique per apply run.
    public var id: String
    public var host: String
    public var pid: Int32
    /// UTC ISO 8601 (`2026-11-25T13:00:00.000Z`); times compare as strings.
    public var since: String
    public var expiresAt: String

    public init(id: String, host: String, pid: Int32, since: String, expiresAt: String) {
        self.id = id
        self.host = host
        self.pid = pid
        self.since = since
        self.expiresAt = expiresAt
    }

    public var description: String { "pid \(pid) on \(host), since \(since)" }
}

/// The audit log and the apply lease: what `apply` and the controller need beyond owned resources.
///
/// Contract: appends serialise on the chain head — concurrent writers (several tasks, several processes) never fork
/// the chain — and an append is durable when it returns (the plan record is synced before the first change).
/// Only one holder has the lease at a time; an expired lease is taken over.
public protocol AuditLog: Sendable {
    /// Appends an entry after the current head and returns the record as stored. With `checkingChain` (what every
    /// caller but `audit acknowledge` wants) a durable store first checks the chain since the point it last verified,
    /// or its audit anchor, and refuses to append to a tampered log.
    func appendAudit(_ entry: AuditEntry, checkingChain: Bool) async throws -> AuditRecord
    /// Records with `seq > after`, in seq order, at most `limit`.
    func auditRecords(after: Int64, limit: Int) async throws -> [AuditRecord]
    /// The newest `limit` records, in seq order (the approvals page's audit view).
    func latestAuditRecords(limit: Int) async throws -> [AuditRecord]
}

extension AuditLog {
    /// Appends an entry after the current head, checking the chain first.
    public func appendAudit(_ entry: AuditEntry) async throws -> AuditRecord {
        try await appendAudit(entry, checkingChain: true)
    }
}

/// Durable per-action journals (see `ActionJournal`), keyed by action id (`VirtualMachine/api-1:create`), which is
/// stable from one plan to the next.
public protocol JournalStore: Sendable {
    func journalEntries(action: ActionID) async throws -> [String: String]
    func recordJournal(action: ActionID, key: String, value: String) async throws
    func clearJournal(action: ActionID) async throws
    /// Every journal not cleared: actions a dead apply left in flight.
    func openJournals() async throws -> [ActionID: [String: String]]
}

/// A plan kept in the state store, with its status: what the controller parks for approval and what apply ran.
public struct StoredPlan: Sendable, Hashable, Codable {
    public enum Status: String, Sendable, Hashable, Codable, CaseIterable {
        case pending, approved, rejected, applied, stale
    }

    public var id: String
    public var status: Status
    /// The plan itself (its actions, their changes and source): what code reads, such as the four-eyes rule's author.
    /// Nil only for plans stored before the state kept it (migration `v7-plan-model`), which have just their views.
    public var plan: Plan?
    /// The plan as versioned JSON (sensitive values already replaced), as shown to reviewers.
    public var json: String
    /// The plan as text, as shown to reviewers.
    public var text: String
    public var createdAt: String

    public init(id: String, status: Status, plan: Plan?, json: String, text: String, createdAt: String) {
        self.id = id
        self.status = status
        self.plan = plan
        self.json = json
        self.text = text
        self.createdAt = createdAt
    }

    /// The plan as the state keeps it: sorted-key JSON of the Codable `Plan` (secrets stay references).
    static func encode(_ plan: Plan?) throws -> String? {
        guard let plan else { return nil }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(plan), as: UTF8.self)
    }

    /// A kept plan read back; nil for rows without one, or one this build cannot read (its views still serve).
    static func decode(_ text: String?) -> Plan? {
        text.flatMap { try? JSONDecoder().decode(Plan.self, from: Data($0.utf8)) }
    }
}

/// What a conditional change of a plan's status did.
public enum PlanTransition: Sendable, Equatable {
    /// Changed; the audit record appended with it, when one was given.
    case changed(AuditRecord?)
    /// No plan has this id.
    case notFound
    /// The plan was not in a status the change starts from: its status now, unchanged.
    case conflict(StoredPlan.Status)
}

/// Plans and their status.
public protocol PlanStore: Sendable {
    /// Saves a plan (replacing one with the same id).
    func savePlan(_ plan: StoredPlan) async throws
    func storedPlan(id: String) async throws -> StoredPlan?
    /// Changes a plan's status only while it is one of `from` — one compare-and-set, so of two concurrent decisions
    /// on a pending plan exactly one is made — and appends `audit` (the decision's record) in the same transaction:
    /// the record exists exactly when the change was made.
    func transitionPlan(
        id: String,
        from: Set<StoredPlan.Status>,
        to status: StoredPlan.Status,
        audit: AuditEntry?
    ) async throws -> PlanTransition
    /// Plans with a status, newest first.
    func storedPlans(status: StoredPlan.Status?) async throws -> [StoredPlan]
}

public protocol ApplyLease: Sendable {
    /// Takes the lease for `candidate` unless someone else holds an unexpired one (compared with `now`); returns
    /// nil when taken, or the current holder.
    func acquireLease(_ candidate: LeaseHolder, now: String) async throws -> LeaseHolder?
    /// Extends the lease; false when `holder` no longer holds it.
    func renewLease(_ holder: LeaseHolder) async throws -> Bool
    /// Gives the lease up (or breaks a dead holder's); a no-op when `id` does not hold it.
    func releaseLease(id: String) async throws
}
