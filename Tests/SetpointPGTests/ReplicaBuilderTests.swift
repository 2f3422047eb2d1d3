import Foundation
import SetpointExec
import SetpointPG
import SetpointPostgres
import Testing

/// Making replicas on real PostgreSQL 15 servers.
@Suite(.timeLimit(.minutes(2)), .enabled(if: PGServer.enabled, "needs PostgreSQL 15 (scripts/test)"))
struct ReplicaBuilderTests {
    func spec(_ cluster: PGTestCluster, _ name: String) -> ReplicaSpec {
        ReplicaSpec(
            name: name,
            port: PGTestCluster.freePort(),
            dataDirectory: cluster.dataDirectory(name),
            primaryHost: "127.0.0.1",
            primaryPort: cluster.ports["primary"]!,
            replicationUser: "postgres",
            binDirectory: cluster.bin
        )
    }

    @Test func aReplicaIsMadeWithItsSlotAndCountsOnlyOnceItStreams() async throws {
        try await PGTestCluster.with { cluster in
            let primary = try await PGConnection.connect(cluster.primaryConfig)
            defer { primary.close() }
            _ = try await primary.query("CREATE TABLE t (v int)")
            _ = try await primary.query("INSERT INTO t VALUES (1), (2)")
            let replica = spec(cluster, "pg-2")
            let took = try await ReplicaBuilder().create(replica, primary: primary)
            cluster.adopt("pg-2", port: replica.port)
            print("replica pg-2 made and streaming in \(took)")
            let facts = try await MemberProbe.probe(primary, parameters: [])
            #expect(facts.standbys.first { $0.applicationName == "pg-2" }?.state == "streaming")
            #expect(facts.slots.first { $0.name == "pg_2" }?.active == true)
            let standby = try await PGConnection.connect(cluster.config("pg-2"))
            defer { standby.close() }
            #expect(try await standby.query("SELECT count(*) AS n FROM t").first?.int("n") == 2)
            #expect(try await standby.query("SELECT pg_is_in_recovery() AS r").first?.bool("r") == true)
        }
    }

    @Test func aNonEmptyDataDirectoryIsRefusedAndNothingChanges() async throws {
        try await PGTestCluster.with { cluster in
            let primary = try await PGConnection.connect(cluster.primaryConfig)
            defer { primary.close() }
            // Someone's data is there already.
            let replica = spec(cluster, "pg-3")
            _ = try await LocalRunner().run(Command("/bin/mkdir", ["-p", replica.dataDirectory], user: "postgres"))
            _ = try await LocalRunner().run(
                Command("/usr/bin/tee", ["\(replica.dataDirectory)/important.dat"], user: "postgres", input: "keep me")
            )
            do {
                try await ReplicaBuilder().create(replica, primary: primary)
                Issue.record("a non-empty directory must be refused")
            } catch let refusal as ReplicaRefusal {
                #expect(
                    refusal.reason.contains("is not empty") && refusal.reason.contains("important.dat"),
                    "\(refusal)"
                )
            }
            #expect(
                try await primary.query("SELECT count(*) AS n FROM pg_replication_slots").first?.int("n") == 0,
                "no slot was made"
            )
            #expect(try String(contentsOfFile: "\(replica.dataDirectory)/important.dat", encoding: .utf8) == "keep me")
            // A directory holding another member's data (two replicas on one directory) is refused as such.
            let first = spec(cluster, "pg-4")
            try await ReplicaBuilder().create(first, primary: primary)
            cluster.adopt("pg-4", port: first.port)
            var second = spec(cluster, "pg-5")
            second.dataDirectory = first.dataDirectory
            do {
                try await ReplicaBuilder().create(second, primary: primary)
                Issue.record("a directory in use must be refused")
            } catch let refusal as ReplicaRefusal {
                #expect(refusal.reason.contains("holds a PostgreSQL data directory"), "\(refusal)")
            }
        }
    }

    @Test func aWrongReplicationPasswordQuotesPgBasebackup() async throws {
        try await PGTestCluster.with { cluster in
            let primary = try await PGConnection.connect(cluster.primaryConfig)
            defer { primary.close() }
            var replica = spec(cluster, "pg-6")
            replica.replicationUser = "nobody_here"
            do {
                try await ReplicaBuilder().create(replica, primary: primary)
                Issue.record("an unknown role must fail")
            } catch let failure as CommandFailure {
                #expect("\(failure)".contains("pg_basebackup") && "\(failure)".contains("nobody_here"), "\(failure)")
            }
        }
    }
}
