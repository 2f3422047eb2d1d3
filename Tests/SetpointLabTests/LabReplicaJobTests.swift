import Foundation
import SetpointTesting
import Testing

/// A replica's pg_basebackup is a job on its host: Setpoint killed during the copy, and separately the SSH connection
/// dropped during the copy, and the next apply finishes with exactly one copy run on that host — counted there by a
/// shim around pg_basebackup that also slows it down (`--max-rate`), so the interruption lands mid-copy. Hosts h6 (the
/// primary), h7 and h8.
@Suite(.timeLimit(.minutes(6)), .serialized) struct LabReplicaJobTests {
    static let passwords = Lab.passwords
    static let shim = "/var/lib/postgresql/shim"
    static let runs = "/var/lib/postgresql/basebackup-runs"

    /// Every PostgreSQL tool as a link to the real one, except pg_basebackup: a script that counts its runs on this
    /// host and copies at 1 MB/s.
    static func installShim(_ lab: Lab, on host: String) async throws {
        _ = try await lab.on(
            host,
            [
                "/bin/sh", "-c",
                """
                set -e
                mkdir -p \(shim)
                for f in /usr/lib/postgresql/15/bin/*; do ln -sf "$f" \(shim)/; done
                rm -f \(shim)/pg_basebackup
                cat >\(shim)/pg_basebackup <<'EOF'
                #!/bin/sh
                echo "$$" >>\(runs)
                exec /usr/lib/postgresql/15/bin/pg_basebackup --max-rate=1M "$@"
                EOF
                chmod 755 \(shim)/pg_basebackup
                chown -R postgres:postgres \(shim)
                """,
            ]
        )
    }

    static func cluster(_ members: [String]) -> String {
        """
        apiVersion: setpoint/v1
        kind: PostgresCluster
        metadata: {name: side}
        spec:
          version: 15
          primary: pg-a
          binDirectory: \(shim)
          members:
        \(members.map { "    - \($0)" }.joined(separator: "\n"))
          connection:
            password: {env: LAB_PG_PASSWORD}
          replication:
            password: {env: LAB_REPLICATION_PASSWORD}

        """
    }

    static let memberA = "{name: pg-a, runsOn: h6, dataDirectory: /var/lib/postgresql/15/main}"
    static let memberB = "{name: pg-b, runsOn: h7, dataDirectory: /var/lib/postgresql/15/main}"
    static let memberC = "{name: pg-c, runsOn: h8, dataDirectory: /var/lib/postgresql/15/main}"

    /// How many times pg_basebackup ran on a host.
    static func copies(_ lab: Lab, on host: String) async throws -> Int {
        try await lab.on(host, ["/bin/sh", "-c", "cat \(runs) 2>/dev/null || true"]).split(separator: "\n").count
    }

    /// Starts `setpoint apply` in the ops namespace and waits until the copy runs on `host`.
    static func applyUntilCopying(_ lab: Lab, dir: String, host: String) async throws -> ChildProcess {
        let apply = try ChildProcess.start(
            [lab.script, "ops", Lab.setpoint, "apply", "stack.yaml", "--auto-approve"],
            environment: lab.environment.merging(passwords) { _, new in new },
            workingDirectory: dir
        )
        for _ in 0..<300 {
            guard try await copies(lab, on: host) == 0, apply.isRunning else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        return apply
    }

    @Test func aCopyInterruptedByAKillOrADroppedConnectionRunsOnceAndIsFinishedByTheNextApply() async throws {
        guard let lab = try Lab.current() else { return }
        let dir = try Lab.workspace("job")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await lab.postgres("h6")
        // Some data, so that the copy takes a few seconds at 1 MB/s.
        _ = try await lab.sql(
            "h6",
            "CREATE TABLE filler AS SELECT g, repeat('x', 500) AS pad FROM generate_series(1, 12000) g"
        )
        for h in ["h6", "h7", "h8"] { try await Self.installShim(lab, on: h) }
        func write(_ members: [String]) throws {
            try (lab.hostsYAML(["h6", "h7", "h8"]) + "---\n" + Self.cluster(members)).write(
                toFile: dir + "/stack.yaml",
                atomically: true,
                encoding: .utf8
            )
        }
        func setpoint(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
            try await lab.setpoint(arguments, in: dir, environment: Self.passwords)
        }
        try write([Self.memberA])
        let imported = try await setpoint(["import", "PostgresCluster/side", "stack.yaml"])
        try #require(imported.status == 0, "import: \(imported.stdout)\(imported.stderr)")

        // 1. Setpoint killed (SIGKILL) while pg_basebackup copies on h7.
        try write([Self.memberA, Self.memberB])
        let killed = try await Self.applyUntilCopying(lab, dir: dir, host: "h7")
        try #require(killed.isRunning, "the apply ended before the copy started: \(killed.output.value)")
        // The killed run's ssh folders (its key among their files), found by their owner mark.
        let mine = "\(killed.processIdentifier) "
        let left = try FileManager.default.contentsOfDirectory(atPath: "/tmp").filter { name in
            name.hasPrefix("setpoint-ssh-")
                && ((try? String(contentsOfFile: "/tmp/\(name)/owner", encoding: .utf8))?.hasPrefix(mine) ?? false)
        }
        #expect(!left.isEmpty, "the running apply has its ssh folder")
        killed.signal(SIGKILL)
        await killed.exitStatus()
        let planned = try await setpoint(["plan", "stack.yaml"])
        #expect(planned.stdout.contains("finishes replica pg-b"), "\(planned.stdout)\(planned.stderr)")
        let resumed = try await setpoint(["apply", "stack.yaml", "--auto-approve"])
        #expect(resumed.status == 0, "the next apply: \(resumed.stdout)\(resumed.stderr)")
        #expect(try await Self.copies(lab, on: "h7") == 1, "one copy ran on h7")
        for folder in left {
            #expect(!FileManager.default.fileExists(atPath: "/tmp/\(folder)"), "the killed run's \(folder) was swept")
            let masters = try await ChildProcess.run(["pgrep", "-f", "/tmp/\(folder)/config"])
            #expect(masters.stdout.isEmpty, "its master ssh was told to exit: \(masters.stdout)")
        }
        #expect(try await lab.sql("h7", "SELECT pg_is_in_recovery()") == ["t"])
        #expect(
            try await lab.on(
                "h7",
                ["/bin/sh", "-c", "ls -d /var/lib/postgresql/15/main.setpoint-job 2>/dev/null || true"]
            )
                == "",
            "the job's folder is gone once the replica streams"
        )

        // 2. The SSH connection to h8 dropped (its sshd's sessions killed) while pg_basebackup copies there.
        try write([Self.memberA, Self.memberB, Self.memberC])
        let dropped = try await Self.applyUntilCopying(lab, dir: dir, host: "h8")
        try #require(dropped.isRunning, "the apply ended before the copy started: \(dropped.output.value)")
        _ = try await lab.lab(["drop", "h8"])
        let status = await dropped.exitStatus()
        #expect(status == 1, "the apply fails naming the host: \(dropped.output.value)")
        #expect(dropped.output.value.contains("h8"), "\(dropped.output.value)")
        let finished = try await setpoint(["apply", "stack.yaml", "--auto-approve"])
        #expect(finished.status == 0, "the next apply: \(finished.stdout)\(finished.stderr)")
        #expect(try await Self.copies(lab, on: "h8") == 1, "one copy ran on h8")
        #expect(try await lab.sql("h8", "SELECT count(*) FROM filler") == ["12000"])
        let replan = try await setpoint(["plan", "stack.yaml", "--detailed-exitcode"])
        #expect(replan.status == 0, "re-plan: \(replan.stdout)\(replan.stderr)")
    }
}
