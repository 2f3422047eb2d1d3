import Foundation
import SetpointPG
import Testing

/// The ConnectionPool provider on a real PgBouncer 1.18 in front of a real primary and replicas.
@Suite(.timeLimit(.minutes(5)), .serialized, .enabled(if: PGServer.enabled))
struct ConnectionPoolTests {
    @Test func routesGoToPrimaryAndReplicasAndAPoolSizeChangeKeepsConnectedClients() async throws {
        try await ClusterEnv.with { env in
            try await env.startPgBouncer()
            let cluster = env.clusterYAML(members: [
                env.memberYAML("pg-1"), env.memberYAML("pg-2"), env.memberYAML("pg-3"),
            ])
            try env.write([cluster, env.poolYAML(poolSize: 5)])
            await env.importCluster()
            await env.apply()
            let rw = try await env.throughPgBouncer("app")
            #expect(
                try await rw.query("SELECT pg_is_in_recovery()::text AS r").first?["r"] == "false",
                "app goes to the primary"
            )
            let ro = try await env.throughPgBouncer("app_ro")
            #expect(
                try await ro.query("SELECT pg_is_in_recovery()::text AS r").first?["r"] == "true",
                "app_ro goes to a replica"
            )
            ro.close()
            let file = try String(contentsOfFile: env.pgbouncerDir + "/databases.ini", encoding: .utf8)
            #expect(
                file.contains(
                    "app = host=127.0.0.1 port=\(env.ports["pg-1"]!) dbname=postgres user=postgres pool_size=5"
                ),
                "\(file)"
            )
            #expect(await env.plan().code == 0, "apply twice: nothing left")

            // A pool-size change: RELOAD, and the client connected through the pool keeps working.
            try env.write([cluster, env.poolYAML(poolSize: 8, maxClientConn: 180)])
            let plan = await env.plan()
            #expect(plan.text.contains(all: ["databases.app.poolSize", "maxClientConn"]), "\(plan.text)")
            await env.apply()
            #expect(try await rw.query("SELECT 1 AS one").first?["one"] == "1", "the connected client was not dropped")
            rw.close()
            let console = try await env.throughPgBouncer("pgbouncer")
            let databases = try await console.simpleQuery("SHOW DATABASES").last?.records ?? []
            #expect(databases.first { $0["name"] == "app" }?["pool_size"] == "8")
            let config = try await console.simpleQuery("SHOW CONFIG").last?.records ?? []
            #expect(config.first { $0["key"] == "max_client_conn" }?["value"] == "180")
            console.close()
            #expect(
                FileManager.default.fileExists(atPath: env.pgbouncerDir + "/databases.ini.previous"),
                "the previous version is kept"
            )
            #expect(await env.plan().code == 0)

            // Someone edits the owned file: the plan shows it and apply puts it back.
            try "app = host=127.0.0.1 port=1 dbname=postgres\n".write(
                toFile: env.pgbouncerDir + "/databases.ini",
                atomically: false,
                encoding: .utf8
            )
            let drift = await env.plan()
            #expect(drift.code == 2 && drift.text.contains("databases.app"), "\(drift.text)")
            await env.apply()
            #expect(await env.plan().code == 0)

            // A switchover: the pool follows the manifest's new primary in the same apply.
            let moved = env.clusterYAML(
                primary: "pg-2",
                members: [env.memberYAML("pg-1"), env.memberYAML("pg-2"), env.memberYAML("pg-3")]
            )
            try env.write([moved, env.poolYAML(poolSize: 8, maxClientConn: 180)])
            await env.apply()
            let after = try await env.throughPgBouncer("app")
            let row = try await after.query("SELECT pg_is_in_recovery()::text AS r, inet_server_port()::text AS port")
                .first
            #expect(
                row?["r"] == "false" && row?["port"] == String(env.ports["pg-2"]!),
                "app follows the new primary: \(String(describing: row?.values))"
            )
            after.close()
            #expect(await env.plan().code == 0)
        }
    }

    @Test func poolsThatCanOpenMoreConnectionsThanTheServerAllowsAreAWarningWithTheNumbers() async throws {
        try await ClusterEnv.with(members: ["pg-1", "pg-2"]) { env in
            try await env.startPgBouncer()
            let cluster = env.clusterYAML(members: [env.memberYAML("pg-1"), env.memberYAML("pg-2")])
            try env.write([cluster, env.poolYAML(poolSize: 200)])
            await env.importCluster()
            let plan = await env.plan()
            #expect(
                plan.text.contains(all: ["SP2005", "200 server connections", "max_connections is 100"]),
                "\(plan.text)"
            )
        }
    }
}
