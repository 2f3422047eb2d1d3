import Foundation
import SetpointExec
import SetpointPG
import Testing

/// The PostgresCluster provider on real PostgreSQL 15 servers: replicas made, parameters changed, switchover and
/// failover, and the errors that must change nothing. Serialized: each test runs three servers on two cores.
@Suite(.timeLimit(.minutes(5)), .serialized, .enabled(if: PGServer.enabled))
struct PostgresClusterTests {
    @Test func replicasAreCreatedStreamWithDeclaredSyncStatesAndReplanIsEmpty() async throws {
        try await ClusterEnv.with { env in
            try env.write([
                env.clusterYAML(
                    members: [
                        env.memberYAML("pg-1", synchronous: true), env.memberYAML("pg-2", synchronous: true),
                        env.memberYAML("pg-3", synchronous: nil),
                    ],
                    synchronousCount: 1
                )
            ])
            // Not adopted yet: the plan says how.
            let before = await env.plan()
            #expect(before.code == 1 && before.text.contains("setpoint import PostgresCluster/main"), "\(before.text)")
            await env.importCluster()
            let plan = await env.plan()
            #expect(plan.code == 2, "\(plan.text)")
            #expect(
                plan.text.contains(all: [
                    "creates replica pg-2", "creates replica pg-3", "replication.synchronousCount",
                ]),
                "\(plan.text)"
            )
            await env.apply()
            let rows = try await env.replication(on: "pg-1")
            #expect(rows["pg-2"]?.0 == "streaming" && rows["pg-3"]?.0 == "streaming", "\(rows)")
            #expect(rows["pg-2"]?.1 == "quorum", "pg-2 is the one synchronous candidate (ANY 1): \(rows)")
            #expect(rows["pg-3"]?.1 == "async", "\(rows)")
            #expect(try await env.value("SELECT pg_is_in_recovery()::text", on: "pg-2") == "true")
            let again = await env.plan()
            #expect(again.code == 0, "the second plan must be empty:\n\(again.text)")

            // Re-initialising a replica: refused without --yes; with it, the old data is kept aside and the member streams again.
            let unconfirmed = await env.run(["postgres", "reinit", "main", "pg-3", env.manifests])
            #expect(unconfirmed.code == 1 && unconfirmed.err.contains("--yes"))
            let reinit = await env.run(["postgres", "reinit", "main", "pg-3", env.manifests, "--yes"])
            #expect(reinit.code == 0, "\(reinit.out)\(reinit.err)")
            let kept = try FileManager.default.contentsOfDirectory(atPath: env.dir).filter {
                $0.hasPrefix("pg-3.setpoint-reinit-")
            }
            #expect(kept.count == 1, "the old data directory is kept aside")
            #expect(try await env.replication(on: "pg-1")["pg-3"]?.0 == "streaming")
            #expect(await env.plan().code == 0)
        }
    }

    @Test func removingAReplicaWaitsForApprovalStopsItDropsItsSlotAndKeepsItsData() async throws {
        try await ClusterEnv.with(members: ["pg-1", "pg-2", "pg-3"]) { env in
            let three = [
                env.memberYAML("pg-1"), env.memberYAML("pg-2", synchronous: true),
                env.memberYAML("pg-3", synchronous: true),
            ]
            try env.write([env.clusterYAML(members: three, synchronousCount: 1)])
            await env.importCluster()
            await env.apply()
            // A synchronous candidate stops: the plan starts it again and warns that commits wait meanwhile.
            _ = try await env.runner.run(
                Command("\(env.bin)/pg_ctl", ["-D", env.data("pg-2"), "-m", "fast", "-w", "stop"], user: "postgres")
            )
            try env.write([env.clusterYAML(members: three, synchronousCount: 2)])
            let degraded = await env.plan()
            #expect(
                degraded.text.contains(all: [
                    "SP2005", "synchronousCount is 2 but only 1 synchronous candidate streams", "starts pg-2",
                ]),
                "\(degraded.text)"
            )
            await env.apply()
            #expect(try await env.replication(on: "pg-1")["pg-2"]?.0 == "streaming")
            #expect(try await env.value("SHOW synchronous_standby_names", on: "pg-1") == "ANY 2 (\"pg-2\", \"pg-3\")")

            try env.write([
                env.clusterYAML(
                    members: [env.memberYAML("pg-1"), env.memberYAML("pg-2", synchronous: true)],
                    synchronousCount: 1
                )
            ])
            let plan = await env.plan()
            #expect(
                plan.text.contains(all: [
                    "removes member pg-3", "data stays in \(env.data("pg-3"))", "requires approval",
                ]),
                "\(plan.text)"
            )
            await env.apply(["--auto-approve"], expect: 3)
            #expect(try await env.replication(on: "pg-1")["pg-3"] != nil, "nothing removed without approval")
            await env.apply()
            #expect(try await env.replication(on: "pg-1")["pg-3"] == nil)
            #expect(
                try await env.value("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'pg_3'", on: "pg-1")
                    == "0",
                "its slot is dropped"
            )
            #expect(
                FileManager.default.fileExists(atPath: env.data("pg-3") + "/PG_VERSION"),
                "its data directory is kept"
            )
            #expect(try await env.value("SHOW synchronous_standby_names", on: "pg-1") == "ANY 1 (\"pg-2\")")
            let again = await env.plan()
            #expect(again.code == 0, "\(again.text)")
        }
    }

    @Test func reloadParameterAppliesLivePostmasterParameterWaitsForApprovedRestart() async throws {
        try await ClusterEnv.with(members: ["pg-1", "pg-2"]) { env in
            let members = [env.memberYAML("pg-1"), env.memberYAML("pg-2")]
            try env.write([env.clusterYAML(members: members)])
            await env.importCluster()
            await env.apply()
            try env.write([env.clusterYAML(members: members, parameters: ["work_mem": "24MB"])])
            await env.apply()
            #expect(try await env.value("SHOW work_mem", on: "pg-1") == "24MB")
            #expect(try await env.value("SHOW work_mem", on: "pg-2") == "24MB", "parameters go to every member")
            #expect(await env.plan().code == 0)

            try env.write([
                env.clusterYAML(members: members, parameters: ["work_mem": "24MB", "max_wal_senders": "12"])
            ])
            let json = try await env.planJSON()
            let actions = json["actions"] as? [[String: Any]] ?? []
            let update = actions.first { $0["verb"] as? String == "update" }
            let restart = actions.first { $0["verb"] as? String == "restart" }
            #expect(update?["impact"] as? String == "restart", "\(actions)")
            #expect(restart?["requiresApproval"] as? Bool == true, "a restart waits for approval: \(actions)")
            // Without approval: the update stages the value, the restart is not carried out.
            await env.apply(["--auto-approve"], expect: 3)
            #expect(try await env.value("SHOW max_wal_senders", on: "pg-1") == "10", "not restarted without approval")
            await env.apply()
            #expect(try await env.value("SHOW max_wal_senders", on: "pg-1") == "12")
            #expect(try await env.value("SHOW max_wal_senders", on: "pg-2") == "12")
            #expect(try await env.replication(on: "pg-1")["pg-2"]?.0 == "streaming")
            let again = await env.plan()
            #expect(again.code == 0, "\(again.text)")
        }
    }

    @Test func switchoverMovesWritesAndEveryoneStreamsFromTheNewPrimary() async throws {
        try await ClusterEnv.with { env in
            func members() -> [String] {
                [
                    env.memberYAML("pg-1", synchronous: true), env.memberYAML("pg-2", synchronous: true),
                    env.memberYAML("pg-3", synchronous: true),
                ]
            }
            try env.write([env.clusterYAML(members: members(), synchronousCount: 1)])
            await env.importCluster()
            await env.apply()
            let db = try await env.connect("pg-1")
            _ = try await db.query("CREATE TABLE t (id int PRIMARY KEY, at timestamptz DEFAULT now())")
            _ = try await db.query("INSERT INTO t (id) SELECT generate_series(1, 1000)")
            db.close()

            try env.write([env.clusterYAML(primary: "pg-2", members: members(), synchronousCount: 1)])
            let plan = await env.plan()
            #expect(plan.text.contains(all: ["switchover", "pg-1 → pg-2", "pg_rewind"]), "\(plan.text)")
            let started = ContinuousClock.now
            await env.apply()
            let took = ContinuousClock.now - started
            print("switchover apply (plan + switchover + confirm) took \(took)")
            #expect(try await env.value("SELECT pg_is_in_recovery()::text", on: "pg-2") == "false")
            let newPrimary = try await env.connect("pg-2")
            _ = try await newPrimary.query("INSERT INTO t (id) VALUES (1001)")
            #expect(
                try await newPrimary.query("SELECT count(*) AS n FROM t").first?["n"] == "1001",
                "every earlier row is there"
            )
            newPrimary.close()
            let rows = try await env.replication(on: "pg-2")
            #expect(rows["pg-1"]?.0 == "streaming" && rows["pg-3"]?.0 == "streaming", "\(rows)")
            #expect(
                try await env.value("SELECT pg_is_in_recovery()::text", on: "pg-1") == "true",
                "the old primary is a standby now"
            )
            #expect(
                try await env.value("SELECT count(*) FROM pg_replication_slots", on: "pg-1") == "0",
                "no stale slot holds WAL on the old primary"
            )
            let again = await env.plan()
            #expect(again.code == 0, "\(again.text)")
        }
    }

    @Test func failoverWithTheOldPrimaryKilledPromotesRepointsAndAudits() async throws {
        try await ClusterEnv.with { env in
            let members = [env.memberYAML("pg-1"), env.memberYAML("pg-2"), env.memberYAML("pg-3")]
            try env.write([env.clusterYAML(members: members)])
            await env.importCluster()
            await env.apply()
            let db = try await env.connect("pg-1")
            _ = try await db.query("CREATE TABLE t (id int)")
            _ = try await db.query("INSERT INTO t SELECT generate_series(1, 100)")
            db.close()
            // The primary dies.
            let pid = try #require(
                try String(contentsOfFile: env.data("pg-1") + "/postmaster.pid", encoding: .utf8).split(separator: "\n")
                    .first.flatMap { Int32($0) }
            )
            kill(pid, SIGKILL)
            try await Task.sleep(for: .milliseconds(300))
            let down = await env.plan()
            #expect(down.code == 1 && down.text.contains("setpoint postgres failover main --to"), "\(down.text)")

            let r = await env.run(["postgres", "failover", "main", "--to", "pg-2", env.manifests])
            #expect(r.code == 0, "\(r.out)\(r.err)")
            #expect(try await env.value("SELECT pg_is_in_recovery()::text", on: "pg-2") == "false")
            #expect(try await env.replication(on: "pg-2")["pg-3"]?.0 == "streaming", "pg-3 re-pointed")
            #expect(try await env.value("SELECT count(*) FROM t", on: "pg-2") == "100")
            let audit = await env.run(["audit", "log"])
            #expect(audit.out.contains("failover"), "\(audit.out)\(audit.err)")
            // The manifest still names pg-1: reported, never corrected.
            let disagreement = await env.plan()
            #expect(disagreement.code == 1 && disagreement.text.contains("set primary: pg-2"), "\(disagreement.text)")
            // Named in the manifest, the old primary comes back as a replica (crash recovery, pg_rewind, start).
            try env.write([env.clusterYAML(primary: "pg-2", members: members)])
            let plan = await env.plan()
            #expect(plan.text.contains("rejoins pg-1"), "\(plan.text)")
            await env.apply()
            #expect(try await env.replication(on: "pg-2")["pg-1"]?.0 == "streaming")
            #expect(await env.plan().code == 0)
            // State now knows pg-2 leads: the primary can be moved back by a switchover.
            try env.write([env.clusterYAML(primary: "pg-1", members: members)])
            await env.apply()
            #expect(try await env.value("SELECT pg_is_in_recovery()::text", on: "pg-1") == "false")
            #expect(await env.plan().code == 0)
        }
    }

    @Test func wrongPasswordUnreachableMemberAndNonEmptyDirectoryAreClearErrorsAndChangeNothing() async throws {
        try await ClusterEnv.with(members: ["pg-1", "pg-2", "pg-3"]) { env in
            try env.write([env.clusterYAML(members: [env.memberYAML("pg-1"), env.memberYAML("pg-2")])])
            await env.importCluster()
            // Wrong password.
            try env.write([
                env.clusterYAML(
                    members: [env.memberYAML("pg-1"), env.memberYAML("pg-2")],
                    passwordEnv: "WRONG_PASSWORD"
                )
            ])
            let wrong = await env.plan()
            #expect(
                wrong.code == 1 && wrong.text.contains(all: ["pg-1", "password authentication failed"]),
                "\(wrong.text)"
            )
            #expect(!wrong.text.contains("not-the-password"), "a password never appears")
            // A member on another host that does not answer.
            try env.write([
                env.clusterYAML(members: [
                    env.memberYAML("pg-1"), env.memberYAML("pg-2", host: "127.0.0.2", port: PGTestCluster.freePort()),
                ])
            ])
            let unreachable = await env.plan()
            #expect(
                unreachable.code == 1 && unreachable.text.contains(all: ["member pg-2", "127.0.0.2"]),
                "\(unreachable.text)"
            )
            // A replica's directory that holds something.
            try FileManager.default.createDirectory(atPath: env.data("pg-2"), withIntermediateDirectories: true)
            try "keep me".write(toFile: env.data("pg-2") + "/notes.txt", atomically: false, encoding: .utf8)
            try env.write([env.clusterYAML(members: [env.memberYAML("pg-1"), env.memberYAML("pg-2")])])
            let notEmpty = await env.plan()
            #expect(notEmpty.code == 1 && notEmpty.text.contains(all: ["pg-2", "not empty"]), "\(notEmpty.text)")
            _ = await env.run(["apply", env.manifests, "--auto-approve"])
            #expect(try String(contentsOfFile: env.data("pg-2") + "/notes.txt", encoding: .utf8) == "keep me")
            #expect(try await env.replication(on: "pg-1").isEmpty, "no replica was made")
            // Two members on one data directory: refused before anything is looked at, at the manifest position.
            try env.write([
                env.clusterYAML(members: [
                    env.memberYAML("pg-1"), env.memberYAML("pg-2"),
                    env.memberYAML("pg-3", dataDirectory: env.data("pg-2")),
                ])
            ])
            let shared = await env.run(["validate", env.manifests], withState: false)
            #expect(
                shared.code == 1
                    && (shared.out + shared.err).contains(all: ["stack.yaml:", "both use", "pg-2", "pg-3"]),
                "\(shared.out)\(shared.err)"
            )
        }
    }
}

extension String {
    func contains(all parts: [String]) -> Bool { parts.allSatisfy { contains($0) } }
}
