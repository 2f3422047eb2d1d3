public import SetpointCore

/// A store that takes audit records exactly as another store kept them (seq, previous hash and hash as they are):
/// moving a state keeps its chain, acknowledged breaks included, and an audit anchor that names its head stays valid.
public protocol AuditImport: Sendable {
    /// Appends `records` after the head; refused unless the first one follows it (seq and previous hash).
    func importAuditRecords(_ records: [AuditRecord]) async throws
}

/// Moves a whole state from one store to another — SQLite to PostgreSQL when a second controller comes, or back —
/// and verifies the copy: owned resources, the audit log with its chain, open journals, plans, backup runs, trusted
/// host keys and conditions. The source's lease is taken for the whole move, so no controller or apply writes to it
/// meanwhile (one that holds it refuses the move); the destination must hold no state yet. The source is left as it
/// was: it is the backup until the destination is in use.
public struct StateMigration: Sendable {
    public struct Report: Sendable, Equatable {
        public var owned = 0
        public var auditRecords = 0
        public var auditHead: AuditHead?
        public var journals = 0
        public var plans = 0
        public var backupRuns = 0
        public var hostKeys = 0
        public var conditions = 0
    }

    public let source: any StateStore
    public let destination: any StateStore & AuditImport
    /// Where each lives, for messages (URLs without passwords).
    public let sourceName: String
    public let destinationName: String
    /// Who moves it: the lease holder on both stores.
    public let holder: LeaseHolder
    public let now: String

    public init(
        source: any StateStore,
        destination: any StateStore & AuditImport,
        sourceName: String,
        destinationName: String,
        holder: LeaseHolder,
        now: String
    ) {
        self.source = source
        self.destination = destination
        self.sourceName = sourceName
        self.destinationName = destinationName
        self.holder = holder
        self.now = now
    }

    func refuse(_ message: String) -> SetpointError { SetpointError(.stateFailed, message) }

    public func run() async throws -> Report {
        if let other = try await source.acquireLease(holder, now: now) {
            throw refuse(
                "the state \(sourceName) is in use: \(other) holds its lease until \(other.expiresAt) (a controller or an "
                    + "apply); stop every controller, then move it"
            )
        }
        do {
            let report = try await copyAndVerify()
            // Still ours: nothing wrote to the source while it was copied (its lease was not taken over).
            guard try await source.renewLease(holder) else {
                throw refuse(
                    "the lease of \(sourceName) was taken over while it was copied: something may have written to it; "
                        + "do not use \(destinationName) — drop it, stop every controller, and move the state again"
                )
            }
            try await source.releaseLease(id: holder.id)
            return report
        } catch {
            try? await source.releaseLease(id: holder.id)
            try? await destination.releaseLease(id: holder.id)
            throw error
        }
    }

    private func copyAndVerify() async throws -> Report {
        if let other = try await destination.acquireLease(holder, now: now) {
            throw refuse("\(destinationName) is in use: \(other) holds its lease")
        }
        let destinationOwned = try await destination.ownedResources()
        let destinationAudit = try await destination.auditRecords(after: 0, limit: 1)
        let destinationPlans = try await destination.storedPlans(status: nil)
        let destinationJournals = try await destination.openJournals()
        let destinationRuns = try await destination.backupRuns(policy: nil, limit: 1)
        let destinationKeys = try await destination.allTrustedHostKeys()
        let destinationConditions = try await destination.conditions(of: nil)
        if !destinationOwned.isEmpty || !destinationAudit.isEmpty || !destinationPlans.isEmpty
            || !destinationJournals.isEmpty || !destinationRuns.isEmpty || !destinationKeys.isEmpty
            || !destinationConditions.isEmpty
        {
            throw refuse(
                "\(destinationName) already holds a Setpoint state: move into an empty database (or a new file), "
                    + "never over a state in use"
            )
        }
        // Read everything first.
        let owned = try await source.ownedResources()
        var audit: [AuditRecord] = []
        while true {
            let page = try await source.auditRecords(after: audit.last?.seq ?? 0, limit: 1000)
            audit += page
            if page.count < 1000 { break }
        }
        let (verification, _, head) = AuditChain.verify(audit, after: .start, acknowledging: true)
        if case .broken(let seq, let problem) = verification {
            throw refuse(
                "the audit log of \(sourceName) does not verify at record \(seq) (\(problem)): nothing was moved; "
                    + "see 'setpoint audit verify', and acknowledge the break ('setpoint audit acknowledge') before moving it"
            )
        }
        let journals = try await source.openJournals()
        let plans = try await source.storedPlans(status: nil)
        let runs = try await source.backupRuns(policy: nil, limit: Int.max)
        let keys = try await source.allTrustedHostKeys()
        let conditions = try await source.conditions(of: nil)

        // Write: the audit log as it is, then the rest. A failure part way leaves a partial copy: say so.
        do {
            // Write: the audit log as it is, then the rest.
            for start in stride(from: 0, to: audit.count, by: 1000) {
                try await destination.importAuditRecords(Array(audit[start..<min(audit.count, start + 1000)]))
            }
            for resource in owned.values.sorted(by: { $0.id < $1.id }) { try await destination.recordApplied(resource) }
            for (action, entries) in journals {
                for (key, value) in entries.sorted(by: { $0.key < $1.key }) {
                    try await destination.recordJournal(action: action, key: key, value: value)
                }
            }
            for plan in plans.reversed() { try await destination.savePlan(plan) }
            for run in runs.reversed() { try await destination.recordBackupRun(run) }
            for key in keys { try await destination.recordTrustedHostKey(key) }
            if !conditions.isEmpty { try await destination.replaceConditions(conditions) }
        } catch {
            throw refuse(
                "the copy into \(destinationName) failed part way (\(error)): drop it (or delete the file) before moving "
                    + "the state again; \(sourceName) is unchanged"
            )
        }
        try await destination.releaseLease(id: holder.id)

        // Verify: read back, compare with what was read.
        func mismatch(_ what: String) -> SetpointError {
            refuse(
                "the copy in \(destinationName) differs from \(sourceName) in its \(what): do not use it; drop it and "
                    + "move the state again (the source is unchanged)"
            )
        }
        if try await destination.ownedResources() != owned { throw mismatch("owned resources") }
        var copied: [AuditRecord] = []
        while true {
            let page = try await destination.auditRecords(after: copied.last?.seq ?? 0, limit: 1000)
            copied += page
            if page.count < 1000 { break }
        }
        if copied != audit { throw mismatch("audit log") }
        if try await destination.openJournals() != journals { throw mismatch("journals") }
        let copiedPlans = try await destination.storedPlans(status: nil)
        if Set(copiedPlans) != Set(plans) { throw mismatch("plans") }
        let copiedRuns = try await destination.backupRuns(policy: nil, limit: Int.max)
        if Set(copiedRuns) != Set(runs) { throw mismatch("backup runs") }
        // Compared in one order of their own: the stores sort text by different collations.
        func keyOrder(_ k: TrustedHostKey) -> [String] { [k.host, k.endpoint, k.key, k.trustedAt] }
        let copiedKeys = try await destination.allTrustedHostKeys()
        if copiedKeys.map(keyOrder).sorted(by: { $0.lexicographicallyPrecedes($1) })
            != keys.map(keyOrder).sorted(by: { $0.lexicographicallyPrecedes($1) })
        {
            throw mismatch("trusted host keys")
        }
        func conditionOrder(_ c: ResourceCondition) -> String { "\(c.resource)|\(c.type.rawValue)" }
        let copiedConditions = try await destination.conditions(of: nil)
        if copiedConditions.sorted(by: { conditionOrder($0) < conditionOrder($1) })
            != conditions.sorted(by: { conditionOrder($0) < conditionOrder($1) })
        {
            throw mismatch("conditions")
        }
        return Report(
            owned: owned.count,
            auditRecords: audit.count,
            auditHead: audit.isEmpty ? nil : head,
            journals: journals.values.reduce(0) { $0 + $1.count },
            plans: plans.count,
            backupRuns: runs.count,
            hostKeys: keys.count,
            conditions: conditions.count
        )
    }
}
