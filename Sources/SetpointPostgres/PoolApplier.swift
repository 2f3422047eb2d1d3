import SetpointCore
import SetpointPG

/// `ConnectionPool`'s field table: where each field lives in PgBouncer — the databases file Setpoint writes (RELOADed),
/// or a setting PgBouncer only takes globally, SET on its admin console after each RELOAD — and what a change does.
enum PoolFields {
    /// Where a ConnectionPool field lives.
    enum Mapping: Sendable {
        /// Not compared (the PgBouncer instance's own address and paths).
        case none
        /// Written into the databases file (each entry, or the entries' pool-wide defaults), then RELOAD.
        case databasesFile
        /// A global setting SET on the admin console: its `SHOW CONFIG` key, how its text reads as the manifest's value
        /// and how that value is written, and PgBouncer's default when the manifest leaves it out.
        case console(
            key: String,
            read: @Sendable (String) -> Value?,
            write: @Sendable (Value) -> String?,
            default: Value
        )
    }

    static let fileReason = "written into each database entry, then RELOAD"
    static let consoleReason =
        "SET on the admin console after each RELOAD (pgbouncer.ini's value comes back if PgBouncer restarts: set it there too)"

    static let table = FieldTable<Mapping>(
        defaultImpact: .hot,
        rows: [
            .init("pgbouncer", .none, comparison: .ignore, coversFields: true),
            .init(
                "databases",
                .databasesFile,
                impact: .hot,
                reason: "the databases file is rewritten and PgBouncer RELOADs it: connected clients stay",
                coversFields: true
            ),
            .init("poolMode", .databasesFile, impact: .hot, reason: fileReason),
            .init("defaultPoolSize", .databasesFile, impact: .hot, reason: fileReason),
            .init("reservePoolSize", .databasesFile, impact: .hot, reason: fileReason),
            .init(
                "maxClientConn",
                .console(
                    key: "max_client_conn",
                    read: { Int64($0).map(Value.int) },
                    write: { $0.intValue.map { String($0) } },
                    default: .int(100)
                ),
                impact: .hot,
                reason: consoleReason
            ),
            .init(
                "serverIdleTimeout",
                // PgBouncer keeps whole seconds; the manifest's durations are milliseconds.
                .console(
                    key: "server_idle_timeout",
                    read: { Double($0).flatMap { Int64(exactly: ($0 * 1000).rounded()) }.map(Value.int) },
                    write: { $0.intValue.map { String($0 / 1000) } },
                    default: .int(600_000)
                ),
                impact: .hot,
                reason: consoleReason
            ),
        ]
    )

    static let policy = table.policy()

    /// The console settings as observed (`SHOW CONFIG`), by manifest field.
    static func observedSettings(_ config: [String: String]) -> [String: Value] {
        var out: [String: Value] = [:]
        for row in table.rows {
            guard case .console(let key, let read, _, _) = row.mapping, let text = config[key], let value = read(text)
            else { continue }
            out[row.path] = value
        }
        return out
    }

    /// The `SET key = value` statements that bring the console settings to the spec (its values, or PgBouncer's
    /// defaults for the fields it leaves out), given `SHOW CONFIG`.
    static func settingsToSet(_ spec: Value, config: [String: String]) -> [(key: String, value: String)] {
        var sets: [(key: String, value: String)] = []
        for row in table.rows {
            guard case .console(let key, let read, let write, let defaultValue) = row.mapping else { continue }
            let wanted = spec[row.path] ?? defaultValue
            guard let text = write(wanted) else { continue }
            // Compared as PgBouncer holds it (whole seconds), not as the manifest writes it.
            if config[key].flatMap(read) != read(text) { sets.append((key, text)) }
        }
        return sets
    }
}

/// Writes the databases file, RELOADs PgBouncer, sets the console-only settings, and checks `SHOW DATABASES`. A RELOAD
/// that fails puts the previous file back.
enum PoolApplier {
    static func apply(
        _ action: Action,
        resolved: ResolvedResource,
        context: ProviderContext
    ) async throws -> Observation {
        let pool = try PoolObserver.spec(of: resolved)
        let id = action.resource
        func fail(_ message: String) -> SetpointError { SetpointError(.applyFailed, message, resource: id) }
        var routes: [String: PoolRoute] = [:]
        if action.verb != .delete {
            for (name, d) in pool.databases {
                do { routes[name] = try PoolRoutes.route(d, name: name, pool: pool, context: context) } catch {
                    throw fail("spec.databases.\(name): \(error)")
                }
            }
        }
        let path = pool.pgbouncer.databasesFile
        let text = PoolFile.render(pool: id.name, routes: routes, iniFile: pool.pgbouncer.iniFile)
        let console = try await PoolConsole.connect(pool.pgbouncer, context: context, resource: id)
        defer { console.close() }
        let files = try await PoolFile.files(pool.pgbouncer, context: context, resource: id)
        do {
            if try await PoolFile.read(path, files: files) != text {
                try await PoolFile.store(text, at: path, files: files)
            }
        } catch { throw fail("\(error)") }
        do {
            try await console.command("RELOAD")
        } catch {
            try? await PoolFile.restorePrevious(path, files: files)
            try? await console.command("RELOAD")
            throw fail("PgBouncer \(console.endpoint) refused RELOAD: \(error); \(path) was put back as it was")
        }
        if action.verb == .delete { return .absent }
        // Settings PgBouncer only takes globally: SET, after the RELOAD that would have reset them.
        let sets = PoolFields.settingsToSet(resolved.resource.spec, config: try await console.config())
        for (key, value) in sets {
            do { try await console.command("SET \(key) = \(value)") } catch {
                throw fail("PgBouncer \(console.endpoint) refused SET \(key) = \(value): \(error)")
            }
        }
        // The postcondition: PgBouncer routes every database as written.
        let live = try await console.databases()
        for (name, route) in routes.sorted(by: { $0.key < $1.key }) where live[name] != route {
            let shown = live[name].map { "\($0.line(name: name))" } ?? "no entry"
            throw fail(
                "after RELOAD PgBouncer shows \(shown) instead of \(route.line(name: name)): does \(pool.pgbouncer.iniFile) define '\(name)' "
                    + "after its %include of \(path)? The later entry wins; remove it there"
            )
        }
        return .present(
            ObservedResource(
                spec: .map([:]),
                providerID: PoolConsole.endpoint(pool.pgbouncer, context: context)
            )
        )
    }
}
