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
                "SELECT * FROM setpoint_conditions WHERE $1::text IS NULL OR resource = $1 ORDER BY resource, type",
                [resource?.description]
            ).records.compactMap { row in ResourceCondition.decode { row[$0] } }
        }
    }
}
