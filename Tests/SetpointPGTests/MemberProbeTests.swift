import Foundation
import SetpointPG
import SetpointPostgres
import Testing

/// What a primary and a streaming replica say about themselves, read by MemberProbe from real servers.
@Suite(.timeLimit(.minutes(2)), .enabled(if: PGServer.enabled, "needs PostgreSQL 15 (scripts/test)"))
struct MemberProbeTests {
    @Test func aPrimaryAndItsStreamingReplica() async throws {
        try await PGTestCluster.with { cluster in
            try await cluster.addReplica("pg-2")
            let primary = try await PGConnection.connect(cluster.primaryConfig)
            defer { primary.close() }
            let replica = try await PGConnection.connect(cluster.config("pg-2"))
            defer { replica.close() }
            // The replica connects asynchronously after start: wait until the primary lists it as streaming.
            var p = try await MemberProbe.probe(primary, parameters: ["work_mem", "shared_buffers"])
            for _ in 0..<100
            where !p.standbys.contains(where: { $0.applicationName == "pg-2" && $0.state == "streaming" }) {
                try await Task.sleep(for: .milliseconds(50))
                p = try await MemberProbe.probe(primary, parameters: ["work_mem", "shared_buffers"])
            }
            #expect(!p.inRecovery && p.majorVersion == 15 && p.timeline == 1)
            #expect(p.standbys.map(\.applicationName) == ["pg-2"])
            #expect(p.standbys.first?.state == "streaming" && p.standbys.first?.syncState == "async")
            #expect(
                p.slots.map(\.name) == ["pg_2"] && p.slots.first?.active == true && p.slots.first?.type == "physical"
            )
            #expect(p.settings["shared_buffers"]?.context == "postmaster")
            #expect(p.settings["work_mem"]?.context == "user")
            let r = try await MemberProbe.probe(replica, parameters: [])
            #expect(r.inRecovery && r.systemIdentifier == p.systemIdentifier)
            #expect(r.receiver?.status == "streaming" && r.receiver?.slotName == "pg_2")
            #expect(r.receiver?.senderPort == cluster.ports["primary"])
            #expect(r.dataDirectory == cluster.dataDirectory("pg-2"))
        }
    }

    @Test func aPostmasterParameterSetByAlterSystemWaitsForARestart() async throws {
        try await PGTestCluster.with { cluster in
            let db = try await PGConnection.connect(cluster.primaryConfig)
            defer { db.close() }
            _ = try await db.query("ALTER SYSTEM SET max_connections = \(try PGQuote.literal("150"))")
            _ = try await db.query("ALTER SYSTEM SET work_mem = \(try PGQuote.literal("8MB"))")
            _ = try await db.query("SELECT pg_reload_conf()")
            try await Task.sleep(for: .milliseconds(300))
            let facts = try await MemberProbe.probe(db, parameters: ["max_connections", "work_mem"])
            let maxConnections = try #require(facts.settings["max_connections"])
            #expect(
                maxConnections.setting == "100" && maxConnections.pendingRestart && maxConnections.fileValue == "150"
            )
            #expect(facts.settings["work_mem"]?.setting == "8192" && facts.settings["work_mem"]?.unit == "kB")
            #expect(facts.settings["work_mem"]?.pendingRestart == false)
        }
    }
}
