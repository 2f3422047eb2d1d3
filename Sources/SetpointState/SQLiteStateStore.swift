import Foundation
internal import GRDB
public import SetpointCore
import Synchronization

/// The embedded ``StateStore``: one SQLite file (GRDB `DatabasePool`, WAL), `.setpoint/state.db` by default.
///
/// Two ways to open it:
/// - ``open(path:)`` for `apply` and `import`: creates the folder and the file when missing, and brings the
///   schema up to date with this build's migrations.
/// - ``openReadOnly(path:)`` for `plan` and CI: writes nothing. A missing file means nothing is owned yet
///   and gives nil, without creating the file or its folder.
///
/// Both refuse a database whose schema was migrated by a newer build (migration identifiers this build
/// does not know), so an older `setpoint` never reads or writes a schema it does not understand.
///
/// Each owned resource is one row of `owned_resources`; its spec is stored as canonical JSON
/// (`CanonicalJSON.encode`), which holds fingerprints and secret references but never a secret's value.
///
/// ```swift
/// guard let state = try SQLiteStateStore.openReadOnly(path: statePath) else {
///     // nothing owned yet
/// }
/// let owned = try await state.ownedResources()
/// ```
public final class SQLiteStateStore: StateStore, AuditImport {
    /// Where the CLI keeps state unless `--state PATH` says otherwise (relative to the working directory).
    public static let defaultPath = ".setpoint/state.db"

    /// The database file, as given when opening.
    public let path: String
    public let isReadOnly: Bool
    let pool: DatabasePool
    /// The chain check before each append, and the audit anchor (``useAnchor(_:)``).
    public let tail = AuditTail()
    /// The lease holder and epoch this store's writes are fenced on (set when it takes the lease).
    let fencing = Mutex<(holder: String, epoch: Int64)?>(nil)

    private init(path: String, pool: DatabasePool, isReadOnly: Bool) {
        self.path = path
        self.pool = pool
        self.isReadOnly = isReadOnly
    }

    /// Opens the state for reading and writing, creating its folder and file when missing, and migrates
    /// the schema to this build's version.
    ///
    /// - Parameter path: The database file; its folder is created with intermediate folders.
    /// - Throws: `SetpointError(.stateFailed, …)` naming the path when the folder or file cannot be
    ///   created or opened, the file is not a database, a migration fails, or a newer build wrote it.
    public static func open(path: String = defaultPath) throws -> SQLiteStateStore {
        try open(path: path, futureMigrationsForTesting: [])
    }

    /// ``open(path:)`` with a migrator that knows extra (empty) migrations, so that tests can produce a
    /// database "from a newer build".
    package static func open(path: String, futureMigrationsForTesting extra: [String]) throws -> SQLiteStateStore {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw SetpointError(.stateFailed, "cannot create the state folder \(folder): \(describe(error))")
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.label = "setpoint-state"
        // Every commit reaches the disk before it returns: the audit log's plan record is synced before the
        // first change is made.
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        let pool = try opening(path) { try DatabasePool(path: path, configuration: configuration) }
        let migrator = migrator(extra: extra)
        try opening(path) {
            try refuseNewerSchema(pool.read { try migrator.appliedIdentifiers($0) }, migrator: migrator, path: path)
            try migrator.migrate(pool)
        }
        return SQLiteStateStore(path: path, pool: pool, isReadOnly: false)
    }

    /// Opens existing state for reading only; nil when the file does not exist ("nothing owned yet").
    ///
    /// Every write on the returned store throws. A missing file creates nothing, neither file nor folder.
    /// An existing database and its write-ahead log are never modified; SQLite readers do update the
    /// shared-memory index (`state.db-shm`), and create it and an empty `state.db-wal` if a tool other
    /// than Setpoint removed them (Setpoint's own stores leave both in place).
    ///
    /// - Parameter path: The database file.
    /// - Throws: `SetpointError(.stateFailed, …)` naming the path when the file cannot be opened or is not
    ///   a database, when a newer build migrated it (the error names the versions), or when its schema is
    ///   older than this build's (it must be opened writable once, by `apply`, to migrate).
    public static func openReadOnly(path: String = defaultPath) throws -> SQLiteStateStore? {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { return nil }
        if isFolder.boolValue {
            throw SetpointError(.stateFailed, "cannot open the state database \(path): it is a folder")
        }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.label = "setpoint-state"
        let pool = try opening(path) { try DatabasePool(path: path, configuration: configuration) }
        let migrator = migrator()
        try opening(path) {
            let applied = try pool.read { try migrator.appliedIdentifiers($0) }
            try refuseNewerSchema(applied, migrator: migrator, path: path)
            let missing = migrator.migrations.filter { !applied.contains($0) }
            if !missing.isEmpty {
                throw SetpointError(
                    .stateFailed,
                    "state database \(path) is not migrated to this build's schema (missing \(list(missing))); "
                        + "open it once for writing (setpoint apply) to migrate it"
                )
            }
        }
        return SQLiteStateStore(path: path, pool: pool, isReadOnly: true)
    }

    /// Closes the database connections; any later call throws. Connections also close when the store is freed.
    ///
    /// A writable store first checkpoints the write-ahead log into the database file (best effort: skipped
    /// while another process reads), so that `state.db` alone holds everything and can be copied or backed up.
    /// The `-wal` and `-shm` files stay beside it, which lets a later read-only opening create no file.
    public func close() throws {
        if !isReadOnly {
            _ = try? pool.writeWithoutTransaction { try $0.checkpoint(.truncate) }
        }
        try Self.opening(path) { try pool.close() }
    }

    // MARK: - StateStore

    public func ownedResources() async throws -> [ResourceID: AppliedResource] {
        let rows = try await run("read owned resources") {
            try await pool.read { db in
                try Row.fetchAll(db, sql: "SELECT kind, name, provider_id, spec, depends_on FROM owned_resources")
                    .map(Self.row)
            }
        }
        var result: [ResourceID: AppliedResource] = [:]
        for row in rows {
            let resource = try decode(row)
            result[resource.id] = resource
        }
        return result
    }

    public func owned(_ id: ResourceID) async throws -> AppliedResource? {
        let row = try await run("read \(id)") {
            try await pool.read { db in
                try Row.fetchOne(
                    db,
                    sql:
                        "SELECT kind, name, provider_id, spec, depends_on FROM owned_resources WHERE kind = ? AND name = ?",
                    arguments: [id.kind.rawValue, id.name]
                ).map(Self.row)
            }
        }
        return try row.map(decode)
    }

    public func recordApplied(_ resource: AppliedResource) async throws {
        let spec = CanonicalJSON.encode(resource.spec)
        let dependsOn = CanonicalJSON.encode(.list(resource.dependsOn.map { .string($0.description) }))
        let arguments: StatementArguments = [
            resource.id.kind.rawValue, resource.id.name, resource.providerID, spec, dependsOn,
        ]
        try await write("record \(resource.id)") { db in
            try db.execute(
                sql: """
                    INSERT INTO owned_resources (kind, name, provider_id, spec, depends_on, applied_at)
                    VALUES (?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                    ON CONFLICT (kind, name) DO UPDATE SET
                        provider_id = excluded.provider_id, spec = excluded.spec,
                        depends_on = excluded.depends_on, applied_at = excluded.applied_at
                    """,
                arguments: arguments
            )
        }
    }

    public func forget(_ id: ResourceID) async throws {
        try await write("forget \(id)") { db in
            try db.execute(
                sql: "DELETE FROM owned_resources WHERE kind = ? AND name = ?",
                arguments: [id.kind.rawValue, id.name]
            )
        }
    }

    // MARK: - Rows

    private static func row(_ row: Row) -> StoredResourceRow {
        StoredResourceRow(kind: row[0], name: row[1], providerID: row[2], spec: row[3], dependsOn: row[4])
    }

    private func decode(_ row: StoredResourceRow) throws -> AppliedResource {
        try row.decode(location: path, table: "owned_resources")
    }

    // MARK: - Errors

    func refuseIfReadOnly(_ what: String) throws {
        if isReadOnly {
            throw SetpointError(.stateFailed, "state is read-only: cannot \(what) in \(path)")
        }
    }

    /// Runs a database operation, turning its errors into `SetpointError(.stateFailed, …)` with the path.
    func run<T: Sendable>(_ what: String, _ operation: () async throws -> T) async throws -> T {
        do {
            return try await operation()
        } catch let error as SetpointError {
            throw error
        } catch {
            throw SetpointError(
                .stateFailed,
                "cannot \(what) in \(path): \(describe(error))",
                isTransient: Self.isTransient(error)
            )
        }
    }

    private static func opening<T>(_ path: String, _ operation: () throws -> T) throws -> T {
        do {
            return try operation()
        } catch let error as SetpointError {
            throw error
        } catch {
            throw SetpointError(
                .stateFailed,
                "cannot open the state database \(path): \(describe(error))",
                isTransient: isTransient(error)
            )
        }
    }

    private static func refuseNewerSchema(_ applied: Set<String>, migrator: DatabaseMigrator, path: String) throws {
        let unknown = applied.subtracting(migrator.migrations).sorted()
        guard unknown.isEmpty else {
            throw SetpointError(
                .stateFailed,
                "state database \(path) was migrated by a newer setpoint: it has schema migrations "
                    + "\(list(unknown)) that this build does not know (this build knows \(list(migrator.migrations))); "
                    + "use a setpoint at least as new as the one that wrote it"
            )
        }
    }

    /// Lock contention may clear on retry; everything else is terminal.
    private static func isTransient(_ error: any Error) -> Bool {
        guard let error = error as? DatabaseError else { return false }
        return error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED
    }

    private static func list(_ identifiers: [String]) -> String {
        identifiers.isEmpty ? "none" : identifiers.joined(separator: ", ")
    }
}

/// SQLite's own message ("SQLite error 8: attempt to write a readonly database") without the statement.
private func describe(_ error: any Error) -> String {
    if let error = error as? DatabaseError {
        return "SQLite error \(error.extendedResultCode.rawValue): \(error.message ?? "\(error.resultCode)")"
    }
    if let error = error as? CanonicalJSONReader.Malformed {
        return error.description
    }
    return error.localizedDescription
}
