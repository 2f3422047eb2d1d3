import Foundation
import SetpointTesting
import Testing

/// Backups across hosts, in pgBackRest's TLS-server layout: the primary on h11, the repository on h12, restores and
/// drills on h13. Setpoint writes each host's configuration and certificates and starts its `pgbackrest server`; the
/// backups run on h12, the copies on h13, and nothing of it on the machine Setpoint runs on.
@Suite(.timeLimit(.minutes(4)), .serialized) struct LabBackupTests {
    static let cipher = "lab-cipher-canary-7f3a"

    static func manifests(_ lab: Lab, tls: Bool = true) -> String {
        let pki = lab.inventory.directory + "/pki"
        return lab.hostsYAML(["h11", "h12", "h13"]) + """
            ---
            apiVersion: setpoint/v1
            kind: PostgresCluster
            metadata: {name: main}
            spec:
              version: 15
              primary: pg-1
              members:
                - {name: pg-1, runsOn: h11, dataDirectory: /var/lib/postgresql/15/main}
              connection:
                password: {env: LAB_PG_PASSWORD}
              replication:
                password: {env: LAB_REPLICATION_PASSWORD}
            ---
            apiVersion: setpoint/v1
            kind: BackupPolicy
            metadata: {name: main-backups}
            spec:
              cluster: main
              configDirectory: /etc/pgbackrest
              repository: {path: /var/lib/pgbackrest, runsOn: h12}\(tls ? """

              tls:
                ca: {file: \(pki)/ca.crt}
                certificate: {file: \(pki)/host.crt}
                key: {file: \(pki)/host.key}
            """ : "")
              schedules: {full: "0 1 * * 0", incr: "0 1 * * 1-6"}
              retention: {full: 2}
              encryption:
                cipher: aes-256-cbc
                passphrase: {env: LAB_CIPHER}
              archiveTimeout: 10s
              objectives: {rpo: 5m, rto: 10m}
              drill:
                schedule: "0 3 * * *"
                runsOn: h13
                port: 25432
                directory: /var/lib/postgresql/drill
                checks:
                  - {sql: "SELECT count(*) FROM t", expect: "3"}

            """
    }

    /// The PID of `pgbackrest server` a host's PID file names, when that process lives.
    static func server(_ lab: Lab, _ host: String) async throws -> String? {
        let out = try await lab.lab([
            "exec", host, "sh", "-c",
            "p=$(cut -d' ' -f1 /etc/pgbackrest/main-backups.tls/server.pid 2>/dev/null) && "
                + "grep -q '(pgbackrest)' /proc/$p/stat 2>/dev/null && echo $p",
        ])
        let pid = out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return pid.isEmpty ? nil : pid
    }

    @Test func backupsRestoresAndDrillsAcrossHosts() async throws {
        guard let lab = try Lab.current() else { return }
        try await lab.postgres("h11")
        for host in ["h12", "h13"] {
            let made = try await lab.lab(["pgbackrest", host])
            #expect(made.status == 0, "\(made.stderr)")
        }
        let certs = try await lab.lab(["certs"])
        #expect(certs.status == 0, "\(certs.stderr)")
        let dir = try Lab.workspace("backup")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let env = Lab.passwords.merging(["LAB_CIPHER": Self.cipher]) { _, new in new }

        // Without spec.tls: refused, naming the Host and the field.
        try Self.manifests(lab, tls: false).write(toFile: dir + "/lab.yaml", atomically: true, encoding: .utf8)
        let refused = try await lab.setpoint(["plan", "lab.yaml"], in: dir, environment: env)
        let said = refused.stdout + refused.stderr
        #expect(refused.status == 1)
        #expect(said.contains("Host/h12") && said.contains("needs spec.tls"), "\(said)")

        try Self.manifests(lab).write(toFile: dir + "/lab.yaml", atomically: true, encoding: .utf8)
        // doctor: pgBackRest and its version on each host the policy reaches, as postgres.
        let doctor = try await lab.setpoint(["doctor", "lab.yaml"], in: dir, environment: env)
        #expect(doctor.status == 0, "\(doctor.stdout)\(doctor.stderr)")
        for host in ["h11", "h12", "h13"] {
            #expect(doctor.stdout.contains("ok   Host/\(host) pgbackrest: pgBackRest 2."), "\(doctor.stdout)")
        }
        #expect(doctor.stdout.contains("BackupPolicy/main-backups (repository)"))
        let imported = try await lab.setpoint(
            ["import", "PostgresCluster/main", "lab.yaml"],
            in: dir,
            environment: env
        )
        #expect(imported.status == 0, "\(imported.stderr)")
        let applied = try await lab.setpoint(
            ["apply", "lab.yaml", "--auto-approve", "--approve", "all-risky"],
            in: dir,
            environment: env
        )
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")
        let again = try await lab.setpoint(["plan", "lab.yaml", "--detailed-exitcode"], in: dir, environment: env)
        #expect(again.status == 0, "the second plan is empty: \(again.stdout)\(again.stderr)")

        // A server on the repository's host and on the primary's; none where only restores run. The stanza is in h12's
        // repository; the primary archives into it (pgbackrest check passed in the apply).
        #expect(try await Self.server(lab, "h11") != nil)
        #expect(try await Self.server(lab, "h12") != nil)
        #expect(try await Self.server(lab, "h13") == nil)
        let archive = try await lab.on("h12", ["ls", "/var/lib/pgbackrest/archive"])
        #expect(archive.contains("main-backups"))
        #expect(try await lab.sql("h11", "SHOW archive_mode") == ["on"])

        _ = try await lab.sql("h11", "CREATE TABLE t (i int); INSERT INTO t VALUES (1), (2), (3)")
        let full = try await lab.setpoint(
            ["backup", "run", "main-backups", "lab.yaml", "--type", "full"],
            in: dir,
            environment: env
        )
        #expect(full.status == 0 && full.stdout.contains("full succeeded"), "\(full.stdout)\(full.stderr)")
        let incr = try await lab.setpoint(
            ["backup", "run", "main-backups", "lab.yaml", "--type", "incr"],
            in: dir,
            environment: env
        )
        #expect(incr.status == 0 && incr.stdout.contains("incr succeeded"), "\(incr.stdout)\(incr.stderr)")
        // The backups are in h12's repository, made there (its pgBackRest log), and nowhere else.
        let backups = try await lab.on("h12", ["ls", "/var/lib/pgbackrest/backup/main-backups"])
        #expect(backups.contains("F\n") && backups.contains("I\n"), "\(backups)")
        #expect(try await lab.on("h12", ["ls", "/var/log/pgbackrest"]).contains("main-backups-backup.log"))
        #expect(!(try await lab.on("h11", ["ls", "/var/log/pgbackrest"])).contains("main-backups-backup.log"))

        // A point in time on h13: after the three rows, before the fourth.
        try await Task.sleep(for: .seconds(1.2))
        let target = try await lab.sql("h11", "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')")
        try await Task.sleep(for: .seconds(1.2))
        _ = try await lab.sql("h11", "INSERT INTO t VALUES (4)")
        let restored = try await lab.setpoint(
            [
                "restore", "main-backups", "lab.yaml", "--to", "/var/lib/postgresql/pitr", "--port", "25433", "--on",
                "h13",
                "--target-time", target.first ?? "",
            ],
            in: dir,
            environment: env
        )
        #expect(restored.status == 0 && restored.stdout.contains("on Host/h13"), "\(restored.stdout)\(restored.stderr)")
        let rows = try await lab.on(
            "h13",
            [
                "runuser", "-u", "postgres", "--", "psql", "-h", "/var/lib/postgresql/pitr", "-p", "25433", "-Atc",
                "SELECT count(*) FROM t",
            ]
        )
        #expect(rows.trimmingCharacters(in: .whitespacesAndNewlines) == "3", "the copy stops before the fourth row")
        // The restore ran as a job on h13 (its folder beside the directory), removed once it had finished.
        #expect(try await lab.on("h13", ["ls", "/var/lib/postgresql"]) == "pitr\n")
        _ = try await lab.on(
            "h13",
            [
                "runuser", "-u", "postgres", "--", "/usr/lib/postgresql/15/bin/pg_ctl", "-D",
                "/var/lib/postgresql/pitr", "-m", "fast", "stop",
            ]
        )

        // A restore on the repository's own host (h12): its configuration names the member's host, reset for the copy.
        let onRepository = try await lab.setpoint(
            [
                "restore", "main-backups", "lab.yaml", "--to", "/var/lib/postgresql/copy", "--port", "25434", "--on",
                "h12",
            ],
            in: dir,
            environment: env
        )
        #expect(onRepository.status == 0, "\(onRepository.stdout)\(onRepository.stderr)")
        let copied = try await lab.on(
            "h12",
            [
                "runuser", "-u", "postgres", "--", "psql", "-h", "/var/lib/postgresql/copy", "-p", "25434", "-Atc",
                "SELECT count(*) FROM t",
            ]
        )
        #expect(copied.trimmingCharacters(in: .whitespacesAndNewlines) == "4", "the latest: all four rows")
        _ = try await lab.on(
            "h12",
            [
                "runuser", "-u", "postgres", "--", "/usr/lib/postgresql/15/bin/pg_ctl", "-D",
                "/var/lib/postgresql/copy",
                "-m", "fast", "stop",
            ]
        )

        // The drill on h13: restored, checked (the latest has four rows: its check expects three, so it fails and says
        // so), then removed.
        let drill = try await lab.setpoint(["backup", "drill", "main-backups", "lab.yaml"], in: dir, environment: env)
        #expect(drill.status == 1)
        #expect((drill.stdout + drill.stderr).contains("returned '4', expected '3'"), "\(drill.stdout)\(drill.stderr)")
        // The row removed, and an incremental backup (which waits for its WAL in the repository) to restore it from.
        _ = try await lab.sql("h11", "DELETE FROM t WHERE i = 4")
        let second = try await lab.setpoint(
            ["backup", "run", "main-backups", "lab.yaml", "--type", "incr"],
            in: dir,
            environment: env
        )
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        let passed = try await lab.setpoint(["backup", "drill", "main-backups", "lab.yaml"], in: dir, environment: env)
        #expect(passed.status == 0 && passed.stdout.contains("measured RTO"), "\(passed.stdout)\(passed.stderr)")
        let leftover = try await lab.lab(["exec", "h13", "test", "-e", "/var/lib/postgresql/drill"])
        #expect(leftover.status != 0, "the drill's copy is removed")

        // Objectives against actuals: the drill's RTO and the archiver's RPO.
        let status = try await lab.setpoint(
            ["backup", "status", "main-backups", "lab.yaml", "--output", "json"],
            in: dir,
            environment: env
        )
        let report = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [[String: Any]]
        let rpo = report?.first?["rpo"] as? [String: Any]
        let rto = report?.first?["rto"] as? [String: Any]
        #expect((rpo?["actualSeconds"] as? Double).map { $0 >= 0 && $0 < 300 } == true, "\(status.stdout)")
        #expect((rto?["actualSeconds"] as? Double).map { $0 > 0 } == true, "\(status.stdout)")

        // A server killed by hand is drift, restarted by the next apply.
        if let pid = try await Self.server(lab, "h11") {
            _ = try await lab.on("h11", ["kill", pid])
            for _ in 0..<40 where try await Self.server(lab, "h11") != nil {
                try await Task.sleep(for: .milliseconds(250))
            }
        }
        let drift = try await lab.setpoint(["plan", "lab.yaml"], in: dir, environment: env)
        #expect(
            drift.stdout.contains("Host/h11") && drift.stdout.contains("pgbackrest server is not running"),
            "\(drift.stdout)"
        )
        let mended = try await lab.setpoint(["apply", "lab.yaml", "--auto-approve"], in: dir, environment: env)
        #expect(mended.status == 0, "\(mended.stdout)\(mended.stderr)")
        #expect(try await Self.server(lab, "h11") != nil)
        let empty = try await lab.setpoint(["plan", "lab.yaml", "--detailed-exitcode"], in: dir, environment: env)
        #expect(empty.status == 0, "\(empty.stdout)\(empty.stderr)")

        // The passphrase is in h12's 0600 include file and nowhere else: no other host's files, no argv on any host.
        for host in ["h11", "h12", "h13"] {
            // The canary on stdin: on an argv it would be in the argv log it looks into.
            let found = try await lab.lab(
                [
                    "exec", host, "sh", "-c",
                    "grep -rlF -f /dev/stdin /etc/pgbackrest /tmp/lab-argv.log /tmp/lab-commands.log 2>/dev/null; true",
                ],
                input: Self.cipher + "\n"
            )
            let files = found.stdout.split(separator: "\n").map(String.init)
            #expect(files == (host == "h12" ? ["/etc/pgbackrest/main-backups.d/secret.conf"] : []), "\(host): \(files)")
        }
        let mode = try await lab.on("h12", ["stat", "-c", "%a %U", "/etc/pgbackrest/main-backups.d/secret.conf"])
        #expect(mode.trimmingCharacters(in: .whitespacesAndNewlines) == "600 postgres")
    }
}
