import SetpointCore
import SetpointPG

/// How a ConnectionPool's fields compare and what changing each does.
enum PoolPolicy {
    static func make() -> FieldPolicy {
        var p = FieldPolicy()
        p.rule("pgbouncer", comparison: .ignore)
        p.rule(
            "databases",
            impact: .hot,
            reason: "the databases file is rewritten and PgBouncer RELOADs it: connected clients stay"
        )
        p.rule("poolMode", impact: .hot, reason: "written into each database entry, then RELOAD")
        p.rule("defaultPoolSize", impact: .hot, reason: "written into each database entry, then RELOAD")
        p.rule("reservePoolSize", impact: .hot, reason: "written into each database entry, then RELOAD")
        p.rule(
            "maxClientConn",
            impact: .hot,
            reason:
                "SET on the admin console after each RELOAD (pgbouncer.ini's value comes back if PgBouncer restarts: set it there too)"
        )
        p.rule(
            "serverIdleTimeout",
            impact: .hot,
            reason:
                "SET on the admin console after each RELOAD (pgbouncer.ini's value comes back if PgBouncer restarts: set it there too)"
        )
        return p
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
        if PoolFile.read(path) != text {
            do { try PoolFile.store(text, at: path) } catch { throw fail("\(error)") }
        }
        do {
            try await console.command("RELOAD")
        } catch {
            try? PoolFile.restorePrevious(path)
            try? await console.command("RELOAD")
            throw fail("PgBouncer \(console.endpoint) refused RELOAD: \(error); \(path) was put back as it was")
        }
        if action.verb == .delete { return .absent }
        // Settings PgBouncer only takes globally: SET, after the RELOAD that would have reset them.
        let config = try await console.config()
        var sets: [(String, String)] = []
        let want = pool.maxClientConn ?? 100
        if config["max_client_conn"] != String(want) { sets.append(("max_client_conn", String(want))) }
        let idle = (pool.serverIdleTimeout?.milliseconds ?? 600_000) / 1000
        if config["server_idle_timeout"].flatMap(Double.init).flatMap({ Int64(exactly: $0.rounded(.towardZero)) })
            != idle
        {
            sets.append(("server_idle_timeout", String(idle)))
        }
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
                providerID: "\(pool.pgbouncer.host ?? "127.0.0.1"):\(pool.pgbouncer.port)"
            )
        )
    }
}
