import Foundation
import SetpointTesting
import Testing

/// A cluster whose replica's host (h10) the ops namespace cannot reach: only h9 can (`scripts/lab hide h10 h9`).
/// Setpoint reaches h10 over SSH through h9 as its jump host, and its own SQL to the member there through a forward on
/// h10's connection; the replica is made there, PgBouncer on h10 (its file written there, its console through a
/// forward) routes to the primary, and a switchover moves the primary onto h10, rewinds h9's member and moves the pool.
@Suite(.timeLimit(.minutes(4)), .serialized) struct LabJumpTests {
    @Test func aReplicaBehindAJumpHostIsMadeObservedAndSwitchedTo() async throws {
        guard let lab = try Lab.current() else { return }
        try #require(try await lab.lab(["hide", "h10", "h9"]).status == 0)
        let direct = try await lab.lab([
            "ops", "timeout", "3", "bash", "-c", "exec 3<>/dev/tcp/\(lab.host("h10").address)/22",
        ])
        #expect(direct.status != 0, "the ops namespace does not reach h10 itself")
        try await lab.postgres("h9")
        let bouncer = try await lab.lab(
            ["pgbouncer", "h10"],
            environment: ["SETPOINT_LAB_PG_PASSWORD": Lab.passwords["LAB_PG_PASSWORD"]!]
        )
        try #require(bouncer.status == 0, "scripts/lab pgbouncer h10: \(bouncer.stderr)")
        let dir = try Lab.workspace("jump")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func write(primary: String) throws {
            let cluster = """
                apiVersion: setpoint/v1
                kind: PostgresCluster
                metadata: {name: far}
                spec:
                  version: 15
                  primary: \(primary)
                  members:
                    - {name: pg-9, runsOn: h9, dataDirectory: /var/lib/postgresql/15/main}
                    - {name: pg-10, runsOn: h10, dataDirectory: /var/lib/postgresql/15/main}
                  connection: {password: {env: LAB_PG_PASSWORD}}
                  replication: {password: {env: LAB_REPLICATION_PASSWORD}}
                ---
                apiVersion: setpoint/v1
                kind: ConnectionPool
                metadata: {name: far-pool}
                spec:
                  pgbouncer:
                    runsOn: h10
                    port: 6432
                    adminUser: postgres
                    iniFile: /etc/pgbouncer/pgbouncer.ini
                    databasesFile: /etc/pgbouncer/databases.ini
                  databases:
                    app: {cluster: far, target: primary, dbname: postgres, user: postgres}

                """
            try (lab.hostsYAML(["h9", "h10"], jumps: ["h10": "h9"]) + "---\n" + cluster).write(
                toFile: dir + "/stack.yaml",
                atomically: true,
                encoding: .utf8
            )
        }
        func setpoint(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
            try await lab.setpoint(arguments, in: dir, environment: Lab.passwords)
        }
        try write(primary: "pg-9")
        let imported = try await setpoint(["import", "PostgresCluster/far", "stack.yaml"])
        try #require(imported.status == 0, "import: \(imported.stdout)\(imported.stderr)")
        let applied = try await setpoint(["apply", "stack.yaml", "--auto-approve"])
        try #require(applied.status == 0, "apply: \(applied.stdout)\(applied.stderr)")
        #expect(
            try await lab.sql("h9", "SELECT application_name || ' ' || state FROM pg_stat_replication") == [
                "pg-10 streaming"
            ]
        )
        var replan = try await setpoint(["plan", "stack.yaml", "--detailed-exitcode"])
        #expect(replan.status == 0, "observed through the forward: \(replan.stdout)\(replan.stderr)")
        // PgBouncer on h10, asked from h9 (the ops namespace cannot reach it): app goes to the primary on h9.
        func through() async throws -> String {
            try await lab.on(
                "h9",
                [
                    "psql", "-h", lab.host("h10").address, "-p", "6432", "-U", "postgres", "-At", "-c",
                    "SELECT host(inet_server_addr()) || ' ' || pg_is_in_recovery()", "app",
                ]
            ).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(try await through() == "\(lab.host("h9").address) false")

        try write(primary: "pg-10")
        let switched = try await setpoint(["apply", "stack.yaml", "--auto-approve", "--approve", "all-risky"])
        try #require(switched.status == 0, "switchover: \(switched.stdout)\(switched.stderr)")
        #expect(try await lab.sql("h10", "SELECT pg_is_in_recovery()") == ["f"])
        #expect(try await lab.sql("h9", "SELECT pg_is_in_recovery()") == ["t"], "pg-9 rewound onto pg-10")
        #expect(try await through() == "\(lab.host("h10").address) false", "the pool on h10 follows the switchover")
        replan = try await setpoint(["plan", "stack.yaml", "--detailed-exitcode"])
        #expect(replan.status == 0, "\(replan.stdout)\(replan.stderr)")

        // Prometheus on h10 too: its rule file written over SSH through h9, its HTTP API (reload, the rules loaded)
        // reached through a forward on h10's connection.
        try #require(try await lab.lab(["monitoring", "h10"]).status == 0)
        let address = lab.host("h10").address
        try
            (lab.hostsYAML(["h9", "h10"], jumps: ["h10": "h9"]) + """
                ---
                apiVersion: setpoint/v1
                kind: PrometheusServer
                metadata: {name: far-prom}
                spec: {runsOn: h10, url: "http://\(address):9090", rulesDirectory: /etc/prometheus/rules}
                ---
                apiVersion: setpoint/v1
                kind: AlertRuleGroup
                metadata: {name: far}
                spec:
                  prometheus: far-prom
                  rules:
                    - alert: FarAway
                      expr: 'vector(5) > 0'
                      labels: {severity: ticket}
                      annotations: {summary: "far", runbook_url: "docs/runbooks/x.md"}

                """).write(toFile: dir + "/monitoring.yaml", atomically: true, encoding: .utf8)
        let monitored = try await setpoint(["apply", "monitoring.yaml", "--auto-approve"])
        #expect(monitored.status == 0, "\(monitored.stdout)\(monitored.stderr)")
        let rules = try await lab.on("h10", ["curl", "-sf", "http://\(address):9090/api/v1/rules"])
        #expect(rules.contains("\"name\":\"FarAway\""), "\(rules)")
        let again = try await setpoint(["plan", "monitoring.yaml", "--detailed-exitcode"])
        #expect(again.status == 0, "observed through the forward: \(again.stdout)\(again.stderr)")
    }
}
