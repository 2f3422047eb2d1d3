internal import GRDB
public import SetpointCore
import Synchronization

extension SQLiteStateStore {
    public func appendAudit(_ entry: AuditEntry, checkingChain: Bool) async throws -> AuditRecord {
        try refuseIfReadOnly("append to the audit log")
        let record = try await run("append to the audit log") {
            try await pool.writeWithoutTransaction { db in
                // IMMEDIATE: the chain checked, the head read and the record written under one write lock, across
                // processes too.
                var record: AuditRecord?
                try db.inTransaction(.immediate) {
                    try checkFence(db, "append to the audit log")
                    record = try append(entry, in: db, checkingChain: checkingChain)
                    return .commit
                }
                return record!
            }
        }
        tail.appended(record, location: path)
        return record
    }

    /// Appends after the head, inside the caller's write transaction; first checks the chain since the point last
    /// verified (``AuditTail``).
    func append(_ entry: AuditEntry, in db: Database, checkingChain: Bool = true) throws -> AuditRecord {
        for _ in 0..<(checkingChain ? 2 : 0) {
            let (start, origin) = try tail.start()
            let atStart = start.seq > 0 ? try Self.records(db, "WHERE seq = ?", [start.seq]).first : nil
            let after = try Self.records(db, "WHERE seq > ? ORDER BY seq", [start.seq])
            if try tail.check(start: start, origin: origin, atStart: atStart, records: after, location: path) { break }
        }
        let head = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        let seq: Int64 = (head?["seq"] as Int64? ?? 0) + 1
        let previous: String = head?["hash"] ?? ""
        let r = AuditRecord.chained(entry, seq: seq, previousHash: previous)
        try Self.insert(r, in: db)
        return r
    }

    /// Writes one record as it is (its seq and hashes already made).
    static func insert(_ r: AuditRecord, in db: Database) throws {
        let e = r.entry
        try db.execute(
            sql: """
                INSERT INTO audit_log (seq, time, actor, event, plan_id, action_id, resource, result, detail, previous_hash, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                r.seq, e.time, e.actor, e.event.rawValue, e.planID, e.actionID?.description,
                e.resource?.description, e.result, CanonicalJSON.encode(e.detail), r.previousHash, r.hash,
            ]
        )
    }

    public func auditRecords(after: Int64, limit: Int) async throws -> [AuditRecord] {
        try await run("read the audit log") {
            try await pool.read { db in try Self.records(db, "WHERE seq > ? ORDER BY seq LIMIT ?", [after, limit]) }
        }
    }

    public func latestAuditRecords(limit: Int) async throws -> [AuditRecord] {
        try await run("read the audit log") {
            try await pool.read { db in
                try Self.records(
                    db,
                    "WHERE seq > (SELECT COALESCE(MAX(seq), 0) FROM audit_log) - ? ORDER BY seq",
                    [limit]
                )
            }
        }
    }

    /// Audit records matching a clause. Unreadable detail (edited by hand) still yields a record, whose hash then fails
    /// verification.
    static func records(_ db: Database, _ clause: String, _ arguments: StatementArguments) throws -> [AuditRecord] {
        try Row.fetchAll(db, sql: "SELECT * FROM audit_log \(clause)", arguments: arguments).map { row in
            let detailText: String = row["detail"]
            let detail =
                (try? CanonicalJSONReader.value(from: detailText))
                ?? .string("(unreadable detail: \(detailText.prefix(80)))")
            let resource: String? = row["resource"]
            let entry = AuditEntry(
                time: row["time"],
                actor: row["actor"],
                event: AuditEvent(rawValue: row["event"]),
                planID: row["plan_id"],
                actionID: (row["action_id"] as String?).flatMap(ActionID.init(parsing:)),
                resource: resource.flatMap(ResourceID.init(parsing:)),
                result: row["result"],
                detail: detail
            )
            return AuditRecord(seq: row["seq"], entry: entry, previousHash: row["previous_hash"], hash: row["hash"])
        }
    }

    public func acquireLease(_ candidate: LeaseHolder, now: String) async throws -> LeaseHolder? {
        try refuseIfReadOnly("take the apply lease")
        let (holder, epoch) = try await run("take the apply lease") {
            try await pool.writeWithoutTransaction { db in
                var holder: LeaseHolder?
                var epoch: Int64 = 0
                try db.inTransaction(.immediate) {
                    let row = try Row.fetchOne(db, sql: "SELECT * FROM apply_lease WHERE slot = 1")
                    if let row {
                        let current = LeaseHolder(
                            id: row["holder_id"],
                            host: row["host"],
                            pid: row["pid"],
                            since: row["since"],
                            expiresAt: row["expires_at"]
                        )
                        if !current.id.isEmpty, current.id != candidate.id, current.expiresAt > now {
                            holder = current
                            return .rollback
                        }
                    }
                    // A new holder gets the next epoch; the same holder taking it again keeps its own. The row stays when
                    // the lease is released, so the epoch only grows.
                    let previous: Int64 = row?["epoch"] ?? 0
                    epoch = previous + (row?["holder_id"] == candidate.id ? 0 : 1)
                    try db.execute(
                        sql: """
                            INSERT INTO apply_lease (slot, holder_id, host, pid, since, expires_at, epoch) VALUES (1, ?, ?, ?, ?, ?, ?)
                            ON CONFLICT (slot) DO UPDATE SET holder_id = excluded.holder_id, host = excluded.host, pid = excluded.pid,
                                since = excluded.since, expires_at = excluded.expires_at, epoch = excluded.epoch
                            """,
                        arguments: [
                            candidate.id, candidate.host, candidate.pid, candidate.since, candidate.expiresAt, epoch,
                        ]
                    )
                    return .commit
                }
                return (holder, epoch)
            }
        }
        // The holder's writes through this store are fenced on the epoch it took the lease at, as in PostgreSQL.
        if holder == nil { fencing.withLock { $0 = (candidate.id, epoch) } }
        return holder
    }

    public func renewLease(_ holder: LeaseHolder) async throws -> Bool {
        try refuseIfReadOnly("renew the apply lease")
        return try await run("renew the apply lease") {
            try await pool.write { db in
                try db.execute(
                    sql: "UPDATE apply_lease SET expires_at = ? WHERE slot = 1 AND holder_id = ?",
                    arguments: [holder.expiresAt, holder.id]
                )
                return db.changesCount == 1
            }
        }
    }

    /// Gives the lease up: the row stays (holder cleared, expired) so that the epoch keeps growing.
    public func releaseLease(id: String) async throws {
        try refuseIfReadOnly("release the apply lease")
        try await run("release the apply lease") {
            try await pool.write { db in
                try db.execute(
                    sql: "UPDATE apply_lease SET holder_id = '', expires_at = '' WHERE slot = 1 AND holder_id = ?",
                    arguments: [id]
                )
            }
        }
        fencing.withLock { if $0?.holder == id { $0 = nil } }
    }

    /// Inside a write transaction: refuses the write when the holder this store is fenced on no longer holds the lease
    /// at its epoch (this process was paused past its lease and another apply took it).
    func checkFence(_ db: Database, _ what: String) throws {
        guard let fence = fencing.withLock({ $0 }) else { return }
        let row = try Row.fetchOne(db, sql: "SELECT holder_id, epoch FROM apply_lease WHERE slot = 1")
        let holder: String? = row?["holder_id"]
        let epoch: Int64? = row?["epoch"]
        if holder != fence.holder || epoch != fence.epoch {
            throw SetpointError(
                .leaseHeld,
                "refused to \(what) in \(path): stale epoch \(fence.epoch) — the apply lease is now held by "
                    + "\(holder.flatMap { $0.isEmpty ? nil : $0 } ?? "nobody") at epoch \(epoch.map(String.init) ?? "?"); this process lost its lease "
                    + "while it was paused, and writes nothing more"
            )
        }
    }

    /// A write transaction, fenced on the lease this store took (if any).
    func write<T: Sendable>(_ what: String, _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try refuseIfReadOnly(what)
        return try await run(what) {
            try await pool.write { db in
                try self.checkFence(db, what)
                return try body(db)
            }
        }
    }
}

extension SQLiteStateStore {
    /// Runs raw SQL against the database: for tamper tests only (editing, deleting and reordering audit records).
    package func executeForTesting(_ sql: String) async throws {
        try await pool.writeWithoutTransaction { db in try db.execute(sql: sql) }
    }
}

extension SQLiteStateStore {
    public func journalEntries(action: ActionID) async throws -> [String: String] {
        try await run("read the journal of \(action)") {
            try await pool.read { db in
                var out: [String: String] = [:]
                for row in try Row.fetchAll(
                    db,
                    sql: "SELECT key, value FROM action_journals WHERE action_id = ?",
                    arguments: [action.description]
                ) {
                    out[row["key"]] = row["value"]
                }
                return out
            }
        }
    }

    public func recordJournal(action: ActionID, key: String, value: String) async throws {
        try await write("journal \(action)") { db in
            try db.execute(
                sql:
                    "INSERT INTO action_journals (action_id, key, value) VALUES (?, ?, ?) ON CONFLICT (action_id, key) DO UPDATE SET value = excluded.value",
                arguments: [action.description, key, value]
            )
        }
    }

    public func clearJournal(action: ActionID) async throws {
        try await write("clear the journal of \(action)") { db in
            try db.execute(sql: "DELETE FROM action_journals WHERE action_id = ?", arguments: [action.description])
        }
    }

    public func openJournals() async throws -> [ActionID: [String: String]] {
        try await run("read the action journals") {
            try await pool.read { db in
                var out: [ActionID: [String: String]] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT action_id, key, value FROM action_journals") {
                    // Every journal is written under an action id; a row that is not one was not written by Setpoint.
                    guard let id = ActionID(parsing: row["action_id"]) else { continue }
                    out[id, default: [:]][row["key"]] = row["value"]
                }
                return out
            }
        }
    }
}

extension SQLiteStateStore {
    public func savePlan(_ plan: StoredPlan) async throws {
        let model = try StoredPlan.encode(plan.plan)
        try await write("save plan \(plan.id)") { db in
            try db.execute(
                sql: """
                    INSERT INTO plans (id, status, plan, json, text, created_at) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET status = excluded.status, plan = excluded.plan, json = excluded.json,
                        text = excluded.text, created_at = excluded.created_at
                    WHERE plans.status != 'rejected'
                    """,
                arguments: [plan.id, plan.status.rawValue, model, plan.json, plan.text, plan.createdAt]
            )
        }
    }

    public func storedPlan(id: String) async throws -> StoredPlan? {
        try await storedPlans(where: "WHERE id = ?", [id]).first
    }

    public func transitionPlan(
        id: String,
        from: Set<StoredPlan.Status>,
        to status: StoredPlan.Status,
        audit: AuditEntry?
    ) async throws -> PlanTransition {
        try refuseIfReadOnly("change plan \(id)")
        let outcome = try await run("change plan \(id)") {
            try await pool.writeWithoutTransaction { db in
                var outcome = PlanTransition.notFound
                // One IMMEDIATE transaction: the status read, the change and its audit record under one write lock.
                try db.inTransaction(.immediate) {
                    try checkFence(db, "change plan \(id)")
                    guard
                        let current = try String.fetchOne(
                            db,
                            sql: "SELECT status FROM plans WHERE id = ?",
                            arguments: [id]
                        )
                    else {
                        return .rollback
                    }
                    guard let now = StoredPlan.Status(rawValue: current), from.contains(now) else {
                        outcome = .conflict(StoredPlan.Status(rawValue: current) ?? .stale)
                        return .rollback
                    }
                    try db.execute(sql: "UPDATE plans SET status = ? WHERE id = ?", arguments: [status.rawValue, id])
                    outcome = .changed(try audit.map { try append($0, in: db) })
                    return .commit
                }
                return outcome
            }
        }
        if case .changed(let record?) = outcome { tail.appended(record, location: path) }
        return outcome
    }

    public func storedPlans(status: StoredPlan.Status?) async throws -> [StoredPlan] {
        if let status { return try await storedPlans(where: "WHERE status = ?", [status.rawValue]) }
        return try await storedPlans(where: "", [])
    }

    private func storedPlans(where clause: String, _ arguments: [String]) async throws -> [StoredPlan] {
        try await run("read plans") {
            try await pool.read { db in
                try Row.fetchAll(
                    db,
                    sql: "SELECT * FROM plans \(clause) ORDER BY created_at DESC, id DESC",
                    arguments: StatementArguments(arguments)
                )
                .compactMap { row in
                    StoredPlan.Status(rawValue: row["status"]).map {
                        StoredPlan(
                            id: row["id"],
                            status: $0,
                            plan: StoredPlan.decode(row["plan"]),
                            json: row["json"],
                            text: row["text"],
                            createdAt: row["created_at"]
                        )
                    }
                }
            }
        }
    }
}
