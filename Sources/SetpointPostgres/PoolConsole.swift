import SetpointCore
import SetpointPG
import SetpointRemote

/// PgBouncer's admin console (database `pgbouncer`, simple query protocol only): `SHOW DATABASES`, `SHOW CONFIG`,
/// `RELOAD`, `SET`.
struct PoolConsole: Sendable {
    let db: PGConnection
    let endpoint: String

    /// The console's address: as given, else the runsOn Host's, else this machine's loopback.
    static func host(_ spec: ConnectionPoolSpec.PgBouncer, context: ProviderContext) -> String {
        spec.host ?? spec.runsOn.flatMap(context.address(ofHost:)) ?? "127.0.0.1"
    }

    static func endpoint(_ spec: ConnectionPoolSpec.PgBouncer, context: ProviderContext) -> String {
        "\(host(spec, context: context)):\(spec.port)"
    }

    static func connect(
        _ spec: ConnectionPoolSpec.PgBouncer,
        context: ProviderContext,
        resource: ResourceID
    ) async throws -> PoolConsole {
        let password: String? = try spec.adminPassword.map { ref in
            do { return try context.secrets.resolve(ref) } catch {
                throw SetpointError(
                    .secretUnavailable,
                    "spec.pgbouncer.adminPassword (\(ref.origin)): \(error)",
                    resource: resource
                )
            }
        }
        let host = Self.host(spec, context: context)
        // Behind a jump host: through a forward on PgBouncer's Host's connection.
        var dialled = host
        if context.isBehindJump(spec.runsOn) {
            // A Host that cannot be reached is said as such (naming it and quoting ssh), not as a libpq timeout.
            let access = try await context.host(spec.runsOn, for: resource)
            dialled = try await access.socketFolder(to: host, port: spec.port) ?? host
        }
        let config = PGConfig(
            host: dialled,
            port: spec.port,
            user: spec.adminUser ?? "pgbouncer",
            password: password,
            database: "pgbouncer",
            sslmode: "disable",
            connectTimeoutSeconds: 5
        )
        do {
            return PoolConsole(db: try await PGConnection.counted(config), endpoint: "\(host):\(spec.port)")
        } catch let error as PGError {
            throw SetpointError(
                .observeFailed,
                "PgBouncer admin console \(host):\(spec.port) as \(spec.adminUser ?? "pgbouncer"): \(error.message)",
                resource: resource,
                isTransient: error.isTransient && !error.message.contains("not allowed")
            )
        }
    }

    func close() { db.close() }

    /// Rows of a SHOW command as column → value maps.
    func show(_ what: String) async throws -> [[String: String]] {
        let results = try await db.simpleQuery("SHOW \(what)")
        guard let r = results.last else { return [] }
        return r.records.map { row in
            var m: [String: String] = [:]
            for (i, c) in row.columns.enumerated() { if let v = row.values[i] { m[c] = v } }
            return m
        }
    }

    /// `SHOW DATABASES` as routes, by client-facing name.
    func databases() async throws -> [String: PoolRoute] {
        var out: [String: PoolRoute] = [:]
        for row in try await show("DATABASES") {
            guard let name = row["name"], name != "pgbouncer", let host = row["host"],
                let port = row["port"].flatMap(Int.init)
            else { continue }
            let maxDb = row["max_connections"].flatMap(Int.init) ?? 0
            out[name] = PoolRoute(
                host: host,
                port: port,
                dbname: row["database"] ?? name,
                user: (row["force_user"] ?? "").isEmpty ? nil : row["force_user"],
                poolSize: row["pool_size"].flatMap(Int.init),
                reservePool: row["reserve_pool"].flatMap(Int.init),
                maxDbConnections: maxDb == 0 ? nil : maxDb,
                poolMode: (row["pool_mode"] ?? "").isEmpty ? nil : row["pool_mode"]
            )
        }
        return out
    }

    /// `SHOW CONFIG` as key → value.
    func config() async throws -> [String: String] {
        var out: [String: String] = [:]
        for row in try await show("CONFIG") { if let k = row["key"] { out[k] = row["value"] ?? "" } }
        return out
    }

    func command(_ sql: String) async throws {
        _ = try await db.simpleQuery(sql)
    }
}
