import Foundation
import SetpointPG
import SetpointPostgres
import Testing

/// Synchronous replication, member removal and promotion on real PostgreSQL 15 servers.
@Suite(.timeLimit(.minutes(2)), .enabled(if: PGServer.enabled, "needs PostgreSQL 15 (scripts/test)"))
struct MemberOperationsTests {
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

    /// `sync_state` of each standby, once the primary has applied the setting.
    func syncStates(_ primary: PGConnection, expecting: [String: String]) async throws -> [String: String] {
        var states: [String: String] = [:]
        for _ in 0..<100 {
            let facts = try await MemberProbe.probe(primary, parameters: [])
            states = Dictionary(uniqueKeysWithValues: facts.standbys.map { ($0.applicationName, $0.syncState) })
            if states == expecting { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        return states
    }

    @Test func synchronousReplicationFromACountThenRemovalKeepsTheData() async throws {
        try await PGTestCluster.with { cluster in
            let primary = try await PGConnection.connect(cluster.primaryConfig)
            defer { primary.close() }
            let a = spec(cluster, "pg-2")
            let b = spec(cluster, "pg-3")
            for r in [a, b] {
                try await ReplicaBuilder().create(r, primary: primary)
                cluster.adopt(r.name, port: r.port)
            }
            try await MemberOperations().setSynchronous(count: 1, standbys: ["pg-2"], on: primary)
            #expect(
                try await syncStates(primary, expecting: ["pg-2": "quorum", "pg-3": "async"]) == [
                    "pg-2": "quorum", "pg-3": "async",
                ]
            )
            _ = try await primary.query("CREATE TABLE t (v int)")
            _ = try await primary.query("INSERT INTO t VALUES (1)")  // commits only once pg-2 has it
            let kept = try await MemberOperations().removeReplica(b, primary: primary)
            #expect(kept == b.dataDirectory)
            #expect(
                FileManager.default.fileExists(atPath: b.dataDirectory + "/PG_VERSION"),
                "the data directory is kept"
            )
            let facts = try await MemberProbe.probe(primary, parameters: [])
            #expect(facts.standbys.map(\.applicationName) == ["pg-2"])
            #expect(facts.slots.map(\.name) == ["pg_2"], "the removed member's slot is dropped")
        }
    }

    @Test func promotionMovesAStandbyToANewTimeline() async throws {
        try await PGTestCluster.with { cluster in
            let primary = try await PGConnection.connect(cluster.primaryConfig)
            defer { primary.close() }
            let r = spec(cluster, "pg-2")
            try await ReplicaBuilder().create(r, primary: primary)
            cluster.adopt(r.name, port: r.port)
            _ = try await primary.query("CREATE TABLE t (v int)")
            _ = try await primary.query("INSERT INTO t VALUES (42)")
            try await MemberOperations().stop(
                dataDirectory: cluster.dataDirectory("primary"),
                binDirectory: cluster.bin,
                osUser: "postgres"
            )
            try await MemberOperations().promote(
                dataDirectory: r.dataDirectory,
                binDirectory: r.binDirectory,
                osUser: "postgres"
            )
            let promoted = try await PGConnection.connect(cluster.config("pg-2"))
            defer { promoted.close() }
            let facts = try await MemberProbe.probe(promoted, parameters: [])
            #expect(!facts.inRecovery && facts.timeline == 2)
            #expect(try await promoted.query("SELECT v FROM t").first?.int("v") == 42, "earlier rows are there")
            _ = try await promoted.query("INSERT INTO t VALUES (43)")
        }
    }
}
