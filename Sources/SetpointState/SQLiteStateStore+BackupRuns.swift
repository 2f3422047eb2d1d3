internal import GRDB
import SetpointCore

extension SQLiteStateStore {
    public func recordBackupRun(_ run: BackupRun) async throws {
        let text = try BackupRunCoding.encode(run)
        try await write("record backup run \(run.id)") { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO backup_runs (id, policy, started_at, run) VALUES (?, ?, ?, ?)",
                arguments: [run.id, run.policy, run.startedAt, text]
            )
        }
    }

    public func backupRuns(policy: String?, limit: Int) async throws -> [BackupRun] {
        try await run("read backup runs") {
            try await pool.read { db in
                let rows =
                    if let policy {
                        try String.fetchAll(
                            db,
                            sql:
                                "SELECT run FROM backup_runs WHERE policy = ? ORDER BY started_at DESC, id DESC LIMIT ?",
                            arguments: [policy, limit]
                        )
                    } else {
                        try String.fetchAll(
                            db,
                            sql: "SELECT run FROM backup_runs ORDER BY started_at DESC, id DESC LIMIT ?",
                            arguments: [limit]
                        )
                    }
                return rows.compactMap(BackupRunCoding.decode)
            }
        }
    }
}

extension SQLiteStateStore {
    public func recordTrustedHostKey(_ key: TrustedHostKey) async throws {
        try await write("record the trusted key of Host/\(key.host)") { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO host_keys (host, endpoint, key, trusted_at) VALUES (?, ?, ?, ?)",
                arguments: [key.host, key.endpoint, key.key, key.trustedAt]
            )
        }
    }

    public func trustedHostKeys(host: String) async throws -> [TrustedHostKey] {
        try await run("read the trusted keys of Host/\(host)") {
            try await pool.read { db in
                try Row.fetchAll(
                    db,
                    sql: "SELECT endpoint, key, trusted_at FROM host_keys WHERE host = ? ORDER BY trusted_at, key",
                    arguments: [host]
                ).map {
                    TrustedHostKey(host: host, endpoint: $0["endpoint"], key: $0["key"], trustedAt: $0["trusted_at"])
                }
            }
        }
    }
}

extension SQLiteStateStore {
    public func allTrustedHostKeys() async throws -> [TrustedHostKey] {
        try await run("read the trusted host keys") {
            try await pool.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM host_keys ORDER BY host, trusted_at, key").map {
                    TrustedHostKey(
                        host: $0["host"],
                        endpoint: $0["endpoint"],
                        key: $0["key"],
                        trustedAt: $0["trusted_at"]
                    )
                }
            }
        }
    }

    public func importAuditRecords(_ records: [AuditRecord]) async throws {
        guard let first = records.first else { return }
        try await write("import audit records") { db in
            let head = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            let seq: Int64 = head?["seq"] ?? 0
            let hash: String = head?["hash"] ?? ""
            guard first.seq == seq + 1, first.previousHash == hash else {
                throw SetpointError(
                    .stateFailed,
                    "audit record \(first.seq) does not follow the head of \(self.path) (seq \(seq)): not imported"
                )
            }
            for r in records { try Self.insert(r, in: db) }
        }
    }

    public func replaceConditions(_ conditions: [ResourceCondition]) async throws {
        try await write("record the resources' conditions") { db in
            try db.execute(sql: "DELETE FROM conditions")
            for c in conditions {
                try db.execute(
                    sql:
                        "INSERT OR REPLACE INTO conditions (resource, type, status, reason, message, last_transition) VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: [
                        c.resource.description, c.type.rawValue, c.status.rawValue, c.reason, c.message,
                        c.lastTransitionTime,
                    ]
                )
            }
        }
    }

    public func conditions(of resource: ResourceID?) async throws -> [ResourceCondition] {
        try await run("read the resources' conditions") {
            try await pool.read { db in
                try Row.fetchAll(
                    db,
                    sql: "SELECT * FROM conditions WHERE ? IS NULL OR resource = ? ORDER BY resource, type",
                    arguments: [resource?.description, resource?.description]
                ).compactMap { row in ResourceCondition.decode { row[$0] } }
            }
        }
    }
}
