public import SetpointCore
import SetpointPG

/// The audit log, the apply lease (with its epoch), journals and plans in PostgreSQL.
extension PostgresStateStore {
    /// One advisory lock key for audit appends: readers of the head and the insert after it are serialised across
    /// every process writing to this database (followers record approvals too), so the chain never forks.
    static let auditLock: Int64 = 0x5365_7470_4175_6469  // "SetpAudi"

    public func appendAudit(_ entry: AuditEntry, checkingChain: Bool) async throws -> AuditRecord {
        let record = try await write("append to the audit log") { db in
            try await self.append(entry, in: db, checkingChain: checkingChain)
        }
        tail.appended(record, location: location)
        return record
    }

    /// Appends after the head, inside the caller's write transaction; first checks the chain since the point last
    /// verified (``AuditTail``), under the lock that serialises appends.
    func append(_ entry: AuditEntry, in db: PGConnection, checkingChain: Bool = true) async throws -> AuditRecord {
        _ = try await db.query("SELECT pg_advisory_xact_lock($1)", [String(Self.auditLock)])
        for _ in 0..<(checkingChain ? 2 : 0) {
            let (start, origin) = try tail.start()
            let atStart = start.seq > 0 ? try await Self.records(db, "WHERE seq = $1", [String(start.seq)]).first : nil
            let after = try await Self.records(db, "WHERE seq > $1 ORDER BY seq", [String(start.seq)])
            if try tail.check(start: start, origin: origin, atStart: atStart, records: after, location: location) {
                break
            }
        }
        let head = try await db.query("SELECT seq, hash FROM setpoint_audit ORDER BY seq DESC LIMIT 1").first
        let seq = (head?.int64("seq") ?? 0) + 1
        let previous = head?["hash"] ?? ""
        let record = AuditRecord.chained(entry, seq: seq, previousHash: previous)
        try await Self.insert(record, in: db)
        return record
    }

    /// Writes one record as it is (its seq and hashes already made).
    static func insert(_ r: AuditRecord, in db: PGConnection) async throws {
        let e = r.entry
        _ = try await db.query(
            """
            INSERT INTO setpoint_audit (seq, time, actor, event, plan_id, action_id, resource, result, detail, previous_hash, hash)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            """,
            [
                String(r.seq), e.time, e.actor, e.event.rawValue, e.planID, e.actionID?.description,
                e.resource?.description, e.result, CanonicalJSON.encode(e.detail), r.previousHash, r.hash,
            ]
        )
    }

    public func auditRecords(after: Int64, limit: Int) async throws -> [AuditRecord] {
        try await read("read the audit log") { db in
            try await Self.records(db, "WHERE seq > $1 ORDER BY seq LIMIT $2", [String(after), String(limit)])
        }
    }

    public func latestAuditRecords(limit: Int) async throws -> [AuditRecord] {
        try await read("read the audit log") { db in
            try await Self.records(
                db,
                "WHERE seq > (SELECT COALESCE(MAX(seq), 0) FROM setpoint_audit) - $1::bigint ORDER BY seq",
                [String(limit)]
            )
        }
    }

    /// Audit records matching a clause.
    static func records(_ db: PGConnection, _ clause: String, _ parameters: [String]) async throws -> [AuditRecord] {
        try await db.query("SELECT * FROM setpoint_audit \(clause)", parameters).records.map { r in
            let detailText = r["detail"] ?? ""
            let detail =
                (try? CanonicalJSONReader.value(from: detailText))
                ?? .string("(unreadable detail: \(detailText.prefix(80)))")
            let entry = AuditEntry(
                time: r["time"] ?? "",
                actor: r["actor"] ?? "",
                event: AuditEvent(rawValue: r["event"] ?? ""),
                planID: r["plan_id"],
                actionID: r["action_id"].flatMap(ActionID.init(parsing:)),
                resource: r["resource"].flatMap(ResourceID.init(parsing:)),
                result: r["result"],
                detail: detail
            )
            return AuditRecord(
                seq: r.int64("seq") ?? 0,
                entry: entry,
                previousHash: r["previous_hash"] ?? "",
                hash: r["hash"] ?? ""
            )
        }
    }

    // MARK: - lease

    public func acquireLease(_ candidate: LeaseHolder, now: String) async throws -> LeaseHolder? {
        if isReadOnly {
            throw SetpointError(.stateFailed, "state is read-only: cannot take the apply lease in \(location)")
        }
        let taken: LeaseHolder? = try await run("take the apply lease") {
            try await session.transaction { db in
                // The row must exist before it is locked: two first-ever candidates would otherwise both find no row,
                // both insert, and the second's upsert would overwrite the first at the same epoch (two leaders). The
                // insert waits for a concurrent one to commit; the row lock after it serialises every candidate.
                _ = try await db.query(
                    """
                    INSERT INTO setpoint_lease (slot, holder_id, host, pid, since, expires_at, epoch) VALUES (1, '', '', 0, '', '', 0)
                    ON CONFLICT (slot) DO NOTHING
                    """
                )
                let row = try await db.query("SELECT * FROM setpoint_lease WHERE slot = 1 FOR UPDATE").first
                if let row, row["holder_id"] != candidate.id, (row["expires_at"] ?? "") > now {
                    return LeaseHolder(
                        id: row["holder_id"] ?? "",
                        host: row["host"] ?? "",
                        pid: Int32(row.int("pid") ?? 0),
                        since: row["since"] ?? "",
                        expiresAt: row["expires_at"] ?? ""
                    )
                }
                // A new holder gets the next epoch; the same holder taking it again keeps its own.
                let epoch = (row?.int64("epoch") ?? 0) + (row?["holder_id"] == candidate.id ? 0 : 1)
                _ = try await db.query(
                    """
                    UPDATE setpoint_lease SET holder_id = $1, host = $2, pid = $3, since = $4, expires_at = $5, epoch = $6 WHERE slot = 1
                    """,
                    [
                        candidate.id, candidate.host, String(candidate.pid), candidate.since, candidate.expiresAt,
                        String(epoch),
                    ]
                )
                return nil
            }
        }
        // The holder's writes through this store are fenced on the epoch it took the lease at.
        if taken == nil { try await fence(holder: candidate.id) }
        return taken
    }

    /// False when `holder` no longer holds the lease (another took it over): the caller steps down.
    public func renewLease(_ holder: LeaseHolder) async throws -> Bool {
        if isReadOnly {
            throw SetpointError(.stateFailed, "state is read-only: cannot renew the apply lease in \(location)")
        }
        return try await read("renew the apply lease") { db in
            try await db.query(
                "UPDATE setpoint_lease SET expires_at = $1 WHERE slot = 1 AND holder_id = $2",
                [holder.expiresAt, holder.id]
            )
            .commandTag.hasSuffix(" 1")
        }
    }

    /// Gives the lease up. The row stays (expired, holder cleared) so that the epoch keeps growing.
    public func releaseLease(id: String) async throws {
        if isReadOnly {
            throw SetpointError(.stateFailed, "state is read-only: cannot release the apply lease in \(location)")
        }
        try await run("release the apply lease") {
            try await session.withConnection { db in
                _ = try await db.query(
                    "UPDATE setpoint_lease SET holder_id = '', expires_at = '' WHERE slot = 1 AND holder_id = $1",
                    [id]
                )
            }
        }
        unfence()
    }

    /// The lease's current holder and epoch (nil holder when nobody holds it).
    public func leaseEpoch() async throws -> (holder: String?, epoch: Int64) {
        try await read("read the apply lease") { db in
            let row = try await db.query("SELECT holder_id, epoch FROM setpoint_lease WHERE slot = 1").first
            let holder = row?["holder_id"].flatMap { $0.isEmpty ? nil : $0 }
            return (holder, row?.int64("epoch") ?? 0)
        }
    }

    // MARK: - journals

    public func journalEntries(action: ActionID) async throws -> [String: String] {
        try await read("read the journal of \(action)") { db in
            var out: [String: String] = [:]
            for r in try await db.query(
                "SELECT key, value FROM setpoint_journals WHERE action_id = $1",
                [action.description]
            )
            .records {
                if let k = r["key"] { out[k] = r["value"] ?? "" }
            }
            return out
        }
    }

    public func recordJournal(action: ActionID, key: String, value: String) async throws {
        try await write("journal \(action)") { db in
            _ = try await db.query(
                """
                INSERT INTO setpoint_journals (action_id, key, value) VALUES ($1, $2, $3)
                ON CONFLICT (action_id, key) DO UPDATE SET value = excluded.value
                """,
                [action.description, key, value]
            )
        }
    }

    public func clearJournal(action: ActionID) async throws {
        try await write("clear the journal of \(action)") { db in
            _ = try await db.query("DELETE FROM setpoint_journals WHERE action_id = $1", [action.description])
        }
    }

    public func openJournals() async throws -> [ActionID: [String: String]] {
        try await read("read the action journals") { db in
            var out: [ActionID: [String: String]] = [:]
            for r in try await db.query("SELECT action_id, key, value FROM setpoint_journals").records {
                // Every journal is written under an action id; a row that is not one was not written by Setpoint.
                if let a = r["action_id"].flatMap(ActionID.init(parsing:)), let k = r["key"] {
                    out[a, default: [:]][k] = r["value"] ?? ""
                }
            }
            return out
        }
    }

    // MARK: - plans

    public func savePlan(_ plan: StoredPlan) async throws {
        let model = try StoredPlan.encode(plan.plan)
        try await write("save plan \(plan.id)") { db in
            _ = try await db.query(
                """
                INSERT INTO setpoint_plans (id, status, plan, json, text, created_at) VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (id) DO UPDATE SET status = excluded.status, plan = excluded.plan, json = excluded.json,
                    text = excluded.text, created_at = excluded.created_at
                WHERE setpoint_plans.status <> 'rejected'
                """,
                [plan.id, plan.status.rawValue, model, plan.json, plan.text, plan.createdAt]
            )
        }
    }

    public func storedPlan(id: String) async throws -> StoredPlan? {
        try await plans(where: "WHERE id = $1", [id]).first
    }

    public func transitionPlan(
        id: String,
        from: Set<StoredPlan.Status>,
        to status: StoredPlan.Status,
        audit: AuditEntry?
    ) async throws -> PlanTransition {
        let outcome: PlanTransition = try await write("change plan \(id)") { db in
            // The row lock makes concurrent decisions take turns; the second finds the first's status.
            guard
                let current = try await db.query("SELECT status FROM setpoint_plans WHERE id = $1 FOR UPDATE", [id])
                    .first?["status"]
            else {
                return .notFound
            }
            guard let now = StoredPlan.Status(rawValue: current), from.contains(now) else {
                return .conflict(StoredPlan.Status(rawValue: current) ?? .stale)
            }
            _ = try await db.query("UPDATE setpoint_plans SET status = $1 WHERE id = $2", [status.rawValue, id])
            guard let audit else { return .changed(nil) }
            return .changed(try await self.append(audit, in: db))
        }
        if case .changed(let record?) = outcome { tail.appended(record, location: location) }
        return outcome
    }

    public func storedPlans(status: StoredPlan.Status?) async throws -> [StoredPlan] {
        if let status { return try await plans(where: "WHERE status = $1", [status.rawValue]) }
        return try await plans(where: "", [])
    }

    private func plans(where clause: String, _ parameters: [String]) async throws -> [StoredPlan] {
        try await read("read plans") { db in
            try await db.query("SELECT * FROM setpoint_plans \(clause) ORDER BY created_at DESC, id DESC", parameters)
                .records.compactMap { r in
                    guard let status = r["status"].flatMap(StoredPlan.Status.init(rawValue:)) else { return nil }
                    return StoredPlan(
                        id: r["id"] ?? "",
                        status: status,
                        plan: StoredPlan.decode(r["plan"]),
                        json: r["json"] ?? "",
                        text: r["text"] ?? "",
                        createdAt: r["created_at"] ?? ""
                    )
                }
        }
    }
}
