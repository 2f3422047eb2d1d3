import SetpointCore
import SetpointPG
import SetpointRemote

/// Observes a ConnectionPool through PgBouncer's admin console and the databases file Setpoint owns, in the manifest's
/// shape: a database whose live route goes elsewhere shows `cluster: HOST:PORT`; one written to the file but not yet
/// loaded shows what the file says.
enum PoolObserver {
    static func spec(of r: ResolvedResource) throws -> ConnectionPoolSpec {
        if r.resource.isOrphan, let last = r.lastApplied {
            return try ValueDecoder().decode(ConnectionPoolSpec.self, from: last)
        }
        return try r.resource.decodeSpec(ConnectionPoolSpec.self)
    }

    static func observe(_ r: ResolvedResource, context: ProviderContext) async throws -> Observation {
        let pool = try spec(of: r)
        let console = try await PoolConsole.connect(pool.pgbouncer, context: context, resource: r.id)
        defer { console.close() }
        let live = try await console.databases()
        let config = try await console.config()
        let files = try await PoolFile.files(pool.pgbouncer, context: context, resource: r.id)
        let file = PoolFile.parse(try await PoolFile.read(pool.pgbouncer.databasesFile, files: files) ?? "")
        let lastDatabases: [String: Value] = {
            if case .map(let m)? = r.lastApplied?["databases"] { return m } else { return [:] }
        }()
        if r.providerID == nil && r.lastApplied == nil {
            // Never applied: the names must not be PgBouncer entries someone else defined in pgbouncer.ini.
            let foreign = pool.databases.keys.filter { live[$0] != nil && file[$0] == nil }.sorted()
            if !foreign.isEmpty {
                return .failed(
                    "PgBouncer \(console.endpoint) already routes \(foreign.joined(separator: ", ")) from outside \(pool.pgbouncer.databasesFile) "
                        + "(pgbouncer.ini or another include): remove those entries there, or use other names"
                )
            }
        }
        var databases: [String: Value] = [:]
        for (name, d) in pool.databases {
            let wanted: PoolRoute
            do { wanted = try PoolRoutes.route(d, name: name, pool: pool, context: context) } catch {
                return .failed("spec.databases.\(name): \(error)")
            }
            guard let now = live[name] else { continue }
            let effective: PoolRoute?
            if now != wanted { effective = now } else { effective = file[name].flatMap(PoolFile.route) }
            guard let effective else { continue }
            databases[name] = entry(effective, declared: d, wanted: wanted)
        }
        for (name, value) in lastDatabases where pool.databases[name] == nil && live[name] != nil {
            databases[name] = value
        }
        var out: [String: Value] = [:]
        if case .map(let m) = r.resource.spec { out = m }
        out["databases"] = .map(databases)
        // Pool-wide defaults live in each entry: the observed default is what an entry without its own value runs.
        func shared<T: Equatable>(
            _ declared: T?,
            _ key: KeyPath<ConnectionPoolSpec.Database, T?>,
            _ effective: KeyPath<PoolRoute, T?>,
            _ value: (T) -> Value
        ) -> Value? {
            guard let declared else { return nil }
            for (name, d) in pool.databases where d[keyPath: key] == nil {
                guard let now = live[name], let got = now[keyPath: effective], got != declared else { continue }
                return value(got)
            }
            return value(declared)
        }
        out["defaultPoolSize"] = shared(pool.defaultPoolSize ?? 20, \.poolSize, \.poolSize) { .int(Int64($0)) }
        out["reservePoolSize"] = shared(pool.reservePoolSize ?? 0, \.reservePool, \.reservePool) { .int(Int64($0)) }
        out["poolMode"] = shared(pool.poolMode ?? "transaction", \.poolMode, \.poolMode) { .string($0) }
        out.merge(PoolFields.observedSettings(config)) { _, console in console }
        var warnings = await connectionBudget(pool, context: context)
        for (name, d) in pool.databases.sorted(by: { $0.key < $1.key }) {
            if let note = (try? PoolRoutes.target(cluster: d.cluster, target: d.target ?? "primary", context: context))?
                .note
            {
                warnings.append("\(name): \(note)")
            }
        }
        // Clients queueing for a server connection right now: the pool is too small for the load.
        for row in try await console.show("POOLS") {
            guard let name = row["database"], pool.databases[name] != nil,
                let waiting = row["cl_waiting"].flatMap(Int.init), waiting > 0
            else { continue }
            warnings.append(
                "\(waiting) client\(waiting == 1 ? "" : "s") wait for a server connection in PgBouncer's pool \(name)/\(row["user"] ?? "?") "
                    + "(\(row["sv_active"] ?? "?") server connections busy, pool_size \(live[name]?.poolSize.map(String.init) ?? "?")): raise poolSize, "
                    + "or look for long transactions"
            )
        }
        return .present(
            ObservedResource(
                spec: .map(out),
                providerID: PoolConsole.endpoint(pool.pgbouncer, context: context),
                warnings: warnings.isEmpty ? nil : warnings
            )
        )
    }

    /// A database entry in the manifest's shape.
    static func entry(_ route: PoolRoute, declared: ConnectionPoolSpec.Database, wanted: PoolRoute) -> Value {
        var m: [String: Value] = [:]
        m["cluster"] = .string(
            route.host == wanted.host && route.port == wanted.port ? declared.cluster : "\(route.host):\(route.port)"
        )
        if let t = declared.target { m["target"] = .string(t) }
        m["dbname"] = .string(route.dbname)
        if let u = route.user { m["user"] = .string(u) }
        if let v = route.poolSize { m["poolSize"] = .int(Int64(v)) }
        if let v = route.reservePool { m["reservePool"] = .int(Int64(v)) }
        if let v = route.maxDbConnections { m["maxDbConnections"] = .int(Int64(v)) }
        if let v = route.poolMode { m["poolMode"] = .string(v) }
        return .map(m)
    }

    /// The server connections the pools can open on each cluster's primary, against its `max_connections`.
    static func connectionBudget(_ pool: ConnectionPoolSpec, context: ProviderContext) async -> [String] {
        var byCluster: [String: [(String, Int)]] = [:]
        for (name, d) in pool.databases.sorted(by: { $0.key < $1.key }) where (d.target ?? "primary") == "primary" {
            let size =
                d.maxDbConnections
                ?? ((d.poolSize ?? pool.defaultPoolSize ?? 20) + (d.reservePool ?? pool.reservePoolSize ?? 0))
            byCluster[d.cluster, default: []].append((name, size))
        }
        var out: [String] = []
        for (cluster, uses) in byCluster.sorted(by: { $0.key < $1.key }) {
            guard let declared = context.declared[ResourceID(kind: .postgresCluster, name: cluster)],
                let settings = try? ClusterSettings(
                    declared,
                    secrets: context.secrets,
                    hostAddress: context.address(ofHost:)
                ),
                let primary = settings.member(settings.primary),
                let db = try? await PGConnection.counted(settings.connection(to: primary))
            else { continue }
            defer { db.close() }
            guard
                let row = try? await db.query(
                    "SELECT current_setting('max_connections')::int AS max, "
                        + "current_setting('superuser_reserved_connections')::int AS reserved"
                ).first,
                let max = row.int("max"), let reserved = row.int("reserved")
            else { continue }
            let total = uses.reduce(0) { $0 + $1.1 }
            if total > max - reserved {
                let detail = uses.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
                out.append(
                    "the pools can open \(total) server connections to \(cluster)'s primary \(primary.name) (\(detail), per user) but its "
                        + "max_connections is \(max) with \(reserved) reserved for superusers, leaving \(max - reserved): lower poolSize/maxDbConnections "
                        + "or raise max_connections"
                )
            }
        }
        return out
    }
}
