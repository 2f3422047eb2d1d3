public import SetpointCore
public import SetpointState

/// A ``StateStore`` held in memory, for tests of the planner, the applier and the CLI.
///
/// It keeps the same contract as the durable stores (the conformance suite runs against it too):
/// writes are serialised by the actor, and a read-only store refuses every write.
///
/// ```swift
/// let store = InMemoryStateStore(owned: [applied])          // state as a previous apply left it
/// let readOnly = InMemoryStateStore(owned: [applied], isReadOnly: true)
/// ```
public actor InMemoryStateStore: StateStore, AuditImport {
    private var conditions: [ResourceCondition] = []
    public nonisolated let isReadOnly: Bool
    private var resources: [ResourceID: AppliedResource]
    private var audit: [AuditRecord] = []
    private var lease: LeaseHolder?
    private var journals: [ActionID: [String: String]] = [:]
    private var plans: [String: StoredPlan] = [:]
    private var runs: [String: BackupRun] = [:]

    /// A store owning `owned` (empty by default).
    ///
    /// - Parameters:
    ///   - owned: The resources already owned, as a previous apply would have recorded them.
    ///   - isReadOnly: When true, `recordApplied` and `forget` throw, as on a store opened read-only.
    public init(owned: [AppliedResource] = [], isReadOnly: Bool = false) {
        self.isReadOnly = isReadOnly
        self.resources = Dictionary(owned.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
    }

    public func ownedResources() throws -> [ResourceID: AppliedResource] { resources }

    public func owned(_ id: ResourceID) throws -> AppliedResource? { resources[id] }

    public func recordApplied(_ resource: AppliedResource) throws {
        try refuseIfReadOnly("record \(resource.id)")
        resources[resource.id] = resource
    }

    public func forget(_ id: ResourceID) throws {
        try refuseIfReadOnly("forget \(id)")
        resources[id] = nil
    }

    public func appendAudit(_ entry: AuditEntry, checkingChain: Bool) throws -> AuditRecord {
        try refuseIfReadOnly("append to the audit log")
        let record = AuditRecord.chained(entry, seq: Int64(audit.count + 1), previousHash: audit.last?.hash ?? "")
        audit.append(record)
        return record
    }

    public func auditRecords(after: Int64, limit: Int) -> [AuditRecord] {
        Array(audit.filter { $0.seq > after }.prefix(limit))
    }

    public func latestAuditRecords(limit: Int) -> [AuditRecord] { Array(audit.suffix(limit)) }

    /// Replaces the log wholesale: for tamper tests.
    public func replaceAuditForTesting(_ records: [AuditRecord]) { audit = records }

    public func acquireLease(_ candidate: LeaseHolder, now: String) throws -> LeaseHolder? {
        try refuseIfReadOnly("take the apply lease")
        if let current = lease, current.id != candidate.id, current.expiresAt > now { return current }
        lease = candidate
        return nil
    }

    /// Who holds the lease now, as written (nil: nobody).
    public var currentLease: LeaseHolder? { lease }

    public func renewLease(_ holder: LeaseHolder) throws -> Bool {
        try refuseIfReadOnly("renew the apply lease")
        guard lease?.id == holder.id else { return false }
        lease = holder
        return true
    }

    public func releaseLease(id: String) throws {
        try refuseIfReadOnly("release the apply lease")
        if lease?.id == id { lease = nil }
    }

    public func journalEntries(action: ActionID) -> [String: String] { journals[action] ?? [:] }

    public func recordJournal(action: ActionID, key: String, value: String) throws {
        try refuseIfReadOnly("journal \(action)")
        journals[action, default: [:]][key] = value
    }

    public func clearJournal(action: ActionID) throws {
        try refuseIfReadOnly("clear the journal of \(action)")
        journals[action] = nil
    }

    public func openJournals() -> [ActionID: [String: String]] { journals }

    public func recordBackupRun(_ run: BackupRun) throws {
        try refuseIfReadOnly("record backup run \(run.id)")
        runs[run.id] = run
    }

    private var hostKeys: [TrustedHostKey] = []

    public func backupRuns(policy: String?, limit: Int) -> [BackupRun] {
        Array(
            runs.values.filter { policy == nil || $0.policy == policy }
                .sorted { ($0.startedAt, $0.id) > ($1.startedAt, $1.id) }.prefix(limit)
        )
    }

    public func recordTrustedHostKey(_ key: TrustedHostKey) throws {
        try refuseIfReadOnly("record the trusted key of Host/\(key.host)")
        if !hostKeys.contains(where: { $0.host == key.host && $0.endpoint == key.endpoint && $0.key == key.key }) {
            hostKeys.append(key)
        }
    }

    public func trustedHostKeys(host: String) -> [TrustedHostKey] { hostKeys.filter { $0.host == host } }

    public func allTrustedHostKeys() -> [TrustedHostKey] { hostKeys.sorted { $0.host < $1.host } }

    public func importAuditRecords(_ records: [AuditRecord]) throws {
        try refuseIfReadOnly("import audit records")
        guard let first = records.first else { return }
        guard first.seq == Int64(audit.count + 1), first.previousHash == (audit.last?.hash ?? "") else {
            throw SetpointError(.stateFailed, "audit record \(first.seq) does not follow the head: not imported")
        }
        audit += records
    }

    public func replaceConditions(_ conditions: [ResourceCondition]) throws {
        try refuseIfReadOnly("record the resources' conditions")
        self.conditions = conditions
    }

    public func conditions(of resource: ResourceID?) -> [ResourceCondition] {
        conditions.filter { resource == nil || $0.resource == resource }
            .sorted { ($0.resource.description, $0.type.rawValue) < ($1.resource.description, $1.type.rawValue) }
    }

    public func savePlan(_ plan: StoredPlan) throws {
        try refuseIfReadOnly("save plan \(plan.id)")
        if plans[plan.id]?.status == .rejected { return }  // a rejection stands
        plans[plan.id] = plan
    }

    public func storedPlan(id: String) -> StoredPlan? { plans[id] }

    public func transitionPlan(
        id: String,
        from: Set<StoredPlan.Status>,
        to status: StoredPlan.Status,
        audit: AuditEntry?
    ) throws -> PlanTransition {
        try refuseIfReadOnly("change plan \(id)")
        guard let current = plans[id]?.status else { return .notFound }
        guard from.contains(current) else { return .conflict(current) }
        plans[id]!.status = status
        return .changed(try audit.map { try appendAudit($0, checkingChain: true) })
    }

    public func storedPlans(status: StoredPlan.Status?) -> [StoredPlan] {
        plans.values.filter { status == nil || $0.status == status }.sorted {
            ($0.createdAt, $0.id) > ($1.createdAt, $1.id)
        }
    }

    private func refuseIfReadOnly(_ what: String) throws {
        if isReadOnly {
            throw SetpointError(.stateFailed, "state is read-only: cannot \(what) in the in-memory state")
        }
    }
}

extension StoredPlan {
    /// A pending plan with only its id, text and (optionally) rendered JSON: what the API's approval tests decide on.
    public static func pendingFixture(_ id: String, json: String = "{}") -> StoredPlan {
        StoredPlan(
            id: id,
            status: .pending,
            plan: nil,
            json: json,
            text: "Plan \(id)\n",
            createdAt: "2026-12-07T12:00:00Z"
        )
    }
}
