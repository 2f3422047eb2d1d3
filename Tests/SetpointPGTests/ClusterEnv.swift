import Foundation
import SetpointBackup
import SetpointCLI
import SetpointCore
import SetpointEngine
import SetpointExec
import SetpointPG
import SetpointPostgres
import Testing

/// A PostgreSQL 15 primary of a test's own, set up as an operator would (port and sockets in postgresql.conf,
/// scram-sha-256 on TCP, a `replicator` role, wal_log_hints on), plus a manifest folder and a state file: the
/// PostgresCluster provider is driven through the CLI, in-process. `stop()` stops every server in the directory.
final class ClusterEnv: @unchecked Sendable {
    static let password = "pg-secret-\(UUID().uuidString.prefix(6))"
    /// The canary passphrase of encrypted-repository tests: it must appear nowhere Setpoint writes.
    static let passphrase = "canary-passphrase-\(UUID().uuidString.prefix(8))"
    static let replicationPassword = "repl-secret-\(UUID().uuidString.prefix(6))"

    let dir: String
    let bin: String
    let runner = LocalRunner()
    var ports: [String: Int] = [:]
    var state: String { dir + "/state.db" }
    var manifests: String { dir + "/m" }

    init() throws {
        bin = try #require(
            ProcessInfo.processInfo.environment["SETPOINT_TEST_PG_BIN"],
            "SETPOINT_TEST_PG_BIN is not set: run the tests through scripts/test"
        )
        dir = FileManager.default.temporaryDirectory.path + "/setpoint-pgc-\(UUID().uuidString.prefix(8).lowercased())"
    }

    func data(_ member: String) -> String { "\(dir)/\(member)" }

    /// initdb + start `pg-1` as the primary; members get ports now, so manifests can name them.
    static func start(members: [String] = ["pg-1", "pg-2", "pg-3"], settings: [String] = []) async throws -> ClusterEnv
    {
        let env = try ClusterEnv()
        try FileManager.default.createDirectory(
            atPath: env.manifests,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o755]
        )
        _ = try await env.runner.run(Command("/bin/chown", ["postgres:postgres", env.dir]))
        for m in members { env.ports[m] = PGTestCluster.freePort() }
        _ = try await env.runner.run(
            Command("/usr/bin/tee", ["\(env.dir)/pw"], user: "postgres", input: password + "\n")
        )
        _ = try await env.runner.run(
            Command(
                "\(env.bin)/initdb",
                [
                    "-D", env.data("pg-1"), "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256",
                    "--pwfile=\(env.dir)/pw", "--no-sync",
                ],
                user: "postgres",
                timeout: .seconds(60)
            )
        )
        let conf =
            ([
                "port = \(env.ports["pg-1"]!)", "listen_addresses = '127.0.0.1'",
                "unix_socket_directories = '\(env.dir)'", "fsync = off",
                "wal_log_hints = on",
            ] + settings).joined(separator: "\n") + "\n"
        _ = try await env.runner.run(
            Command("/usr/bin/tee", ["-a", env.data("pg-1") + "/postgresql.conf"], user: "postgres", input: conf)
        )
        // Another test may take the port between freePort() and the bind (tests run in parallel): retry on a new one.
        for attempt in 1...3 {
            let out = try await env.runner.run(
                Command(
                    "\(env.bin)/pg_ctl",
                    ["-D", env.data("pg-1"), "-l", "\(env.dir)/pg-1.log", "-w", "-t", "60", "start"],
                    user: "postgres",
                    timeout: .seconds(90)
                ),
                allowFailure: true
            )
            if out.status == 0 { break }
            let log = (try? String(contentsOfFile: "\(env.dir)/pg-1.log", encoding: .utf8)) ?? ""
            guard attempt < 3, log.contains("already in use") else {
                throw CommandFailure(
                    command: Command("\(env.bin)/pg_ctl"),
                    status: out.status,
                    output: log.split(separator: "\n").suffix(6).joined(separator: "\n"),
                    reason: "could not start pg-1"
                )
            }
            env.ports["pg-1"] = PGTestCluster.freePort()
            _ = try await env.runner.run(
                Command(
                    "/usr/bin/tee",
                    ["-a", env.data("pg-1") + "/postgresql.conf"],
                    user: "postgres",
                    input: "port = \(env.ports["pg-1"]!)\n"
                )
            )
        }
        let db = try await env.connect("pg-1")
        defer { db.close() }
        _ = try await db.query(
            "CREATE ROLE replicator REPLICATION LOGIN PASSWORD \(try PGQuote.literal(replicationPassword))"
        )
        return env
    }

    func config(_ member: String, password: String? = ClusterEnv.password, database: String = "postgres") -> PGConfig {
        PGConfig(
            host: "127.0.0.1",
            port: ports[member],
            user: "postgres",
            password: password,
            database: database,
            sslmode: "disable",
            connectTimeoutSeconds: 5
        )
    }

    func connect(_ member: String) async throws -> PGConnection { try await PGConnection.connect(config(member)) }

    /// Runs `body` with a fresh env and stops everything afterwards.
    static func with<T>(
        members: [String] = ["pg-1", "pg-2", "pg-3"],
        settings: [String] = [],
        _ body: (ClusterEnv) async throws -> T
    ) async throws -> T {
        let env = try await start(members: members, settings: settings)
        do {
            let result = try await body(env)
            await env.stop()
            return result
        } catch {
            await env.stop()
            throw error
        }
    }

    /// Every server in the directory, stopped at once; then the directory goes.
    func stop() async {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        for e in entries where FileManager.default.fileExists(atPath: "\(dir)/\(e)/postmaster.pid") {
            _ = try? await runner.run(
                Command("\(bin)/pg_ctl", ["-D", "\(dir)/\(e)", "-m", "immediate", "-w", "stop"], user: "postgres"),
                allowFailure: true
            )
        }
        for e in entries where e.hasPrefix("pgbouncer") {
            if let pid = try? String(contentsOfFile: "\(dir)/\(e)/pid", encoding: .utf8).trimmingCharacters(
                in: .whitespacesAndNewlines
            ), let p = Int32(pid) {
                kill(p, SIGKILL)
            }
        }
        try? FileManager.default.removeItem(atPath: dir)
    }

    // MARK: - PgBouncer

    var pgbouncerDir: String { dir + "/pgbouncer" }
    var pgbouncerPort = 0

    /// PgBouncer of the test's own: `[databases]` %includes the file a ConnectionPool owns; trust for clients, the
    /// server password in its auth_file; admin console for `postgres`.
    func startPgBouncer() async throws {
        pgbouncerPort = PGTestCluster.freePort()
        let d = pgbouncerDir
        _ = try await runner.run(Command("/bin/mkdir", ["-p", d], user: "postgres"))
        let ini = """
            [databases]
            %include \(d)/databases.ini

            [pgbouncer]
            listen_addr = 127.0.0.1
            listen_port = \(pgbouncerPort)
            unix_socket_dir = \(d)
            auth_type = trust
            auth_file = \(d)/userlist.txt
            admin_users = postgres
            pidfile = \(d)/pid
            logfile = \(d)/pgbouncer.log
            max_client_conn = 100

            """
        _ = try await runner.run(Command("/usr/bin/tee", ["\(d)/pgbouncer.ini"], user: "postgres", input: ini))
        _ = try await runner.run(
            Command(
                "/usr/bin/tee",
                ["\(d)/userlist.txt"],
                user: "postgres",
                input: "\"postgres\" \"\(Self.password)\"\n"
            )
        )
        _ = try await runner.run(
            Command("/usr/bin/tee", ["\(d)/databases.ini"], user: "postgres", input: "; owned by Setpoint\n")
        )
        _ = try await runner.run(
            Command("/usr/sbin/pgbouncer", ["-d", "\(d)/pgbouncer.ini"], user: "postgres", timeout: .seconds(30))
        )
        for _ in 0..<100 {
            if let db = try? await PGConnection.connect(
                PGConfig(
                    host: "127.0.0.1",
                    port: pgbouncerPort,
                    user: "postgres",
                    database: "pgbouncer",
                    sslmode: "disable",
                    connectTimeoutSeconds: 2
                )
            ) {
                db.close()
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("PgBouncer did not start on \(pgbouncerPort)")
    }

    func poolYAML(poolSize: Int = 5, maxClientConn: Int = 150) -> String {
        """
        apiVersion: setpoint/v1
        kind: ConnectionPool
        metadata: {name: main-pool}
        spec:
          pgbouncer:
            host: 127.0.0.1
            port: \(pgbouncerPort)
            adminUser: postgres
            iniFile: \(pgbouncerDir)/pgbouncer.ini
            databasesFile: \(pgbouncerDir)/databases.ini
          databases:
            app:
              cluster: main
              target: primary
              dbname: postgres
              user: postgres
              poolSize: \(poolSize)
            app_ro:
              cluster: main
              target: replicas
              dbname: postgres
              user: postgres
          poolMode: transaction
          defaultPoolSize: 4
          maxClientConn: \(maxClientConn)

        """
    }

    func throughPgBouncer(_ database: String) async throws -> PGConnection {
        try await PGConnection.connect(
            PGConfig(
                host: "127.0.0.1",
                port: pgbouncerPort,
                user: "postgres",
                database: database,
                sslmode: "disable",
                connectTimeoutSeconds: 5
            )
        )
    }

    // MARK: - manifests and the CLI

    /// `synchronous: nil` leaves the key out (not a candidate).
    func memberYAML(
        _ name: String,
        synchronous: Bool? = false,
        dataDirectory: String? = nil,
        host: String = "127.0.0.1",
        port: Int? = nil
    ) -> String {
        """
            - name: \(name)
              host: \(host)
              port: \(port ?? ports[name]!)
              dataDirectory: \(dataDirectory ?? data(name))
        """ + (synchronous.map { "\n      synchronous: \($0)" } ?? "")
    }

    func clusterYAML(
        primary: String = "pg-1",
        members: [String],
        synchronousCount: Int = 0,
        parameters: [String: String] = [:],
        passwordEnv: String = "PG_PASSWORD",
        name: String = "main"
    ) -> String {
        var text = """
            apiVersion: setpoint/v1
            kind: PostgresCluster
            metadata: {name: \(name)}
            spec:
              version: 15
              primary: \(primary)
              binDirectory: \(bin)
              members:
            \(members.joined(separator: "\n"))
              connection:
                user: postgres
                password: {env: \(passwordEnv)}
                sslmode: disable
                connectTimeout: 3s
              replication:
                user: replicator
                password: {env: REPL_PASSWORD}
                synchronousCount: \(synchronousCount)

            """
        if !parameters.isEmpty {
            text +=
                "  parameters:\n"
                + parameters.keys.sorted().map { "    \($0): \"\(parameters[$0]!)\"" }.joined(separator: "\n") + "\n"
        }
        return text
    }

    func write(_ documents: [String]) throws {
        try documents.joined(separator: "---\n").write(
            toFile: manifests + "/stack.yaml",
            atomically: false,
            encoding: .utf8
        )
    }

    func run(
        _ args: [String],
        password: String = ClusterEnv.password,
        withState: Bool = true
    ) async -> (code: Int32, out: String, err: String) {
        let console = Console.capturing()
        let runtime = CLIRuntime(
            providers: [PostgresProvider(), BackupProvider()],
            secrets: EnvironmentSecretResolver(environment: [
                "PG_PASSWORD": password, "REPL_PASSWORD": ClusterEnv.replicationPassword,
                "WRONG_PASSWORD": "not-the-password",
                "BACKUP_PASSPHRASE": ClusterEnv.passphrase,
            ])
        )
        let code = await SetpointCLI.run(
            args + (withState ? ["--state", state] : []),
            console: console,
            runtime: runtime
        )
        return (code, console.capturedOut, console.capturedErr)
    }

    @discardableResult
    func apply(
        _ extra: [String] = ["--auto-approve", "--approve", "all-risky"],
        expect: Int32 = 0,
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) async -> String {
        let r = await run(["apply", manifests] + extra)
        #expect(r.code == expect, "apply exited \(r.code):\n\(r.out)\(r.err)", sourceLocation: sourceLocation)
        return r.out + r.err
    }

    func plan(_ extra: [String] = []) async -> (code: Int32, text: String) {
        let r = await run(["plan", manifests, "--detailed-exitcode"] + extra)
        return (r.code, r.out + r.err)
    }

    func planJSON() async throws -> [String: Any] {
        let r = await run(["plan", manifests, "--output", "json"])
        return try #require(
            (try? JSONSerialization.jsonObject(with: Data(r.out.utf8))) as? [String: Any],
            "exit \(r.code): \(r.out)\(r.err)"
        )
    }

    func importCluster(_ name: String = "main") async {
        let r = await run(["import", "PostgresCluster/\(name)", manifests])
        #expect(r.code == 0, "import exited \(r.code): \(r.out)\(r.err)")
    }

    /// `pg_stat_replication` on a member: application name → (state, sync_state).
    func replication(on member: String) async throws -> [String: (String, String)] {
        let db = try await connect(member)
        defer { db.close() }
        var out: [String: (String, String)] = [:]
        for r in try await db.query("SELECT application_name, state, sync_state FROM pg_stat_replication").records {
            out[r["application_name"] ?? ""] = (r["state"] ?? "", r["sync_state"] ?? "")
        }
        return out
    }

    func value(_ sql: String, on member: String) async throws -> String? {
        let db = try await connect(member)
        defer { db.close() }
        return try await db.query(sql).first?.values.first ?? nil
    }
}
