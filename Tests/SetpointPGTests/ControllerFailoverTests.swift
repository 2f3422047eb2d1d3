import Foundation
import SetpointHTTP
import SetpointPG
import SetpointTesting
import Testing

/// `setpoint postgres failover` while controllers run: two controllers share a PostgreSQL state (moved there with
/// `state migrate`), one leads and one follows; the primary dies; the follower refuses the failover and says to ask
/// the leader; the leader carries it out under its lease, audited under the operator's identity; without
/// `--controller`, the command is refused and says how to go through it.
/// In PostgresClusterTests' suite, serialized with its other three-server tests.
extension PostgresClusterTests {
    /// A database of its own on the test server, as a state URL (without its password) and a password file.
    static func stateDatabase(in dir: String) async throws -> (url: String, passwordFile: String) {
        let admin = try await PGServer.connect()
        defer { admin.close() }
        let name = "setpoint_failover_\(UUID().uuidString.prefix(8).lowercased())"
        _ = try await admin.query("CREATE DATABASE \(name)")
        let e = PGServer.environment
        let port = try #require(e["SETPOINT_TEST_PG_PORT"])
        let file = dir + "/state-password"
        try (e["SETPOINT_TEST_PG_PASSWORD"] ?? "").write(toFile: file, atomically: true, encoding: .utf8)
        return ("postgres://postgres@127.0.0.1:\(port)/\(name)?sslmode=disable", file)
    }

    static func readyz(_ url: String) async -> [String: Any]? {
        let client = HTTPClient(connections: 1)
        defer { client.shutdown() }
        guard let r = try? await client.send(HTTPRequest(url: url + "/readyz", timeout: .seconds(5))) else {
            return nil
        }
        return try? JSONSerialization.jsonObject(with: r.body) as? [String: Any]
    }

    @Test func aFailoverGoesThroughTheLeadingControllerWhileAFollowerRuns() async throws {
        try await ClusterEnv.with { env in
            let members = [env.memberYAML("pg-1"), env.memberYAML("pg-2"), env.memberYAML("pg-3")]
            try env.write([env.clusterYAML(members: members)])
            await env.importCluster()
            await env.apply()

            // The state moves to PostgreSQL, which both controllers share.
            let (state, passwordFile) = try await Self.stateDatabase(in: env.dir)
            let password = ["--state-password-file", passwordFile]
            let moved = await env.run(["state", "migrate", "--to", state, "--to-password-file", passwordFile])
            #expect(moved.code == 0, "\(moved.out)\(moved.err)")
            let made = await env.run(
                ["token", "create", "--role", "admin", "--email", "oncall@example.net"],
                withState: false
            )
            let token = try #require(made.out.split(separator: "\n").first?.split(separator: " ").last.map(String.init))
            let line = try #require(
                made.out.split(separator: "\n").last?.replacingOccurrences(of: "tokens file line: ", with: "")
            )
            try line.write(toFile: env.dir + "/tokens", atomically: false, encoding: .utf8)
            try token.write(toFile: env.dir + "/oncall.token", atomically: false, encoding: .utf8)

            var controllers: [(ChildProcess, ProcessOutput, String)] = []
            defer { for (p, _, _) in controllers where p.isRunning { p.signal(SIGKILL) } }
            for name in ["a", "b"] {
                let (process, output) = try LaunchedProcess.setpoint(
                    [
                        "controller", env.manifests, "--state", state, "--state-password-file", passwordFile,
                        "--listen",
                        "127.0.0.1:0", "--tokens",
                        env.dir + "/tokens", "--interval", "1s", "--as", "controller-\(name)@example.net",
                    ],
                    environment: ["PG_PASSWORD": ClusterEnv.password, "REPL_PASSWORD": ClusterEnv.replicationPassword]
                )
                #expect(await output.waitFor("API on http://127.0.0.1:"), "\(output.value)")
                let port = try #require(
                    output.value.range(of: "API on http://127.0.0.1:").map {
                        String(output.value[$0.upperBound...].prefix { $0.isNumber })
                    }
                )
                controllers.append((process, output, "http://127.0.0.1:\(port)"))
            }
            // One leads, the other follows.
            var leader: String?
            var follower: String?
            for _ in 0..<100 where leader == nil || follower == nil {
                try await Task.sleep(for: .milliseconds(200))
                leader = nil
                follower = nil
                for (_, _, url) in controllers {
                    guard let ready = await Self.readyz(url), (ready["passes"] as? Int ?? 0) > 0 else { continue }
                    if ready["leading"] as? Bool == true { leader = url } else { follower = url }
                }
            }
            let leading = try #require(leader, "\(controllers.map { $0.1.value })")
            let following = try #require(follower, "\(controllers.map { $0.1.value })")

            // The primary dies.
            let pid = try #require(
                try String(contentsOfFile: env.data("pg-1") + "/postmaster.pid", encoding: .utf8).split(separator: "\n")
                    .first.flatMap { Int32($0) }
            )
            kill(pid, SIGKILL)
            try await Task.sleep(for: .milliseconds(300))

            let client = ["--token-file", env.dir + "/oncall.token"]
            // Without --controller the lease is the controllers': refused, saying how to go through them.
            let direct = await env.run(
                ["postgres", "failover", "main", "--to", "pg-2", env.manifests, "--state", state] + password,
                withState: false
            )
            #expect(direct.code == 1 && direct.err.contains("give --controller URL to ask it"), "\(direct.err)")
            // The follower refuses and says to ask the leader.
            let viaFollower = await env.run(
                ["postgres", "failover", "main", "--to", "pg-2", "--controller", following] + client,
                withState: false
            )
            #expect(viaFollower.code == 1, "\(viaFollower.out)\(viaFollower.err)")
            #expect(viaFollower.err.contains("HTTP 503") && viaFollower.err.contains("ask the leading controller"))
            // The leader fails over.
            let viaLeader = await env.run(
                ["postgres", "failover", "main", "--to", "pg-2", "--controller", leading] + client,
                withState: false
            )
            #expect(viaLeader.code == 0, "\(viaLeader.out)\(viaLeader.err)")
            #expect(viaLeader.out.contains("failover of PostgresCluster/main: pg-2 is the primary"), "\(viaLeader.out)")
            #expect(try await env.value("SELECT pg_is_in_recovery()::text", on: "pg-2") == "false")
            #expect(try await env.replication(on: "pg-2")["pg-3"]?.0 == "streaming", "pg-3 re-pointed")

            // A reinit goes the same way (the leader re-makes pg-3 from the new primary).
            let reinit = await env.run(
                ["postgres", "reinit", "main", "pg-3", "--yes", "--controller", leading] + client,
                withState: false
            )
            #expect(reinit.code == 0, "\(reinit.out)\(reinit.err)")
            #expect(reinit.out.contains("pg-3 of PostgresCluster/main streams again"), "\(reinit.out)")
            #expect(try await env.replication(on: "pg-2")["pg-3"]?.0 == "streaming", "pg-3 streams again")

            // Audited under the operator's identity, in the shared state.
            let audit = await env.run(
                ["audit", "log", "--state", state, "--output", "json"] + password,
                withState: false
            )
            let record = audit.out.split(separator: "\n").first { $0.contains("\"failover\"") }
            #expect(record?.contains("oncall@example.net") == true, "\(audit.out)")
            #expect(record?.contains("\"succeeded\"") == true && record?.contains("controller API") == true)
            #expect(
                audit.out.split(separator: "\n").contains {
                    $0.contains("\"reinit\"") && $0.contains("oncall@example.net")
                }
            )
            let verify = await env.run(["audit", "verify", "--state", state] + password, withState: false)
            #expect(verify.code == 0, "\(verify.out)\(verify.err)")

            for (process, output, _) in controllers {
                process.signal(SIGTERM)
                #expect(await process.exitStatus(within: .seconds(30)) == 0, "\(output.value.suffix(2000))")
            }
        }
    }
}
