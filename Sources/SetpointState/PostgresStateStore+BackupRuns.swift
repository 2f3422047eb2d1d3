import SetpointCore
import SetpointPG

extension PostgresStateStore {
    public func recordBackupRun(_ run: BackupRun) async throws {
        let text = try BackupRunCoding.encode(run)
        try await write("record backup run \(run.id)") { db in
            _ = try await db.query(
                """
                INSERT INTO setpoint_backup_runs (id, policy, started_at, run) VALUES ($1, $2, $3, $4)
                ON CONFLICT (id) DO UPDATE SET run = excluded.run
                """,
                [run.id, run.policy, run.startedAt, text]
            )
        }
    }

    public func backupRuns(policy: String?, limit: Int) async throws -> [BackupRun] {
        try await read("read backup runs") { db in
            let rows =
                if let policy {
                    try await db.query(
                        "SELECT run FROM setpoint_backup_runs WHERE policy = $1 ORDER BY started_at DESC, id DESC LIMIT $2",
                        [policy, String(limit)]
                    )
                } else {
                    try await db.query(
                        "SELECT run FROM setpoint_backup_runs ORDER BY started_at DESC, id DESC LIMIT $1",
                        [String(limit)]
                    )
                }
            return rows.records.compactMap { $0["run"].flatMap(BackupRunCoding.decode) }
        }
    }
}

extension PostgresStateStore {
    public func recordTrustedHostKey(_ key: TrustedHostKey) async throws {
        try await write("record the trusted key of Host/\(key.host)") { db in
            _ = try await db.query(
                """
                INSERT INTO setpoint_host_keys (host, endpoint, key, trusted_at) VALUES ($1, $2, $3, $4)
                ON CONFLICT (host, endpoint, key) DO NOTHING
                """,
                [key.host, key.endpoint, key.key, key.trustedAt]
            )
        }
    }

    public func trustedHostKeys(host: String) async throws -> [TrustedHostKey] {
        try await read("read the trusted keys of Host/\(host)") { db in
            try await db.query(
                "SELECT endpoint, key, trusted_at FROM setpoint_host_keys WHERE host = $1 ORDER BY trusted_at, key",
                [host]
            ).records.map {
                TrustedHostKey(
                    host: host,
                    endpoint: $0["endpoint"] ?? "",
                    key: $0["key"] ?? "",
                    trustedAt: $0["trusted_at"] ?? ""
                )
            }
        }
    }
}

extension PostgresStateStore {
    public func allTrustedHostKeys() async throws -> [TrustedHostKey] {
        try await read("read the trusted host keys") { db in
            try await db.query(
                "SELECT * FROM setpoint_host_keys ORDER BY host COLLATE \"C\", trusted_at, key COLLATE \"C\"",
                []
            ).records.map {
                TrustedHostKey(
                    host: $0["host"] ?? "",
                    endpoint: $0["endpoint"] ?? "",
                    key: $0["key"] ?? "",
                    trustedAt: $0["trusted_at"] ?? ""
                )
            }
        }
    }

    public func importAuditRecords(_ records: [AuditRecord]) async throws {
        guard let first = records.first else { return }
        let location = self.location
        try await write("import audit records") { db in
            _ = try await db.query("LOCK TABLE setpoint_audit IN EXCLUSIVE MODE", [])
            let head = try await db.query("SELECT seq, hash FROM setpoint_audit ORDER BY seq DESC LIMIT 1", []).records
                .first
            let seq = Int64(head?["seq"] ?? "0") ?? 0
            let hash = head?["hash"] ?? ""
            guard first.seq == seq + 1, first.previousHash == hash else {
                throw SetpointError(
                    .stateFailed,
                    "audit record \(first.seq) does not follow the head of \(location) (seq \(seq)): not imported"
                )
            }
            for r in records { try await Self.insert(r, in: db) }
        }
    }

    public func replaceConditions(_ conditions: [ResourceCondition]) async throws {
        try await write("record the resources' conditions") { db in
            _ = try await db.query("DELETE FROM setpoint_conditions", [])
            for c in conditions {
                _ = try await db.query(
                    """
                    INSERT INTO setpoint_conditions (resource, type, status, reason, message, last_transition)
                    VALUES ($1, $2, $3, $4, $5, $6)
                    ON CONFLICT (resource, type) DO UPDATE SET status = EXCLUDED.status, reason = EXCLUDED.reason,
                    message = EXCLUDED.message, last_transition = EXCLUDED.last_transition
                    """,
                    [
                        c.resource.description, c.type.rawValue, c.status.rawValue, c.reason, c.message,
                        c.lastTransitionTime,
                    ]
                )
            }
        }
    }

    public func conditions(of resource: ResourceID?) async throws -> [ResourceCondition] {
        try await read("read the resources' conditions") { db in
            try await db.query(
                "SELECT * FROM setpoint_conditions WHERE $1::text IS NULL OR resource = $1 ORDER BY resource COLLATE \"C\", type COLLATE \"C\"",
                [resource?.description]
            ).records.compactMap { row in ResourceCondition.decode { row[$0] } }
        }
    }
}
