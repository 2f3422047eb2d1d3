import SetpointCore
import SetpointPG

extension PostgresStateStore {
    /// The schema's versions, oldest first. Append new migrations; never edit or reorder a released one. The ids start
    /// like the SQLite store's, so messages name the same versions.
    static let migrations: [(id: String, sql: [String])] = [
        (
            "v1-owned-resources",
            [
                """
                CREATE TABLE setpoint_owned (
                    kind text NOT NULL, name text NOT NULL, provider_id text, spec text NOT NULL, depends_on text NOT NULL,
                    applied_at timestamptz NOT NULL, PRIMARY KEY (kind, name))
                """
            ]
        ),
        (
            "v2-audit-log-and-lease",
            [
                """
                CREATE TABLE setpoint_audit (
                    seq bigint PRIMARY KEY, time text NOT NULL, actor text NOT NULL, event text NOT NULL, plan_id text, action_id text,
                    resource text, result text, detail text NOT NULL, previous_hash text NOT NULL, hash text NOT NULL)
                """,
                // epoch: grows each time another holder takes the lease over (fencing).
                """
                CREATE TABLE setpoint_lease (
                    slot integer PRIMARY KEY CHECK (slot = 1), holder_id text NOT NULL, host text NOT NULL, pid integer NOT NULL,
                    since text NOT NULL, expires_at text NOT NULL, epoch bigint NOT NULL)
                """,
            ]
        ),
        (
            "v3-action-journals",
            [
                """
                CREATE TABLE setpoint_journals (action_id text NOT NULL, key text NOT NULL, value text NOT NULL, PRIMARY KEY (action_id, key))
                """
            ]
        ),
        (
            "v4-plans",
            [
                """
                CREATE TABLE setpoint_plans (id text PRIMARY KEY, status text NOT NULL, json text NOT NULL, text text NOT NULL, created_at text NOT NULL)
                """
            ]
        ),
        (
            "v5-backup-runs",
            [
                "CREATE TABLE setpoint_backup_runs (id text PRIMARY KEY, policy text NOT NULL, started_at text NOT NULL, run text NOT NULL)",
                "CREATE INDEX setpoint_backup_runs_by_policy ON setpoint_backup_runs (policy, started_at)",
            ]
        ),
        // The Codable plan beside its rendered views (NULL for plans stored before).
        ("v7-plan-model", ["ALTER TABLE setpoint_plans ADD COLUMN plan text"]),
        // Host keys trusted on first use (public keys only).
        (
            "v8-host-keys",
            [
                "CREATE TABLE setpoint_host_keys (host text NOT NULL, endpoint text NOT NULL, key text NOT NULL, trusted_at text NOT NULL, PRIMARY KEY (host, endpoint, key))"
            ]
        ),
        // Each declared resource's Ready and Synced conditions, as the leading controller last recorded them.
        (
            "v9-conditions",
            [
                "CREATE TABLE setpoint_conditions (resource text NOT NULL, type text NOT NULL, status text NOT NULL, reason text NOT NULL, message text NOT NULL, last_transition text NOT NULL, PRIMARY KEY (resource, type))"
            ]
        ),
    ]

    /// One advisory lock key for Setpoint's schema changes (any 64-bit constant of its own).
    static let migrationLock: Int64 = 0x5365_7470_6F69_6E74  // "Setpoint"

    /// The migration ids recorded in the database; nil when it holds no Setpoint state.
    func appliedMigrations() async throws -> [String]? {
        try await session.withConnection { db in
            let exists =
                try await db.query("SELECT to_regclass('setpoint_migrations') IS NOT NULL AS present").first?.bool(
                    "present"
                ) ?? false
            guard exists else { return nil }
            return try await db.query("SELECT id FROM setpoint_migrations ORDER BY applied_at, id").records.compactMap {
                $0["id"]
            }
        }
    }

    func refuseNewer(_ applied: [String]) throws {
        let known = Set(Self.migrations.map(\.id))
        let unknown = applied.filter { !known.contains($0) }
        if !unknown.isEmpty {
            throw SetpointError(
                .stateFailed,
                "state database \(location) was written by a newer build (schema versions "
                    + unknown.joined(separator: ", ") + "; this build knows "
                    + Self.migrations.map(\.id).joined(separator: ", ")
                    + "): use that build, or a newer one"
            )
        }
    }

    /// Brings the schema to this build's version, once, under an advisory lock.
    func migrate(extra: [String]) async throws {
        let all = Self.migrations + extra.map { ($0, [String]()) }
        let known = Set(Self.migrations.map(\.id)).union(extra)
        try await session.transaction { db in
            _ = try await db.query("SELECT pg_advisory_xact_lock($1)", [String(Self.migrationLock)])
            _ = try await db.query(
                "CREATE TABLE IF NOT EXISTS setpoint_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT clock_timestamp())"
            )
            let applied = Set(try await db.query("SELECT id FROM setpoint_migrations").records.compactMap { $0["id"] })
            try self.refuseNewer(applied.filter { !known.contains($0) }.sorted())
            for m in all where !applied.contains(m.id) {
                for statement in m.sql { _ = try await db.query(statement) }
                _ = try await db.query("INSERT INTO setpoint_migrations (id) VALUES ($1)", [m.id])
            }
        }
    }
}
