import Foundation
import SetpointCore
import SetpointTesting
import Testing

@testable import SetpointPostgres

/// Setpoint's block in pg_hba.conf: its lines, its place at the top, the rest of the file kept byte for byte.
@Suite(.timeLimit(.minutes(1))) struct HbaBlockTests {
    struct NoSecrets: SecretResolver {
        func resolve(_ reference: SecretReference) throws -> String { "x" }
    }

    static func settings(_ members: [Value], user: String? = nil) throws -> ClusterSettings {
        var spec: [String: Value] = ["primary": .string("a"), "members": .list(members)]
        if let user { spec["replication"] = .m(["user": .string(user)]) }
        return try ClusterSettings(Resource.fixture(.postgresCluster, "main", spec: spec), secrets: NoSecrets())
    }

    @Test func everyMembersAddressMayReplicateAndRewind() throws {
        let s = try Self.settings([
            .m(["name": .string("a"), "host": .string("10.0.0.1")]),
            .m(["name": .string("b"), "host": .string("fd00::2")]),
            .m(["name": .string("c"), "host": .string("pg-3.example.net")]),
            .m(["name": .string("d"), "host": .string("10.0.0.1"), "port": .int(5433)]),
            .m(["name": .string("e"), "conninfo": .string("host=x")]),
        ])
        let block = HbaBlock(s)
        #expect(
            block.lines == [
                "host    replication    replicator    10.0.0.1/32    scram-sha-256",
                "host    postgres    postgres    10.0.0.1/32    scram-sha-256",
                "host    replication    replicator    fd00::2/128    scram-sha-256",
                "host    postgres    postgres    fd00::2/128    scram-sha-256",
                "host    replication    replicator    pg-3.example.net    scram-sha-256",
                "host    postgres    postgres    pg-3.example.net    scram-sha-256",
            ]
        )
        #expect(
            HbaBlock(try Self.settings([.m(["name": .string("a"), "host": .string("h")])], user: "Rep User")).lines[0]
                .contains("\"Rep User\"")
        )
    }

    @Test func appliedPutsOneBlockOnTopAndKeepsTheRest() throws {
        let block = HbaBlock(try Self.settings([.m(["name": .string("a"), "host": .string("10.0.0.1")])]))
        let file = "# TYPE DATABASE USER ADDRESS METHOD\nlocal all all peer\nhost all all 0.0.0.0/0 reject\n"
        let once = block.applied(to: file)
        #expect(once == block.text + file)
        #expect(block.applied(to: once) == once, "idempotent")
        // A block moved down, or edited, comes back on top once; the other lines stay in order.
        let moved = file + block.text
        #expect(block.applied(to: moved) == once)
        let edited = once.replacingOccurrences(of: "scram-sha-256", with: "trust")
        #expect(block.applied(to: edited) == once)
        #expect(block.current(in: edited) != block.text)
        // Another cluster's block is not ours.
        let other = HbaBlock(
            try ClusterSettings(
                Resource.fixture(
                    .postgresCluster,
                    "other",
                    spec: [
                        "primary": .string("a"),
                        "members": .list([.m(["name": .string("a"), "host": .string("10.0.0.9")])]),
                    ]
                ),
                secrets: NoSecrets()
            )
        )
        let both = other.applied(to: once)
        #expect(block.applied(to: both) == block.text + other.text + file)
    }

    @Test(arguments: [
        ("*", "10.0.0.1", true), ("localhost", "10.0.0.1", false), ("127.0.0.1, 10.0.0.1", "10.0.0.1", true),
        ("0.0.0.0", "10.0.0.1", true), ("", "10.0.0.1", false), ("localhost", nil, false),
    ])
    func listenAddressesReachableFromTheOtherMembers(listen: String, address: String?, ok: Bool) {
        #expect((ClusterObservation.listenProblem(listen, address: address) == nil) == ok)
    }
}
