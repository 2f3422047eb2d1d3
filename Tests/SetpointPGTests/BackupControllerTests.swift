import Foundation
import SetpointHTTP
import SetpointTesting
import Testing

/// `setpoint controller` as a process beside real PostgreSQL and pgBackRest: the leader takes the first full backup by
/// itself, exports the setpoint_backup_* metrics, and makes the runs `backup run --controller` and `backup drill
/// --controller` ask for, recorded and audited with the caller's identity; a CLI run without the controller is refused
/// while the controller holds the lease.
@Suite(.timeLimit(.minutes(5)), .serialized) struct BackupControllerTests {
    /// Polls `body` every 500 ms until it returns a value, for at most `seconds`.
    static func eventually<T>(_ seconds: Double, _ body: () async throws -> T?) async throws -> T? {
        for _ in 0..<Int(seconds * 2) {
            if let v = try await body() { return v }
            try await Task.sleep(for: .milliseconds(500))
        }
        return nil
    }

    @Test func theLeaderBacksUpByItselfExportsMetricsAndRunsWhatTheAPIAsksFor() async throws {
        try await ClusterEnv.with(members: ["pg-1"]) { env in
            let b = try BackupEnv(env)
            try await b.setUp(b.policyYAML(rpo: "30s", archiveTimeout: "10s"))
            let token = await env.run(
                ["token", "create", "--role", "approver", "--email", "ops@example.net"],
                withState: false
            )
            let secret = try #require(
                token.out.split(separator: "\n").first?.split(separator: " ").last.map(String.init),
                "\(token.out)"
            )
            let line = try #require(
                token.out.split(separator: "\n").last?.replacingOccurrences(of: "tokens file line: ", with: "")
            )
            try line.write(toFile: env.dir + "/tokens", atomically: false, encoding: .utf8)
            try secret.write(toFile: env.dir + "/ops.token", atomically: false, encoding: .utf8)

            let (process, output) = try LaunchedProcess.setpoint(
                [
                    "controller", env.manifests, "--interval", "1s", "--listen", "127.0.0.1:0", "--tokens",
                    env.dir + "/tokens", "--state", env.state,
                    "--as", "controller@test",
                ],
                environment: [
                    "PG_PASSWORD": ClusterEnv.password, "REPL_PASSWORD": ClusterEnv.replicationPassword,
                    "BACKUP_PASSPHRASE": ClusterEnv.passphrase,
                ]
            )
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

            let port = try #require(
                try await Self.eventually(20) {
                    output.value.range(of: "API on http://127.0.0.1:").map {
                        String(output.value[$0.upperBound...].prefix { $0.isNumber })
                    }
                },
                "the API did not start:\n\(output.value)"
            )
            let url = "http://127.0.0.1:\(port)"
            let http = HTTPClient(connections: 1)
            defer { http.shutdown() }
            func get(_ path: String) async throws -> String {
                let r = try await http.send(
                    HTTPRequest(url: url + path, headers: [("Authorization", "Bearer \(secret)")])
                )
                return String(decoding: r.body, as: UTF8.self)
            }
            func runs() async throws -> [[String: Any]] {
                let object =
                    try JSONSerialization.jsonObject(
                        with: Data(try await get("/api/v1/backups?policy=main-backups").utf8)
                    ) as? [String: Any]
                return object?["items"] as? [[String: Any]] ?? []
            }

            // No full backup exists: the leader takes one at once, recorded as the schedule's.
            let first = try await Self.eventually(120) {
                try await runs().first { $0["kind"] as? String == "full" && $0["outcome"] as? String == "succeeded" }
            }
            #expect(
                (first?["trigger"] as? String) == "schedule: no full backup exists yet",
                "\(String(describing: first))\n\(output.value.suffix(2000))"
            )

            // The metrics the alert rules of `backup alerts` read.
            let compliant = try await Self.eventually(30) { () -> String? in
                let m = try await get("/metrics")
                return m.contains("setpoint_backup_compliant{policy=\"main-backups\"} 1") ? m : nil
            }
            let latest = try await get("/metrics")
            let metrics = try #require(compliant, "never compliant:\n\(latest)\n\(output.value.suffix(2000))")
            for name in [
                "setpoint_backup_last_success_timestamp_seconds{policy=\"main-backups\",type=\"full\"}",
                "setpoint_backup_archive_failing{policy=\"main-backups\"} 0",
                "setpoint_backup_archive_wait_seconds{policy=\"main-backups\"}",
                "setpoint_backup_next_run_timestamp_seconds{policy=\"main-backups\",type=\"incr\"}",
                "setpoint_backup_running{policy=\"main-backups\"} 0", "# TYPE setpoint_backup_compliant gauge",
            ] {
                #expect(metrics.contains(name), "\(name) is missing:\n\(metrics)")
            }
            let lastFull = metrics.split(separator: "\n").first {
                $0.hasPrefix("setpoint_backup_last_success_timestamp_seconds{policy=\"main-backups\",type=\"full\"}")
            }
            let at = try #require(lastFull?.split(separator: " ").last.flatMap { Double($0) })
            #expect(abs(at - Date().timeIntervalSince1970) < 600, "the full finished moments ago: \(at)")

            // A CLI run beside a running controller is refused (the lease is the controller's) and says what to do…
            let refused = await b.backup("incr")
            #expect(refused.code == 1 && refused.err.contains("controller"), "\(refused.out)\(refused.err)")
            // …and through the controller it runs, recorded and audited as the caller.
            let incr = await env.run(
                [
                    "backup", "run", "main-backups", "--type", "incr", "--controller", url, "--token-file",
                    env.dir + "/ops.token",
                ],
                withState: false
            )
            #expect(incr.code == 0 && incr.out.contains("incr succeeded"), "\(incr.out)\(incr.err)")
            let drill = await env.run(
                ["backup", "drill", "main-backups", "--controller", url, "--token-file", env.dir + "/ops.token"],
                withState: false
            )
            #expect(drill.code == 0 && drill.out.contains("measured RTO"), "\(drill.out)\(drill.err)")
            let recorded = try await runs()
            #expect(recorded.prefix(2).map { $0["kind"] as? String ?? "" } == ["drill", "incr"], "\(recorded)")
            #expect(recorded.prefix(2).allSatisfy { $0["trigger"] as? String == "api ops@example.net" }, "\(recorded)")
            let drillMetric = try await Self.eventually(20) { () -> String? in
                let m = try await get("/metrics")
                return m.contains("setpoint_backup_drill_last_success{policy=\"main-backups\"} 1") ? m : nil
            }
            #expect(drillMetric != nil, "the drill's outcome is exported")
            let unknown = await env.run(
                ["backup", "run", "nope", "--controller", url, "--token-file", env.dir + "/ops.token"],
                withState: false
            )
            #expect(unknown.code == 1 && unknown.err.contains("HTTP 404"), "\(unknown.err)")

            // SIGTERM: a clean stop.
            kill(process.processIdentifier, SIGTERM)
            for _ in 0..<200 where process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
            #expect(!process.isRunning && process.terminationStatus == 0, "\(output.value.suffix(1500))")

            let audit = await env.run(["audit", "log", "--output", "json"])
            #expect(
                audit.out.contains("\"actor\":\"controller@test\"")
                    || audit.out.contains("\"actor\": \"controller@test\""),
                "\(audit.out.suffix(1500))"
            )
            #expect(
                audit.out.contains("ops@example.net") && audit.out.contains("backup-drill"),
                "\(audit.out.suffix(1500))"
            )
            #expect(!output.value.contains(ClusterEnv.passphrase))
            let again = await env.plan()
            #expect(again.code == 0, "still in sync after the controller's runs:\n\(again.text)")
        }
    }
}
