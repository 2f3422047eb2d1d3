import Foundation
import SetpointTesting
import Testing

/// Setpoint's block in pg_hba.conf: a primary on h14 whose pg_hba.conf lets no one replicate, a replica declared on
/// h15. Apply writes the marked block at the top of h14's file (the rest untouched) and the replica streams through it;
/// a hand edit is drift that the next apply mends.
@Suite(.timeLimit(.minutes(3)), .serialized) struct LabHbaTests {
    static func manifests(_ lab: Lab) -> String {
        lab.hostsYAML(["h14", "h15"]) + """
            ---
            apiVersion: setpoint/v1
            kind: PostgresCluster
            metadata: {name: hba}
            spec:
              version: 15
              primary: pg-a
              members:
                - {name: pg-a, runsOn: h14, dataDirectory: /var/lib/postgresql/15/main}
                - {name: pg-b, runsOn: h15, dataDirectory: /var/lib/postgresql/15/main}
              connection:
                password: {env: LAB_PG_PASSWORD}
              replication:
                password: {env: LAB_REPLICATION_PASSWORD}

            """
    }

    @Test func theMarkedBlockLetsTheReplicaInAndLeavesTheRestAlone() async throws {
        guard let lab = try Lab.current() else { return }
        let made = try await lab.lab(
            ["postgres", "h14"],
            environment: [
                "SETPOINT_LAB_PG_PASSWORD": Lab.passwords["LAB_PG_PASSWORD"]!,
                "SETPOINT_LAB_REPLICATION_PASSWORD": Lab.passwords["LAB_REPLICATION_PASSWORD"]!,
                "SETPOINT_LAB_REPLICATION": "none",
            ]
        )
        #expect(made.status == 0, "\(made.stderr)")
        let hbaFile = "/var/lib/postgresql/15/main/pg_hba.conf"
        let original = try await lab.on("h14", ["cat", hbaFile])
        #expect(!original.contains("host replication all"), "the lab made it without replication")

        let dir = try Lab.workspace("hba")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.manifests(lab).write(toFile: dir + "/hba.yaml", atomically: true, encoding: .utf8)
        let imported = try await lab.setpoint(
            ["import", "PostgresCluster/hba", "hba.yaml"],
            in: dir,
            environment: Lab.passwords
        )
        #expect(imported.status == 0, "\(imported.stderr)")
        let plan = try await lab.setpoint(["plan", "hba.yaml"], in: dir, environment: Lab.passwords)
        #expect(plan.stdout.contains("replication.pgHba"), "the missing block is in the plan: \(plan.stdout)")
        let applied = try await lab.setpoint(
            ["apply", "hba.yaml", "--auto-approve"],
            in: dir,
            environment: Lab.passwords
        )
        #expect(applied.status == 0, "\(applied.stdout)\(applied.stderr)")

        // The block at the top, naming both members' addresses; below it the file exactly as it was.
        let after = try await lab.on("h14", ["cat", hbaFile])
        let a = lab.host("h14").address
        let b = lab.host("h15").address
        #expect(after.hasPrefix("# BEGIN Setpoint PostgresCluster/hba:"), "\(after)")
        #expect(after.contains("host    replication    replicator    \(b)/32    scram-sha-256"))
        #expect(after.contains("host    replication    replicator    \(a)/32    scram-sha-256"))
        let end = "# END Setpoint PostgresCluster/hba\n"
        #expect(after.components(separatedBy: end).last == original, "everything after the block is untouched")
        #expect(try await lab.sql("h14", "SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL") == ["0"])
        #expect(
            try await lab.sql("h14", "SELECT state FROM pg_stat_replication WHERE application_name = 'pg-b'")
                == ["streaming"],
            "the replica on h15 streams through the block"
        )
        let again = try await lab.setpoint(
            ["plan", "hba.yaml", "--detailed-exitcode"],
            in: dir,
            environment: Lab.passwords
        )
        #expect(again.status == 0, "the second plan is empty: \(again.stdout)\(again.stderr)")

        // A hand edit inside the block (a line removed) is drift; apply puts it back, once.
        _ = try await lab.on("h14", ["sed", "-i", "/replication    replicator    \(b)/d", hbaFile])
        let drift = try await lab.setpoint(
            ["plan", "hba.yaml", "--detailed-exitcode"],
            in: dir,
            environment: Lab.passwords
        )
        #expect(drift.status == 2, "\(drift.stdout)\(drift.stderr)")
        #expect(drift.stdout.contains("pg_hba.conf of pg-a (\(hbaFile))"), "\(drift.stdout)")
        let mended = try await lab.setpoint(
            ["apply", "hba.yaml", "--auto-approve"],
            in: dir,
            environment: Lab.passwords
        )
        #expect(mended.status == 0, "\(mended.stdout)\(mended.stderr)")
        let fixed = try await lab.on("h14", ["cat", hbaFile])
        #expect(fixed == after)
        #expect(fixed.components(separatedBy: "# BEGIN Setpoint").count == 2, "one block, never two")
    }
}
