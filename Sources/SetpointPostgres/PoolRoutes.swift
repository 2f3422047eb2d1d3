import Foundation
import SetpointCore
import SetpointRemote

/// One `[databases]` entry of PgBouncer: where a client-facing database goes and how its pool is sized.
struct PoolRoute: Sendable, Equatable {
    var host: String
    var port: Int
    var dbname: String
    var user: String?
    var poolSize: Int?
    var reservePool: Int?
    var maxDbConnections: Int?
    var poolMode: String?

    /// The entry's line in the databases file, keys in a fixed order.
    func line(name: String) -> String {
        var parts = ["host=\(host)", "port=\(port)", "dbname=\(Self.quoted(dbname))"]
        if let user { parts.append("user=\(Self.quoted(user))") }
        if let poolSize { parts.append("pool_size=\(poolSize)") }
        if let reservePool { parts.append("reserve_pool=\(reservePool)") }
        if let maxDbConnections { parts.append("max_db_connections=\(maxDbConnections)") }
        if let poolMode { parts.append("pool_mode=\(poolMode)") }
        return "\(Self.quoted(name)) = " + parts.joined(separator: " ")
    }

    /// PgBouncer's ini quoting: plain when safe, else in double quotes with `"` doubled.
    static func quoted(_ s: String) -> String {
        if !s.isEmpty, s.allSatisfy({ $0.isLetter || $0.isNumber || "_-.".contains($0) }) { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// Where each declared database of a ConnectionPool must go, from the PostgresCluster it names (as declared: the
/// manifest's primary is the one routes follow).
enum PoolRoutes {
    struct Target: Sendable, Equatable {
        var host: String
        var port: Int
        /// Why it is this target, for messages: `main's primary pg-1`.
        var label: String
        /// A note for the plan (replicas on several ports: PgBouncer 1.18 takes one port for a host list).
        var note: String?
    }

    static func target(cluster: String, target: String, context: ProviderContext) throws -> Target {
        let id = ResourceID(kind: .postgresCluster, name: cluster)
        guard let declared = context.declared[id] else {
            throw PoolError("\(id) is not declared: declare it in the manifests the pool is applied with")
        }
        let spec = try declared.decodeSpec(PostgresClusterSpec.self)
        func endpoint(_ m: PostgresClusterSpec.Member) throws -> (String, Int) {
            guard let host = m.host ?? m.runsOn.flatMap(context.address(ofHost:)) else {
                throw PoolError("member \(m.name) of \(id) is given by conninfo: PgBouncer needs its host and port")
            }
            return (host, m.port ?? 5432)
        }
        if target == "primary" {
            guard let p = spec.members.first(where: { $0.name == spec.primary }) else {
                throw PoolError("\(id) names no primary member")
            }
            let (h, port) = try endpoint(p)
            return Target(host: h, port: port, label: "\(cluster)'s primary \(p.name)")
        }
        let replicas = spec.members.filter { $0.name != spec.primary }
        guard !replicas.isEmpty else { throw PoolError("routes to the replicas of \(id), which declares none") }
        let endpoints = try replicas.map(endpoint)
        if Set(endpoints.map(\.1)).count == 1 {
            return Target(
                host: endpoints.map(\.0).joined(separator: ","),
                port: endpoints[0].1,
                label: "\(cluster)'s replicas \(replicas.map(\.name).joined(separator: ", "))"
            )
        }
        return Target(
            host: endpoints[0].0,
            port: endpoints[0].1,
            label: "\(cluster)'s replica \(replicas[0].name)",
            note:
                "the replicas listen on different ports and PgBouncer takes one port for a host list: only \(replicas[0].name) serves this route"
        )
    }

    /// The route a declared database wants, with the pool's defaults filled in.
    static func route(
        _ db: ConnectionPoolSpec.Database,
        name: String,
        pool: ConnectionPoolSpec,
        context: ProviderContext
    ) throws -> PoolRoute {
        let t = try target(cluster: db.cluster, target: db.target ?? "primary", context: context)
        return PoolRoute(
            host: t.host,
            port: t.port,
            dbname: db.dbname ?? name,
            user: db.user,
            poolSize: db.poolSize ?? pool.defaultPoolSize ?? 20,
            reservePool: db.reservePool ?? pool.reservePoolSize ?? 0,
            maxDbConnections: db.maxDbConnections,
            poolMode: db.poolMode ?? pool.poolMode ?? "transaction"
        )
    }
}

struct PoolError: Error, Sendable, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
