import Foundation
import SetpointTesting
import Testing

/// A PostgresCluster whose members run on three lab hosts, applied by Setpoint from the lab's ops namespace over SSH:
/// replicas made by pg_basebackup on their own hosts, parameters on every host, a switchover (pg_ctl, pg_controldata,
/// promote and pg_rewind on the hosts), and what is refused about hosts, naming them. One lab: the suite is serial.
@Suite(.timeLimit(.minutes(6)), .serialized) struct LabPostgresTests {
    static let passwords = Lab.passwords

    static func cluster(primary: String = "pg-1", parameters: [String: String] = [:]) -> String {
        """
        apiVersion: setpoint/v1
        kind: PostgresCluster
        metadata: {name: main}
        spec:
          version: 15
          primary: \(primary)
          members:
            - {name: pg-1, runsOn: h1, dataDirectory: /var/lib/postgresql/15/main, synchronous: true}
            - {name: pg-2, runsOn: h2, dataDirectory: /var/lib/postgresql/15/main, synchronous: true}
            - {name: pg-3, runsOn: h3, dataDirectory: /var/lib/postgresql/15/main}
          connection:
            password: {env: LAB_PG_PASSWORD}
          replication:
            password: {env: LAB_REPLICATION_PASSWORD}
            synchronousCount: 1
        """
            + (parameters.isEmpty
                ? ""
                : "\n  parameters:\n"
                    + parameters.sorted { $0.key < $1.key }.map { "    \($0.key): \"\($0.value)\"" }.joined(
                        separator: "\n"
                    )) + "\n"
    }

    static let pool = """
        apiVersion: setpoint/v1
        kind: ConnectionPool
        metadata: {name: main-pool}
        spec:
          pgbouncer:
            runsOn: h4
            port: 6432
            adminUser: postgres
            iniFile: /etc/pgbouncer/pgbouncer.ini
            databasesFile: /etc/pgbouncer/databases.ini
          databases:
            app: {cluster: main, target: primary, dbname: postgres, user: postgres}
            app_ro: {cluster: main, target: replicas, dbname: postgres, user: postgres}

        """

    /// Where PgBouncer on h4 sends a client of `database`: the server's address and whether it is in recovery.
    static func through(_ lab: Lab, _ database: String) async throws -> String {
        let r = try await lab.lab([
            "ops", "psql", "-h", lab.host("h4").address, "-p", "6432", "-U", "postgres", "-At", "-c",
            "SELECT host(inet_server_addr()) || ' ' || pg_is_in_recovery()", database,
        ])
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) + r.stderr
    }

    /// `application_name → (state, sync_state)` as a primary's pg_stat_replication shows them.
    static func replication(_ lab: Lab, on host: String) async throws -> [String: (String, String)] {
        var out: [String: (String, String)] = [:]
        for row in try await lab.sql(host, "SELECT application_name, state, sync_state FROM pg_stat_replication") {
            let f = row.split(separator: "|").map(String.init)
            if f.count == 3 { out[f[0]] = (f[1], f[2]) }
        }
        return out
    }

    @Test func aClusterOnThreeHostsIsBuiltSwitchedOverFailedOverFencedAndReinitialisedOverSSH() async throws {
        guard let lab = try Lab.current() else { return }
        let dir = try Lab.workspace("pg")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await lab.postgres("h1")
        let bouncer = try await lab.lab(
            ["pgbouncer", "h4"],
            environment: ["SETPOINT_LAB_PG_PASSWORD": Self.passwords["LAB_PG_PASSWORD"]!]
        )
        try #require(bouncer.status == 0, "scripts/lab pgbouncer h4: \(bouncer.stderr)")
        let hosts = lab.hostsYAML(["h1", "h2", "h3", "h4"])
        var withPool = false
        func write(_ cluster: String) throws {
            try (hosts + "---\n" + cluster + (withPool ? "---\n" + Self.pool : "")).write(
                toFile: dir + "/stack.yaml",
                atomically: true,
                encoding: .utf8
            )
        }
        func setpoint(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
            try await lab.setpoint(arguments, in: dir, environment: Self.passwords)
        }
        try write(Self.cluster())
        let imported = try await setpoint(["import", "PostgresCluster/main", "stack.yaml"])
        try #require(imported.status == 0, "import: \(imported.stdout)\(imported.stderr)")

        // 1. Replicas on h2 and h3, made there by pg_basebackup over SSH; each CLI run logs in once per host.
        let before = try ["h1", "h2", "h3"].map { try lab.logins($0) }
        let applied = try await setpoint(["apply", "stack.yaml", "--auto-approve"])
        try #require(applied.status == 0, "apply: \(applied.stdout)\(applied.stderr)")
        let after = try ["h1", "h2", "h3"].map { try lab.logins($0) }
        #expect(
            zip(before, after).allSatisfy { $1 - $0 == 1 },
            "logins per host during one apply: \(before) → \(after)"
        )
        var rows = try await Self.replication(lab, on: "h1")
        #expect(rows["pg-2"]?.0 == "streaming" && rows["pg-3"]?.0 == "streaming", "\(rows)")
        #expect(rows["pg-2"]?.1 == "quorum" && rows["pg-3"]?.1 == "async", "\(rows)")
        #expect(try await lab.sql("h2", "SELECT pg_is_in_recovery()") == ["t"])
        var replan = try await setpoint(["plan", "stack.yaml", "--detailed-exitcode"])
        #expect(replan.status == 0, "re-plan: \(replan.stdout)\(replan.stderr)")
        // The passfiles pg_basebackup read are gone from the replicas' hosts, and no password is in a command line
        // their sshd logged.
        for h in ["h2", "h3"] {
            #expect(try await lab.on(h, ["/bin/sh", "-c", "ls /tmp | grep -c setpoint-secret || true"]) == "0\n")
            let log = try String(
                contentsOfFile: "\(lab.inventory.directory)/hosts/\(h)/var-log/sshd.log",
                encoding: .utf8
            )
            #expect(!log.contains("lab-repl-secret") && !log.contains("lab-pg-secret"))
        }

        // 2. A reload parameter reaches every host.
        try write(Self.cluster(parameters: ["work_mem": "8MB"]))
        let reloaded = try await setpoint(["apply", "stack.yaml", "--auto-approve"])
        #expect(reloaded.status == 0, "apply work_mem: \(reloaded.stdout)\(reloaded.stderr)")
        for h in ["h1", "h2", "h3"] {
            #expect(try await lab.sql(h, "SHOW work_mem") == ["8MB"], "work_mem on \(h)")
        }
        // A restart parameter: written everywhere by the update, live on every host once the restart is approved.
        try write(Self.cluster(parameters: ["work_mem": "8MB", "max_connections": "120"]))
        let staged = try await setpoint(["apply", "stack.yaml", "--auto-approve"])
        #expect(staged.stdout.contains("awaiting approval"), "\(staged.stdout)\(staged.stderr)")
        #expect(try await lab.sql("h1", "SHOW max_connections") == ["100"], "not live before the restart")
        let restarted = try await setpoint(["apply", "stack.yaml", "--auto-approve", "--approve", "all-risky"])
        #expect(restarted.status == 0, "restart: \(restarted.stdout)\(restarted.stderr)")
        for h in ["h1", "h2", "h3"] {
            #expect(try await lab.sql(h, "SHOW max_connections") == ["120"], "max_connections on \(h)")
        }
        replan = try await setpoint(["plan", "stack.yaml", "--detailed-exitcode"])
        #expect(replan.status == 0, "after the restart: \(replan.stdout)\(replan.stderr)")

        // 3. PgBouncer on h4: its include file written there, app to the primary, app_ro to a replica.
        withPool = true
        try write(Self.cluster(parameters: ["work_mem": "8MB", "max_connections": "120"]))
        let pooled = try await setpoint(["apply", "stack.yaml", "--auto-approve"])
        try #require(pooled.status == 0, "apply the pool: \(pooled.stdout)\(pooled.stderr)")
        #expect(try await Self.through(lab, "app") == "\(lab.host("h1").address) false")
        let ro = try await Self.through(lab, "app_ro")
        #expect(ro == "\(lab.host("h2").address) true" || ro == "\(lab.host("h3").address) true", "\(ro)")
        let include = try await lab.on("h4", ["cat", "/etc/pgbouncer/databases.ini"])
        #expect(include.contains("app = host=\(lab.host("h1").address) port=5432"), "\(include)")

        // Changes by hand on two hosts (work_mem on h3, the pool's file on h4): one plan reports both as drift, and
        // logs in to each host exactly once.
        _ = try await lab.sql("h3", "ALTER SYSTEM SET work_mem = '16MB'")
        _ = try await lab.sql("h3", "SELECT pg_reload_conf()")
        _ = try await lab.on(
            "h4",
            [
                "sed", "-i", "s/^app = \\(.*\\)dbname=postgres/app = \\1dbname=template1/",
                "/etc/pgbouncer/databases.ini",
            ]
        )
        let hosts4 = ["h1", "h2", "h3", "h4"]
        let beforeDrift = try hosts4.map { try lab.logins($0) }
        let drift = try await setpoint(["plan", "stack.yaml", "--detailed-exitcode"])
        let afterDrift = try hosts4.map { try lab.logins($0) }
        #expect(drift.status == 2, "\(drift.stdout)\(drift.stderr)")
        #expect(drift.stdout.contains("parameters.work_mem"), "\(drift.stdout)")
        #expect(drift.stdout.contains("databases.app.dbname"), "\(drift.stdout)")
        #expect(
            zip(beforeDrift, afterDrift).allSatisfy { $1 - $0 == 1 },
            "logins per host: \(beforeDrift) → \(afterDrift)"
        )
        let corrected = try await setpoint(["apply", "stack.yaml", "--auto-approve"])
        #expect(corrected.status == 0, "\(corrected.stdout)\(corrected.stderr)")
        #expect(try await lab.sql("h3", "SHOW work_mem") == ["8MB"])

        // 4. Switchover to pg-2: pg-1 is stopped, rewound and restarted as a standby on h1, all over SSH; the pool
        // follows.
        try write(Self.cluster(primary: "pg-2", parameters: ["work_mem": "8MB", "max_connections": "120"]))
        let switched = try await setpoint(["apply", "stack.yaml", "--auto-approve", "--approve", "all-risky"])
        try #require(switched.status == 0, "switchover: \(switched.stdout)\(switched.stderr)")
        #expect(try await lab.sql("h2", "SELECT pg_is_in_recovery()") == ["f"])
        #expect(try await lab.sql("h1", "SELECT pg_is_in_recovery()") == ["t"], "the old primary follows")
        rows = try await Self.replication(lab, on: "h2")
        #expect(rows["pg-1"]?.0 == "streaming" && rows["pg-3"]?.0 == "streaming", "\(rows)")
        #expect(try await Self.through(lab, "app") == "\(lab.host("h2").address) false", "the pool follows")
        replan = try await setpoint(["plan", "stack.yaml", "--detailed-exitcode"])
        #expect(replan.status == 0, "re-plan after the switchover: \(replan.stdout)\(replan.stderr)")

        // 5. pg-2's link cut: `postgres failover` to pg-3; pg-1 follows pg-3.
        try #require(try await lab.lab(["cut", "h2"]).status == 0)
        let failover = try await setpoint(["postgres", "failover", "main", "--to", "pg-3", "stack.yaml"])
        try #require(failover.status == 0, "failover: \(failover.stdout)\(failover.stderr)")
        #expect(try await lab.sql("h3", "SELECT pg_is_in_recovery()") == ["f"])
        rows = try await Self.replication(lab, on: "h3")
        #expect(rows["pg-1"]?.0 == "streaming", "pg-1 re-pointed at pg-3: \(rows)")

        // 6. The link back: pg-2 still runs as a primary, on the old timeline. The next apply stops it before anything
        // else, keeps it from ever starting as a primary, and proposes reinit; the pool goes to pg-3.
        try write(Self.cluster(primary: "pg-3", parameters: ["work_mem": "8MB", "max_connections": "120"]))
        try #require(try await lab.lab(["heal", "h2"]).status == 0)
        #expect(try await lab.sql("h2", "SELECT pg_is_in_recovery()") == ["f"], "pg-2 came back as a primary")
        let fencePlan = try await setpoint(["plan", "stack.yaml"])
        #expect(fencePlan.stdout.contains("fences pg-2"), "\(fencePlan.stdout)\(fencePlan.stderr)")
        let fenced = try await setpoint(["apply", "stack.yaml", "--auto-approve"])
        try #require(fenced.status == 0, "apply after the heal: \(fenced.stdout)\(fenced.stderr)")
        let stopped = try await lab.lab(
            [
                "exec", "h2", "runuser", "-u", "postgres", "--", "/usr/lib/postgresql/15/bin/pg_ctl", "status", "-D",
                "/var/lib/postgresql/15/main",
            ]
        )
        #expect(stopped.status == 3, "pg-2 is stopped: \(stopped.stdout)")
        #expect(try await Self.through(lab, "app") == "\(lab.host("h3").address) false", "the pool follows pg-3")
        let warned = try await setpoint(["plan", "stack.yaml", "--detailed-exitcode"])
        #expect(warned.status == 0, "\(warned.stdout)\(warned.stderr)")
        #expect(warned.stdout.contains("setpoint postgres reinit main pg-2"), "\(warned.stdout)\(warned.stderr)")
        // Started by hand (as a service manager would), it comes up in recovery: it never takes writes again.
        _ = try await lab.on(
            "h2",
            [
                "runuser", "-u", "postgres", "--", "/usr/lib/postgresql/15/bin/pg_ctl", "start", "-w", "-D",
                "/var/lib/postgresql/15/main", "-l", "/tmp/by-hand.log",
            ]
        )
        #expect(try await lab.sql("h2", "SELECT pg_is_in_recovery()") == ["t"])

        // 7. `postgres reinit` re-makes it from pg-3.
        let reinit = try await setpoint(["postgres", "reinit", "main", "pg-2", "stack.yaml", "--yes"])
        try #require(reinit.status == 0, "reinit: \(reinit.stdout)\(reinit.stderr)")
        rows = try await Self.replication(lab, on: "h3")
        #expect(rows["pg-1"]?.0 == "streaming" && rows["pg-2"]?.0 == "streaming", "\(rows)")
        replan = try await setpoint(["plan", "stack.yaml", "--detailed-exitcode"])
        #expect(replan.status == 0, "re-plan after the reinit: \(replan.stdout)\(replan.stderr)")

        // Every command line Setpoint sent to a host (logged there by the lab's ForceCommand): the tools ran, and no
        // password is in any of them.
        // The same for every argv the hosts' PATH shims logged (sudo carries each command run as postgres).
        for h in hosts4 {
            for log in ["/tmp/lab-commands.log", "/tmp/lab-argv.log"] {
                let sent = try await lab.on(h, ["cat", log])
                #expect(!sent.isEmpty, "\(log) on \(h)")
                for secret in Self.passwords.values {
                    #expect(!sent.contains(secret), "a password in \(log) on \(h)")
                }
            }
        }
        #expect(try await lab.on("h2", ["cat", "/tmp/lab-commands.log"]).contains("pg_basebackup"))
        #expect(
            try await lab.on("h2", ["cat", "/tmp/lab-argv.log"]).contains("/usr/lib/postgresql/15/bin/pg_basebackup")
        )
    }

    @Test func hostsThatCannotBeUsedAreRefusedNamingThemWhileTheOthersPlan() async throws {
        guard let lab = try Lab.current() else { return }
        let dir = try Lab.workspace("refused")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let keygen = try await ChildProcess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", dir + "/other"])
        try #require(keygen.status == 0)
        let h1 = lab.host("h1")
        let h2 = lab.host("h2")
        func host(_ name: String, address: String, key: String, pin: String) -> String {
            """
            apiVersion: setpoint/v1
            kind: Host
            metadata: {name: \(name)}
            spec:
              address: \(address)
              ssh: {user: \(lab.inventory.sshUser), privateKey: {file: \(key)}, hostKeys: ["\(pin)"], connectTimeout: 2s}

            """
        }
        // A cluster whose server user the SSH user may not become there (the lab's sudoers allows postgres and
        // prometheus only): nothing answers on its port, so its data directory is looked at as www-data.
        let noSudo = """
            apiVersion: setpoint/v1
            kind: PostgresCluster
            metadata: {name: other}
            spec:
              primary: pg-x
              osUser: www-data
              members:
                - {name: pg-x, runsOn: good, port: 5999, dataDirectory: /var/lib/postgresql/other}

            """
        let manifests = [
            noSudo,
            host("good", address: h1.address, key: lab.inventory.privateKey, pin: h1.hostKey),
            // h2 pinned with h1's key: a changed (or spoofed) host key.
            host("changed", address: h2.address, key: lab.inventory.privateKey, pin: h1.hostKey),
            host("wrong-key", address: h1.address, key: dir + "/other", pin: h1.hostKey),
            host("gone", address: "10.213.0.250", key: lab.inventory.privateKey, pin: h1.hostKey),
            // h3 through h1 as its jump host (ssh -J), each pinned in its own right.
            """
            apiVersion: setpoint/v1
            kind: Host
            metadata: {name: behind}
            spec:
              address: \(lab.host("h3").address)
              ssh: {user: \(lab.inventory.sshUser), privateKey: {file: \(lab.inventory.privateKey)}, hostKeys: ["\(lab.host("h3").hostKey)"], jump: good}

            """,
        ]
        try manifests.joined(separator: "---\n").write(toFile: dir + "/hosts.yaml", atomically: true, encoding: .utf8)
        let plan = try await lab.setpoint(["plan", "hosts.yaml"], in: dir)
        let out = plan.stdout + plan.stderr
        #expect(plan.status == 1, "\(out)")
        #expect(!out.contains("error[SP2001]: could not observe: Host/good"), "the reachable host plans: \(out)")
        #expect(!out.contains("Host/behind"), "the host behind a jump host plans: \(out)")
        #expect(
            out.contains("sudo on good (\(h1.address):22) refused to let setpoint-lab act as www-data")
                && out.contains("ALL=(www-data) NOPASSWD: ALL"),
            "a user without the sudo rights it needs: \(out)"
        )
        #expect(out.contains("Host/changed (\(h2.address):22) offered a host key that is not pinned"), "\(out)")
        let fingerprint = try await ChildProcess.run(["ssh-keygen", "-lf", "/dev/stdin"], input: h2.hostKey + "\n")
        let offered = fingerprint.stdout.split(separator: " ").dropFirst().first.map(String.init) ?? "?"
        #expect(out.contains(offered), "names the key h2 offered (\(offered)): \(out)")
        #expect(out.contains("Host/wrong-key") && out.contains("authorized_keys"), "\(out)")
        #expect(out.contains("Host/gone (10.213.0.250:22) was not reached"), "\(out)")

        // doctor says the same, check by check.
        let doctor = try await lab.setpoint(["doctor", "hosts.yaml", "--json"], in: dir)
        struct Checks: Decodable {
            struct Check: Decodable {
                let resource: String
                let check: String
                let status: String
                let detail: String
            }
            let checks: [Check]
        }
        let checks = try JSONDecoder().decode(Checks.self, from: Data(doctor.stdout.utf8)).checks
        func status(_ resource: String, _ check: String) -> String? {
            checks.first { $0.resource == resource && $0.check == check }?.status
        }
        #expect(status("Host/good", "login") == "ok", "\(doctor.stdout)")
        #expect(status("Host/behind", "login") == "ok", "through its jump host: \(doctor.stdout)")
        #expect(status("Host/good", "sudo as www-data") == "failed", "\(doctor.stdout)")
        #expect(status("Host/changed", "login") == "failed" && doctor.stdout.contains(offered), "\(doctor.stdout)")
        #expect(status("Host/wrong-key", "login") == "failed", "\(doctor.stdout)")
        #expect(status("Host/gone", "login") == "failed", "\(doctor.stdout)")
        #expect(doctor.status == 1, "\(doctor.stdout)\(doctor.stderr)")
    }
}
