import Foundation
public import SetpointCore
import SetpointPG
import Synchronization

/// The ``StateStore`` in PostgreSQL (`--state postgres://…`): owned resources, the audit log, the apply lease, action
/// journals and plans in one database, shared by several controllers for high availability.
///
/// The schema is migrated like the SQLite store's (a table of applied migration ids; a database migrated by a newer
/// build is refused) under an advisory lock, so two processes starting at once migrate it once.
///
/// **Fencing.** The apply lease has an *epoch* that grows each time another holder takes it over. A store through which
/// the lease was taken (or that is ``fence(holder:)``d) checks, in the same transaction as every write, that this holder still holds the lease at that
/// epoch, and refuses the write otherwise: a leader that was stopped (SIGSTOP, a long GC pause) and wakes up after
/// another took over cannot write anything. An advisory lock alone would not do: a stopped process keeps its session.
public final class PostgresStateStore: StateStore, AuditImport {
    /// Where the state lives, for messages: the URL without its password.
    public let location: String
    public let isReadOnly: Bool
    let session: PostgresSession
    private let fencing = Mutex<(holder: String, epoch: Int64)?>(nil)
    /// The chain check before each append, and the audit anchor.
    public let tail = AuditTail()

    private init(location: String, session: PostgresSession, isReadOnly: Bool) {
        self.location = location
        self.session = session
        self.isReadOnly = isReadOnly
    }

    /// Whether `--state` names a PostgreSQL database rather than a file.
    public static func isURL(_ state: String) -> Bool {
        state.hasPrefix("postgres://") || state.hasPrefix("postgresql://")
    }

    /// The URL with its password replaced, for messages and logs.
    public static func redacted(_ url: String) -> String {
        guard var c = URLComponents(string: url) else { return "postgres://(unparsable URL)" }
        if c.password != nil { c.password = "***" }
        c.query = nil
        return c.string ?? "postgres://…"
    }

    /// Opens the state for reading and writing and migrates the schema to this build's version.
    ///
    /// - Parameter password: the role's password when it is kept apart from the URL (a secret file); nil leaves it to
    ///   the URL, `PGPASSWORD`, `PGPASSFILE` or `~/.pgpass`, as libpq finds it.
    public static func open(url: String, password: String? = nil) async throws -> PostgresStateStore {
        try await open(url: url, password: password, futureMigrationsForTesting: [])
    }

    package static func open(
        url: String,
        password: String? = nil,
        futureMigrationsForTesting extra: [String]
    ) async throws -> PostgresStateStore {
        let store = PostgresStateStore(
            location: redacted(url),
            session: PostgresSession(config: config(url, password: password)),
            isReadOnly: false
        )
        try await store.run("migrate") { try await store.migrate(extra: extra) }
        return store
    }

    /// Opens existing state for reading only; nil when the database holds no Setpoint state yet.
    public static func openReadOnly(url: String, password: String? = nil) async throws -> PostgresStateStore? {
        let store = PostgresStateStore(
            location: redacted(url),
            session: PostgresSession(config: config(url, password: password)),
            isReadOnly: true
        )
        let applied = try await store.run("read the schema version") { try await store.appliedMigrations() }
        guard let applied else { return nil }
        try store.refuseNewer(applied)
        let missing = Self.migrations.map(\.id).filter { !applied.contains($0) }
        if !missing.isEmpty {
            throw SetpointError(
                .stateFailed,
                "state database \(store.location) is not migrated to this build's schema (missing "
                    + missing.joined(separator: ", ") + "); open it once for writing (setpoint apply) to migrate it"
            )
        }
        return store
    }

    static func config(_ url: String, password: String? = nil) -> PGConfig {
        // NOTICEs ("relation already exists, skipping") are not for the operator's terminal. A password given apart
        // comes after the URL's settings, so it wins over one in the URL.
        PGConfig(
            password: password,
            connectTimeoutSeconds: 10,
            applicationName: "setpoint-state",
            conninfo: url,
            options: ["options": "-c client_min_messages=warning"]
        )
    }

    /// True when the URL carries a password (`postgres://user:secret@host/db`): visible in `ps` and in unit files.
    public static func hasPassword(_ url: String) -> Bool {
        guard let c = URLComponents(string: url) else { return false }
        return !(c.password ?? "").isEmpty
            || (c.queryItems ?? []).contains { $0.name == "password" && !($0.value ?? "").isEmpty }
    }

    public func close() { session.close() }

    // MARK: - fencing

    /// From now on every write of this store checks that `holder` still holds the apply lease at the epoch it has now;
    /// returns that epoch. `acquireLease` does it for the holder it lets in.
    @discardableResult
    public func fence(holder: String) async throws -> Int64 {
        let epoch = try await run("read the lease epoch") {
            try await session.withConnection { db in
                try await db.query("SELECT epoch FROM setpoint_lease WHERE slot = 1 AND holder_id = $1", [holder])
                    .first?.int64("epoch")
            }
        }
        guard let epoch else {
            throw SetpointError(
                .leaseHeld,
                "cannot fence on \(holder): it does not hold the apply lease of \(location)"
            )
        }
        fencing.withLock { $0 = (holder, epoch) }
        return epoch
    }

    /// Stops fencing (this process no longer leads): its writes are a follower's (approvals) again.
    public func unfence() { fencing.withLock { $0 = nil } }

    /// Inside a write transaction: refuses the write when the fenced holder no longer holds the lease at its epoch.
    func checkFence(_ db: PGConnection, _ what: String) async throws {
        guard let fence = fencing.withLock({ $0 }) else { return }
        let row = try await db.query("SELECT holder_id, epoch FROM setpoint_lease WHERE slot = 1 FOR SHARE").first
        if row?["holder_id"] != fence.holder || row?.int64("epoch") != fence.epoch {
            throw SetpointError(
                .leaseHeld,
                "refused to \(what) in \(location): stale epoch \(fence.epoch) — the apply lease is now held by "
                    + "\(row?["holder_id"] ?? "nobody") at epoch \(row?["epoch"] ?? "?"); this process is no longer the leader"
            )
        }
    }

    /// A write: read-only refused, fenced, in a transaction, errors named.
    func write<T: Sendable>(
        _ what: String,
        _ body: @Sendable @escaping (PGConnection) async throws -> T
    ) async throws -> T {
        if isReadOnly { throw SetpointError(.stateFailed, "state is read-only: cannot \(what) in \(location)") }
        return try await run(what) {
            try await session.transaction { db in
                try await self.checkFence(db, what)
                return try await body(db)
            }
        }
    }

    func read<T: Sendable>(
        _ what: String,
        _ body: @Sendable @escaping (PGConnection) async throws -> T
    ) async throws -> T {
        try await run(what) { try await session.withConnection(body) }
    }

    /// Turns database errors into `SetpointError(.stateFailed, …)` naming the database.
    func run<T: Sendable>(_ what: String, _ operation: () async throws -> T) async throws -> T {
        do {
            return try await operation()
        } catch let error as SetpointError {
            throw error
        } catch let error as PGError {
            throw SetpointError(
                .stateFailed,
                "cannot \(what) in \(location): \(error.message)",
                isTransient: error.isTransient
            )
        } catch {
            throw SetpointError(.stateFailed, "cannot \(what) in \(location): \(error)")
        }
    }

    // MARK: - StateStore

    public func ownedResources() async throws -> [ResourceID: AppliedResource] {
        let rows = try await read("read owned resources") { db in
            try await db.query("SELECT kind, name, provider_id, spec, depends_on FROM setpoint_owned").records.map(
                Self.row
            )
        }
        var out: [ResourceID: AppliedResource] = [:]
        for row in rows {
            let r = try decode(row)
            out[r.id] = r
        }
        return out
    }

    public func owned(_ id: ResourceID) async throws -> AppliedResource? {
        let row = try await read("read \(id)") { db in
            try await db.query(
                "SELECT kind, name, provider_id, spec, depends_on FROM setpoint_owned WHERE kind = $1 AND name = $2",
                [id.kind.rawValue, id.name]
            ).first.map(Self.row)
        }
        return try row.map(decode)
    }

    public func recordApplied(_ resource: AppliedResource) async throws {
        let spec = CanonicalJSON.encode(resource.spec)
        let dependsOn = CanonicalJSON.encode(.list(resource.dependsOn.map { .string($0.description) }))
        try await write("record \(resource.id)") { db in
            _ = try await db.query(
                """
                INSERT INTO setpoint_owned (kind, name, provider_id, spec, depends_on, applied_at) VALUES ($1, $2, $3, $4, $5, now())
                ON CONFLICT (kind, name) DO UPDATE SET provider_id = excluded.provider_id, spec = excluded.spec,
                    depends_on = excluded.depends_on, applied_at = excluded.applied_at
                """,
                [resource.id.kind.rawValue, resource.id.name, resource.providerID, spec, dependsOn]
            )
        }
    }

    public func forget(_ id: ResourceID) async throws {
        try await write("forget \(id)") { db in
            _ = try await db.query(
                "DELETE FROM setpoint_owned WHERE kind = $1 AND name = $2",
                [id.kind.rawValue, id.name]
            )
        }
    }

    private static func row(_ r: PGRow) -> StoredResourceRow {
        StoredResourceRow(
            kind: r["kind"],
            name: r["name"],
            providerID: r["provider_id"],
            spec: r["spec"],
            dependsOn: r["depends_on"]
        )
    }

    private func decode(_ row: StoredResourceRow) throws -> AppliedResource {
        try row.decode(location: location, table: "setpoint_owned")
    }
}
