internal import GRDB
public import SetpointCore

extension SQLiteStateStore {
    public func appendAudit(_ entry: AuditEntry) async throws -> AuditRecord {
        try refuseIfReadOnly("append to the audit log")
        return try await run("append to the audit log") {
            try await pool.writeWithoutTransaction { db in
                // IMMEDIATE: the head is read and the record written under one write lock, across processes too.
                var record: AuditRecord?
                try db.inTransaction(.immediate) {
                    record = try Self.append(entry, in: db)
                    return .commit
                }
                return record!
            }
        }
    }

    /// Appends after the head, inside the caller's write transaction.
    static func append(_ entry: AuditEntry, in db: Database) throws -> AuditRecord {
        let head = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        let seq: Int64 = (head?["seq"] as Int64? ?? 0) + 1
        let previous: String = head?["hash"] ?? ""
        let r = AuditRecord.chained(entry, seq: seq, previousHash: previous)
        try db.execute(
            sql: """
                INSERT INTO audit_log (seq, time, actor, event, plan_id, action_id, resource, result, detail, previous_hash, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                seq, entry.time, entry.actor, entry.event.rawValue, entry.planID, entry.actionID,
                entry.resource?.description, entry.result, CanonicalJSON.encode(entry.detail), previous, r.hash,
            ])
        return r
    }

    public func auditRecords(after: Int64, limit: Int) async throws -> [AuditRecord] {
        let rows = try await run("read the audit log") {
            try await pool.read { db in
                try Row.fetchAll(
                    db, sql: "SELECT * FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [after, limit]
                ).map { row -> (Int64, String, String, String, String?, String?, String?, String?, String, String, String) in
                    (row["seq"], row["time"], row["actor"], row["event"], row["plan_id"], row["action_id"], row["resource"],
                     row["result"], row["detail"], row["previous_hash"], row["hash"])
                }
            }
        }
        return try rows.map { r in
            // Unreadable detail (edited by hand) still yields a record, whose hash then fails verification.
            let detail = (try? CanonicalJSONReader.value(from: r.8)) ?? .string("(unreadable detail: \(r.8.prefix(80)))")
            let entry = AuditEntry(
                time: r.1, actor: r.2, event: AuditEvent(rawValue: r.3), planID: r.4, actionID: r.5,
                resource: r.6.flatMap(ResourceID.init(parsing:)), result: r.7, detail: detail)
            return AuditRecord(seq: r.0, entry: entry, previousHash: r.9, hash: r.10)
        }
    }

    public func acquireLease(_ candidate: LeaseHolder, now: String) async throws -> LeaseHolder? {
        try refuseIfReadOnly("take the apply lease")
        return try await run("take the apply lease") {
            try await pool.writeWithoutTransaction { db in
                var holder: LeaseHolder?
                try db.inTransaction(.immediate) {
                    if let row = try Row.fetchOne(db, sql: "SELECT * FROM apply_lease WHERE slot = 1") {
                        let current = LeaseHolder(id: row["holder_id"], host: row["host"], pid: row["pid"], since: row["since"],
                                                  expiresAt: row["expires_at"])
                        if current.id != candidate.id, current.expiresAt > now {
                            holder = current
                            return .rollback
                        }
                    }
                    try db.execute(
                        sql: """
                            INSERT INTO apply_lease (slot, holder_id, host, pid, since, expires_at) VALUES (1, ?, ?, ?, ?, ?)
                            ON CONFLICT (slot) DO UPDATE SET holder_id = excluded.holder_id, host = excluded.host, pid = excluded.pid,
                                since = excluded.since, expires_at = excluded.expires_at
                            """,
                        arguments: [candidate.id, candidate.host, candidate.pid, candidate.since, candidate.expiresAt])
                    return .commit
                }
                return holder
            }
        }
    }

    public func renewLease(_ holder: LeaseHolder) async throws -> Bool {
        try refuseIfReadOnly("renew the apply lease")
        return try await run("renew the apply lease") {
            try await pool.write { db in
                try db.execute(sql: "UPDATE apply_lease SET expires_at = ? WHERE slot = 1 AND holder_id = ?",
                               arguments: [holder.expiresAt, holder.id])
                return db.changesCount == 1
            }
        }
    }

    public func releaseLease(id: String) async throws {
        try refuseIfReadOnly("release the apply lease")
        try await run("release the apply lease") {
            try await pool.write { db in
                try db.execute(sql: "DELETE FROM apply_lease WHERE slot = 1 AND holder_id = ?", arguments: [id])
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
    public func journalEntries(action: String) async throws -> [String: String] {
        try await run("read the journal of \(action)") {
            try await pool.read { db in
                var out: [String: String] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT key, value FROM action_journals WHERE action_id = ?", arguments: [action]) {
                    out[row["key"]] = row["value"]
                }
                return out
            }
        }
    }

    public func recordJournal(action: String, key: String, value: String) async throws {
        try refuseIfReadOnly("journal \(action)")
        try await run("journal \(action)") {
            try await pool.write { db in
                try db.execute(
                    sql: "INSERT INTO action_journals (action_id, key, value) VALUES (?, ?, ?) ON CONFLICT (action_id, key) DO UPDATE SET value = excluded.value",
                    arguments: [action, key, value])
            }
        }
    }

    public func clearJournal(action: String) async throws {
        try refuseIfReadOnly("clear the journal of \(action)")
        try await run("clear the journal of \(action)") {
            try await pool.write { db in try db.execute(sql: "DELETE FROM action_journals WHERE action_id = ?", arguments: [action]) }
        }
    }

    public func openJournals() async throws -> [String: [String: String]] {
        try await run("read the action journals") {
            try await pool.read { db in
                var out: [String: [String: String]] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT action_id, key, value FROM action_journals") {
                    out[row["action_id"] as String, default: [:]][row["key"]] = row["value"]
                }
                return out
            }
        }
    }
}

extension SQLiteStateStore {
    public func savePlan(_ plan: StoredPlan) async throws {
        try refuseIfReadOnly("save plan \(plan.id)")
        try await run("save plan \(plan.id)") {
            try await pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO plans (id, status, json, text, created_at) VALUES (?, ?, ?, ?, ?)
                        ON CONFLICT (id) DO UPDATE SET status = excluded.status, json = excluded.json, text = excluded.text,
                            created_at = excluded.created_at
                        WHERE plans.status != 'rejected'
                        """,
                    arguments: [plan.id, plan.status.rawValue, plan.json, plan.text, plan.createdAt])
            }
        }
    }

    public func storedPlan(id: String) async throws -> StoredPlan? {
        try await storedPlans(where: "WHERE id = ?", [id]).first
    }

    public func transitionPlan(id: String, from: Set<StoredPlan.Status>, to status: StoredPlan.Status, audit: AuditEntry?) async throws -> PlanTransition {
        try refuseIfReadOnly("change plan \(id)")
        return try await run("change plan \(id)") {
            try await pool.writeWithoutTransaction { db in
                var outcome = PlanTransition.notFound
                // One IMMEDIATE transaction: the status read, the change and its audit record under one write lock.
                try db.inTransaction(.immediate) {
                    guard let current = try String.fetchOne(db, sql: "SELECT status FROM plans WHERE id = ?", arguments: [id]) else {
                        return .rollback
                    }
                    guard let now = StoredPlan.Status(rawValue: current), from.contains(now) else {
                        outcome = .conflict(StoredPlan.Status(rawValue: current) ?? .stale)
                        return .rollback
                    }
                    try db.execute(sql: "UPDATE plans SET status = ? WHERE id = ?", arguments: [status.rawValue, id])
                    outcome = .changed(try audit.map { try Self.append($0, in: db) })
                    return .commit
                }
                return outcome
            }
        }
    }

    public func storedPlans(status: StoredPlan.Status?) async throws -> [StoredPlan] {
        if let status { return try await storedPlans(where: "WHERE status = ?", [status.rawValue]) }
        return try await storedPlans(where: "", [])
    }

    private func storedPlans(where clause: String, _ arguments: [String]) async throws -> [StoredPlan] {
        try await run("read plans") {
            try await pool.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM plans \(clause) ORDER BY created_at DESC, id DESC", arguments: StatementArguments(arguments))
                    .compactMap { row in
                        StoredPlan.Status(rawValue: row["status"]).map {
                            StoredPlan(id: row["id"], status: $0, json: row["json"], text: row["text"], createdAt: row["created_at"])
                        }
                    }
            }
        }
    }
}
