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
                    """)
        }
        for identifier in extra {
            migrator.registerMigration(identifier) { _ in }
        }
        return migrator
    }
}
