import Foundation
import Testing

/// A BackupPolicy beside a ClusterEnv's cluster: its stanza, configuration, logs, repository and drill directory all
/// in the env's directory, so tests never meet.
struct BackupEnv {
    let env: ClusterEnv
    let stanza: String
    let drillPort = PGTestCluster.freePort()

    init(_ env: ClusterEnv) throws {
        // Never skipped: without pgBackRest the test fails (scripts/test installs package pgbackrest).
        let tool = ProcessInfo.processInfo.environment["SETPOINT_TEST_PGBACKREST"] ?? "/usr/bin/pgbackrest"
        try #require(
            FileManager.default.isExecutableFile(atPath: tool),
            "pgbackrest is missing: run the tests through scripts/test"
        )
        self.env = env
        stanza = "t" + UUID().uuidString.prefix(8).lowercased()
    }

    var repository: String { env.dir + "/repo" }
    var configDirectory: String { env.dir + "/pgbr-conf" }
    var logDirectory: String { env.dir + "/pgbr-log" }
    var drillDirectory: String { env.dir + "/drill" }

    struct Check {
        var sql: String
        var expect: String
    }

    func policyYAML(
        rpo: String = "30s",
        archiveTimeout: String = "10s",
        retention: String = "full: 2",
        encrypted: Bool = false,
        checks: [Check] = [Check(sql: "SELECT count(*) > 0 FROM pg_class", expect: "t")],
        rto: String = "10m"
    ) -> String {
        var text = """
            apiVersion: setpoint/v1
            kind: BackupPolicy
            metadata: {name: main-backups}
            spec:
              cluster: main
              stanza: \(stanza)
              repository: {path: \(repository)}
              schedules: {full: "0 1 * * 0", incr: "0 * * * *"}
              retention: {\(retention)}
              compression: lz4
              archiveTimeout: \(archiveTimeout)
              objectives: {rpo: \(rpo), rto: \(rto)}
              configDirectory: \(configDirectory)
              logDirectory: \(logDirectory)
              drill:
                schedule: "30 3 * * 6"
                port: \(drillPort)
                directory: \(drillDirectory)
                timeout: 5m
                checks:

            """
        for c in checks { text += "      - {sql: \"\(c.sql)\", expect: \"\(c.expect)\"}\n" }
        if encrypted { text += "  encryption: {cipher: aes-256-cbc, passphrase: {env: BACKUP_PASSPHRASE}}\n" }
        return text
    }

    /// Writes the cluster and the policy, imports the cluster, applies (approving the restart that makes archive_mode live).
    func setUp(_ policy: String) async throws {
        try env.write([env.clusterYAML(members: [env.memberYAML("pg-1")]), policy])
        await env.importCluster()
        let plan = await env.plan()
        #expect(plan.code == 2, "the first plan must show changes:\n\(plan.text)")
        #expect(plan.text.contains("restart"), "archive_mode needs the policy's restart:\n\(plan.text)")
        await env.apply()
        let again = await env.plan()
        #expect(again.code == 0, "apply twice ⇒ the second plan is empty:\n\(again.text)")
        #expect(try await env.value("SHOW archive_mode", on: "pg-1") == "on")
    }

    func run(_ args: [String]) async -> (code: Int32, out: String, err: String) {
        await env.run(args)
    }

    func backup(_ type: String) async -> (code: Int32, out: String, err: String) {
        await env.run(["backup", "run", "main-backups", env.manifests, "--type", type])
    }

    func status() async throws -> (code: Int32, json: [String: Any]) {
        let r = await env.run(["backup", "status", "main-backups", env.manifests, "--output", "json"])
        let list = try #require(
            (try? JSONSerialization.jsonObject(with: Data(r.out.utf8))) as? [[String: Any]],
            "exit \(r.code): \(r.out)\(r.err)"
        )
        return (r.code, try #require(list.first))
    }

    static func backups(_ status: [String: Any]) -> [[String: Any]] { status["backups"] as? [[String: Any]] ?? [] }
    static func rpo(_ status: [String: Any]) -> Double? {
        (status["rpo"] as? [String: Any])?["actualSeconds"] as? Double
    }
    static func violations(_ status: [String: Any]) -> [String] { status["violations"] as? [String] ?? [] }
}
