internal import GRDB

extension SQLiteStateStore {
    /// The schema's versions, oldest first. Append new migrations; never edit or reorder a released one.
    ///
    /// GRDB records each applied identifier in its `grdb_migrations` table, which is how a database
    /// written by a newer build (one with identifiers this list lacks) is recognised and refused.
    /// - Parameter extra: Identifiers of empty migrations appended after the real ones; tests use them
    ///   to make a database look as if a newer build had written it.
    static func migrator(extra: [String] = []) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-owned-resources") { db in
            // spec: canonical JSON (`CanonicalJSON.encode`) of the applied form: fingerprints, never secrets.
            // depends_on: JSON array of "Kind/name". applied_at: UTC ISO 8601, informational only.
            try db.execute(
                sql: """
                    CREATE TABLE owned_resources (
                        kind TEXT NOT NULL,
                        name TEXT NOT NULL,
                        provider_id TEXT,
                        spec TEXT NOT NULL,
                        depends_on TEXT NOT NULL,
                        applied_at TEXT NOT NULL,
                        PRIMARY KEY (kind, name)
                    ) WITHOUT ROWID
                    """
            )
        }
        migrator.registerMigration("v2-audit-log-and-lease") { db in
            // The audit log: append-only, seq 1, 2, 3 …, each record chained to the previous by hash.
            // detail: canonical JSON, never a secret.
            try db.execute(
                sql: """
                    CREATE TABLE audit_log (
                        seq INTEGER PRIMARY KEY,
                        time TEXT NOT NULL,
                        actor TEXT NOT NULL,
                        event TEXT NOT NULL,
                        plan_id TEXT,
                        action_id TEXT,
                        resource TEXT,
                        result TEXT,
                        detail TEXT NOT NULL,
                        previous_hash TEXT NOT NULL,
                        hash TEXT NOT NULL
                    )
                    """
            )
            // At most one apply at a time per state store: a single row.
            try db.execute(
                sql: """
                    CREATE TABLE apply_lease (
                        slot INTEGER PRIMARY KEY CHECK (slot = 1),
                        holder_id TEXT NOT NULL,
                        host TEXT NOT NULL,
                        pid INTEGER NOT NULL,
                        since TEXT NOT NULL,
                        expires_at TEXT NOT NULL
                    )
                    """
            )
        }
        migrator.registerMigration("v3-action-journals") { db in
            // Written before a remote call (a reserved id, a task id), cleared when the action's outcome is recorded.
            try db.execute(
                sql: """
                    CREATE TABLE action_journals (
                        action_id TEXT NOT NULL,
                        key TEXT NOT NULL,
                        value TEXT NOT NULL,
                        PRIMARY KEY (action_id, key)
                    ) WITHOUT ROWID
                    """
            )
        }
        migrator.registerMigration("v4-plans") { db in
            try db.execute(
                sql: """
                    CREATE TABLE plans (
                        id TEXT PRIMARY KEY,
                        status TEXT NOT NULL,
                        json TEXT NOT NULL,
                        text TEXT NOT NULL,
                        created_at TEXT NOT NULL
                    ) WITHOUT ROWID
                    """
            )
        }
        migrator.registerMigration("v5-backup-runs") { db in
            // One row per backup, dump or drill a BackupPolicy ran; run: JSON of the BackupRun (never a secret).
            try db.execute(
                sql:
                    "CREATE TABLE backup_runs (id TEXT PRIMARY KEY, policy TEXT NOT NULL, started_at TEXT NOT NULL, run TEXT NOT NULL) WITHOUT ROWID"
            )
            try db.execute(sql: "CREATE INDEX backup_runs_by_policy ON backup_runs (policy, started_at)")
        }
        migrator.registerMigration("v6-lease-epoch") { db in
            // Grows each time another holder takes the lease; writes of a store that holds it check it (fencing).
            try db.execute(sql: "ALTER TABLE apply_lease ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0")
        }
        migrator.registerMigration("v7-plan-model") { db in
            // The Codable plan beside its rendered views (NULL for plans stored before).
            try db.execute(sql: "ALTER TABLE plans ADD COLUMN plan TEXT")
        }
        migrator.registerMigration("v8-host-keys") { db in
            // Host keys trusted on first use (public keys only).
            try db.execute(
                sql:
                    "CREATE TABLE host_keys (host TEXT NOT NULL, endpoint TEXT NOT NULL, key TEXT NOT NULL, trusted_at TEXT NOT NULL, PRIMARY KEY (host, endpoint, key)) WITHOUT ROWID"
            )
        }
        migrator.registerMigration("v9-conditions") { db in
            // Each declared resource's Ready and Synced conditions, as the leading controller last recorded them.
            try db.execute(
                sql:
                    "CREATE TABLE conditions (resource TEXT NOT NULL, type TEXT NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL, message TEXT NOT NULL, last_transition TEXT NOT NULL, PRIMARY KEY (resource, type)) WITHOUT ROWID"
            )
        }
        for identifier in extra {
            migrator.registerMigration(identifier) { _ in }
        }
        return migrator
    }
}
