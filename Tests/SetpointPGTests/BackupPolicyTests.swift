import Foundation
import SetpointExec
import SetpointPG
import Testing

/// BackupPolicy against real PostgreSQL 15 and pgBackRest: archiving, backups, retention, status and its RPO,
/// point-in-time restores, drills, encryption.
@Suite(.timeLimit(.minutes(5)), .serialized) struct BackupPolicyTests {
    /// Inserts a row every 50 ms until cancelled.
    static func writeLoad(_ env: ClusterEnv) -> Task<Int, Never> {
        Task {
            var n = 0
            guard let db = try? await env.connect("pg-1") else { return 0 }
            defer { db.close() }
            _ = try? await db.query(
                "CREATE TABLE IF NOT EXISTS load (id serial PRIMARY KEY, at timestamptz DEFAULT now(), pad text)"
            )
            while !Task.isCancelled {
                if (try? await db.query("INSERT INTO load (pad) VALUES (repeat('x', 200))")) != nil { n += 1 }
                try? await Task.sleep(for: .milliseconds(50))
            }
            return n
        }
    }

    @Test func fullThenIncrementalUnderLoadAndAMeasuredRPO() async throws {
        try await ClusterEnv.with(members: ["pg-1"]) { env in
            let b = try BackupEnv(env)
            try await b.setUp(b.policyYAML(rpo: "30s", archiveTimeout: "10s"))
            let load = Self.writeLoad(env)
            let full = await b.backup("full")
            #expect(full.code == 0, "\(full.out)\(full.err)")
            let incr = await b.backup("incr")
            #expect(incr.code == 0, "\(incr.out)\(incr.err)")
            load.cancel()
            let rows = await load.value
            #expect(rows > 10, "the write load wrote \(rows) rows")
            let (code, status) = try await b.status()
            let types = BackupEnv.backups(status).map { $0["type"] as? String ?? "" }
            #expect(types == ["full", "incr"], "\(status)")
            let rpo = try #require(BackupEnv.rpo(status), "no actual RPO: \(status)")
            #expect(rpo < 60, "actual RPO \(rpo) s")
            #expect(code == 0 || !BackupEnv.violations(status).isEmpty)
            let runs = (status["recentRuns"] as? [[String: Any]] ?? []).map { $0["kind"] as? String ?? "" }
            #expect(runs.contains("full") && runs.contains("incr"), "runs recorded in state: \(runs)")
            let audit = await env.run(["audit", "log", "--output", "json"])
            #expect(
                audit.out.contains("\"backup\""),
                "backups are in the audit log: \(audit.out.prefix(400))\(audit.err)"
            )
            // The configuration is Setpoint's: an edit is drift, and the next apply writes it back.
            let conf = b.configDirectory + "/\(b.stanza).conf"
            try (try String(contentsOfFile: conf, encoding: .utf8) + "repo1-retention-full=9\n").write(
                toFile: conf,
                atomically: false,
                encoding: .utf8
            )
            let drift = await env.plan()
            #expect(drift.code == 2 && drift.text.contains("differs from what Setpoint writes"), "\(drift.text)")
            await env.apply()
            #expect(await env.plan().code == 0)
        }
    }

    @Test func brokenArchivingGrowsTheRPOAndMakesThePolicyNotCompliant() async throws {
        try await ClusterEnv.with(members: ["pg-1"]) { env in
            let b = try BackupEnv(env)
            try await b.setUp(b.policyYAML(rpo: "5s", archiveTimeout: "5s"))
            #expect(await b.backup("full").code == 0)
            // Archiving breaks: pgBackRest (as postgres) can no longer write into the stanza's archive.
            let archive = "\(b.repository)/archive/\(b.stanza)"
            _ = try await env.runner.run(Command("/bin/chmod", ["-R", "a-w", archive]))
            _ = try await env.value("CREATE TABLE broken AS SELECT 1 AS x", on: "pg-1")
            _ = try await env.value("SELECT pg_switch_wal()::text", on: "pg-1")
            var first: [String: Any] = [:]
            for _ in 0..<100 {
                first = try await b.status().json
                if ((first["archive"] as? [String: Any])?["waitingSegments"] as? Int ?? 0) > 0 { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            let r1 = try #require(BackupEnv.rpo(first), "\(first)")
            try await Task.sleep(for: .seconds(6))
            let (code, second) = try await b.status()
            let r2 = try #require(BackupEnv.rpo(second), "\(second)")
            #expect(abs((r2 - r1) - 6) < 2.5, "RPO went from \(r1) s to \(r2) s over 6 s")
            #expect(r2 > 5)
            #expect(code == 3, "status exits 3 on a violation")
            #expect(
                BackupEnv.violations(second).contains { $0.contains("RPO objective") },
                "\(BackupEnv.violations(second))"
            )
            let plan = await env.plan()
            #expect(plan.text.contains("not compliant"), "\(plan.text)")
            _ = try await env.runner.run(Command("/bin/chmod", ["-R", "u+w", archive]))

            // A broken archive_command (a repository that does not exist): status and plan say so; apply repairs it.
            let db = try await env.connect("pg-1")
            _ = try await db.query(
                "ALTER SYSTEM SET archive_command = 'pgbackrest --stanza=\(b.stanza) --repo1-path=/nonexistent archive-push %p'"
            )
            _ = try await db.query("SELECT pg_reload_conf()")
            db.close()
            let broken = try await b.status()
            #expect(broken.code == 3)
            #expect(
                BackupEnv.violations(broken.json).contains { $0.contains("archive_command") },
                "\(BackupEnv.violations(broken.json))"
            )
            let drift = await env.plan()
            #expect(
                drift.code == 2 && drift.text.contains("not compliant") && drift.text.contains("archive_command"),
                "\(drift.text)"
            )
            await env.apply()
            #expect(await env.plan().code == 0)
        }
    }

    @Test func retentionRemovesTheOldestFullSets() async throws {
        try await ClusterEnv.with(members: ["pg-1"]) { env in
            let b = try BackupEnv(env)
            try await b.setUp(b.policyYAML(retention: "full: 2"))
            var labels: [String] = []
            for _ in 0..<3 {
                let r = await b.backup("full")
                #expect(r.code == 0, "\(r.out)\(r.err)")
                labels.append(BackupEnv.backups(try await b.status().json).last?["label"] as? String ?? "")
                try await Task.sleep(for: .seconds(1))  // labels have whole seconds
            }
            let kept = BackupEnv.backups(try await b.status().json).map { $0["label"] as? String ?? "" }
            #expect(kept == Array(labels.suffix(2)), "made \(labels), info holds \(kept)")
        }
    }

    @Test func pointInTimeRestoreAndDrills() async throws {
        try await ClusterEnv.with(members: ["pg-1"]) { env in
            let b = try BackupEnv(env)
            let passing = [BackupEnv.Check(sql: "SELECT count(*) FROM t", expect: "10")]
            try await b.setUp(b.policyYAML(checks: passing))
            #expect(await b.backup("full").code == 0)
            let db = try await env.connect("pg-1")
            _ = try await db.query("CREATE TABLE t (id int PRIMARY KEY, phase text)")
            _ = try await db.query("INSERT INTO t SELECT g, 't1' FROM generate_series(1, 5) g")
            try await Task.sleep(for: .milliseconds(1100))
            let target = try #require(
                try await db.query("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')").first?.values
                    .first ?? nil
            )
            try await Task.sleep(for: .milliseconds(1100))
            _ = try await db.query("INSERT INTO t SELECT g, 't2' FROM generate_series(6, 10) g")
            // No segment switch here: the WAL past the target is still on the primary, and restore must see it archived.
            db.close()

            let port = PGTestCluster.freePort()
            let restored = env.dir + "/restored"
            let r = await env.run([
                "restore", "main-backups", env.manifests, "--to", restored, "--port", "\(port)", "--target-time",
                target,
            ])
            #expect(r.code == 0, "\(r.out)\(r.err)")
            let copy = try await PGConnection.connect(
                PGConfig(
                    host: "127.0.0.1",
                    port: port,
                    user: "postgres",
                    password: ClusterEnv.password,
                    database: "postgres",
                    sslmode: "disable",
                    connectTimeoutSeconds: 5
                )
            )
            let rows = try await copy.query("SELECT id::text, phase FROM t ORDER BY id").rows
            copy.close()
            #expect(rows == (1...5).map { [String($0), "t1"] }, "restored rows \(rows)")
            let audit = await env.run(["audit", "log"])
            #expect(
                audit.out.contains("restore  BackupPolicy/main-backups  succeeded")
                    && audit.out.contains("backup  BackupPolicy/main-backups  succeeded"),
                "the audit log names the policy of each backup and restore: \(audit.out)"
            )
            #expect(try await env.value("SHOW archive_mode", on: "pg-1") == "on")
            _ = try await env.runner.run(
                Command("\(env.bin)/pg_ctl", ["-D", restored, "-m", "fast", "-w", "stop"], user: "postgres")
            )

            // A passing drill records the RTO.
            let drill = await env.run(["backup", "drill", "main-backups", env.manifests])
            #expect(drill.code == 0, "\(drill.out)\(drill.err)")
            var status = try await b.status().json
            let rto = (status["rto"] as? [String: Any])?["actualSeconds"] as? Double
            #expect((rto ?? 0) > 0, "\(status)")
            #expect(!FileManager.default.fileExists(atPath: b.drillDirectory), "the drill removes its copy")

            // A drill whose check expects a row that is not there fails, is recorded, and still cleans up.
            try env.write([
                env.clusterYAML(members: [env.memberYAML("pg-1")]),
                b.policyYAML(
                    checks: passing + [BackupEnv.Check(sql: "SELECT count(*) FROM t WHERE id = 99", expect: "1")]
                ),
            ])
            let failing = await env.run(["backup", "drill", "main-backups", env.manifests])
            #expect(failing.code == 1, "\(failing.out)\(failing.err)")
            #expect(failing.err.contains("id = 99"), "\(failing.err)")
            #expect(!FileManager.default.fileExists(atPath: b.drillDirectory), "a failed drill removes its copy too")
            #expect(!Self.listening(b.drillPort), "nothing listens on the drill port afterwards")
            let after = try await b.status()
            status = after.json
            #expect(after.code == 3)
            #expect((status["lastDrill"] as? [String: Any])?["outcome"] as? String == "failed")
            #expect(BackupEnv.violations(status).contains { $0.contains("drill") })
        }
    }

    @Test func encryptedRepositoryKeepsThePassphraseOutOfEverything() async throws {
        try await ClusterEnv.with(members: ["pg-1"]) { env in
            let b = try BackupEnv(env)
            try await b.setUp(b.policyYAML(encrypted: true))
            var said = ""
            for args in [
                ["plan", env.manifests], ["plan", env.manifests, "--output", "json"],
                ["backup", "run", "main-backups", env.manifests, "--type", "full"],
                ["backup", "status", "main-backups", env.manifests, "--output", "json"],
                ["backup", "drill", "main-backups", env.manifests],
                ["audit", "log", "--output", "json"], ["apply", env.manifests, "--auto-approve"],
            ] {
                let r = await env.run(args)
                said += r.out + r.err
            }
            let status = try await b.status()
            #expect(status.json["cipher"] as? String == "aes-256-cbc", "\(status.json)")
            #expect(BackupEnv.backups(status.json).count == 1)
            #expect(
                (status.json["lastDrill"] as? [String: Any])?["outcome"] as? String == "succeeded",
                "\(status.json)"
            )
            #expect(!said.contains(ClusterEnv.passphrase), "the passphrase appeared in command output")
            // Only the 0600 include file holds it: not the state, the logs, the configuration or the repository.
            let secretFile = "\(b.configDirectory)/\(b.stanza).d/secret.conf"
            #expect(try String(contentsOfFile: secretFile, encoding: .utf8).contains(ClusterEnv.passphrase))
            let mode = try #require(
                try FileManager.default.attributesOfItem(atPath: secretFile)[.posixPermissions] as? Int
            )
            #expect(mode == 0o600)
            let found = try await env.runner.run(
                Command("/bin/grep", ["-rlaF", ClusterEnv.passphrase, env.dir]),
                allowFailure: true
            )
            let files = found.stdout.split(separator: "\n").map(String.init).filter { $0 != secretFile }
            #expect(files.isEmpty, "the passphrase is in \(files)")
        }
    }

    static func listening(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        } == 0
    }
}
