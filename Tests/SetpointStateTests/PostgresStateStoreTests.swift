import Foundation
import SetpointCore
import SetpointPG
import SetpointState
import SetpointTesting
import Testing

/// The PostgreSQL state store on the PostgreSQL scripts/test starts: the store contract (each test in a database of
/// its own), schema versions, a serialised audit chain across stores, and the lease's fencing epoch.
@Suite(
    .timeLimit(.minutes(5)),
    .enabled(if: ProcessInfo.processInfo.environment["SETPOINT_TEST_PG_PORT"] != nil || ExternalTool.isCI)
)
struct PostgresStateStoreTests {
    static let api1 = ResourceID(kind: .virtualMachine, name: "api-1")
    static let db = ResourceID(kind: .postgresCluster, name: "main-db")

    /// A fresh database; its URL (password inside, as operators write it).
    static func database() async throws -> String {
        let env = ProcessInfo.processInfo.environment
        let port = try #require(
            env["SETPOINT_TEST_PG_PORT"],
            "run the tests through scripts/test, which starts PostgreSQL"
        )
        let password = env["SETPOINT_TEST_PG_PASSWORD"] ?? ""
        let name = "setpoint_state_\(UUID().uuidString.prefix(8).lowercased())"
        let admin = try await PGConnection.connect(
            PGConfig(
                host: "127.0.0.1",
                port: Int(port),
                user: "postgres",
                password: password,
                database: "postgres",
                sslmode: "disable"
            )
        )
        defer { admin.close() }
        _ = try await admin.query("CREATE DATABASE \(try PGQuote.identifier(name))")
        return "postgres://postgres:\(password)@127.0.0.1:\(port)/\(name)?sslmode=disable"
    }

    static let nested: Value = .m([
        "cores": .int(4), "ratio": .double(0.5), "tags": .list([.string("a"), .null]),
        "password": .string("fp:ref=sha256:00"), "disks": .m(["scsi0": .m(["size": .int(34_359_738_368)])]),
    ])

    @Test func ownsRoundTripsReopensAndRefusesWritesWhenReadOnly() async throws {
        let url = try await Self.database()
        #expect(
            try await PostgresStateStore.openReadOnly(url: url) == nil,
            "an empty database holds no state, and reading creates none"
        )
        let store = try await PostgresStateStore.open(url: url)
        #expect(
            !store.location.contains(ProcessInfo.processInfo.environment["SETPOINT_TEST_PG_PASSWORD"] ?? "\u{0}"),
            "no password in messages"
        )
        let resource = AppliedResource(id: Self.db, providerID: "7712", spec: Self.nested, dependsOn: [Self.api1])
        try await store.recordApplied(resource)
        try await store.recordApplied(AppliedResource(id: Self.api1, providerID: "101", spec: .m(["cores": .int(2)])))
        try await store.recordApplied(AppliedResource(id: Self.api1, providerID: nil, spec: .m(["cores": .int(3)])))
        #expect(try await store.owned(Self.db) == resource, "values round-trip exactly")
        #expect(try await store.owned(Self.api1)?.providerID == nil)
        try await store.forget(Self.api1)
        try await store.forget(Self.api1)
        store.close()

        let again = try await PostgresStateStore.open(url: url)
        #expect(
            try await again.ownedResources() == [Self.db: resource],
            "state survives reopening (migrations run once)"
        )
        again.close()
        let reader = try #require(try await PostgresStateStore.openReadOnly(url: url))
        #expect(reader.isReadOnly)
        let refused = await #expect(throws: SetpointError.self) { try await reader.forget(Self.db) }
        #expect(refused?.code == .stateFailed && refused?.message.contains("read-only") == true)
        #expect(try await reader.ownedResources().count == 1)
    }

    @Test func aDatabaseFromANewerBuildIsRefusedNamingTheVersions() async throws {
        let url = try await Self.database()
        let newer = try await PostgresStateStore.open(url: url, futureMigrationsForTesting: ["v99-from-the-future"])
        newer.close()
        let error = await #expect(throws: SetpointError.self) { try await PostgresStateStore.open(url: url) }
        #expect(
            error?.message.contains(all: ["v99-from-the-future", "v1-owned-resources"]) == true,
            "\(error?.message ?? "")"
        )
        let readError = await #expect(throws: SetpointError.self) {
            _ = try await PostgresStateStore.openReadOnly(url: url)
        }
        #expect(readError?.message.contains("v99-from-the-future") == true)
    }

    @Test func concurrentAppendsFromTwoStoresKeepOneChain() async throws {
        let url = try await Self.database()
        let a = try await PostgresStateStore.open(url: url)
        let b = try await PostgresStateStore.open(url: url)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<40 {
                let store = i.isMultiple(of: 2) ? a : b
                group.addTask {
                    _ = try await store.appendAudit(
                        AuditEntry(
                            time: "2026-11-25T00:00:\(i)Z",
                            actor: "t\(i)",
                            event: .approval,
                            detail: .m(["i": .int(Int64(i))])
                        )
                    )
                }
                group.addTask {
                    try await store.recordApplied(
                        AppliedResource(id: ResourceID(kind: .resourcePool, name: "p\(i)"), spec: .m([:]))
                    )
                }
            }
            try await group.waitForAll()
        }
        let records = try await a.auditRecords(after: 0, limit: 100)
        #expect(records.map(\.seq) == Array(1...40))
        #expect(AuditChain.verify(records) == .intact(records: 40), "one chain, no fork")
        #expect(try await b.ownedResources().count == 40, "no write lost")
        a.close()
        b.close()
    }

    @Test func aLeaderThatLostTheLeaseCannotWriteAnything() async throws {
        let url = try await Self.database()
        let old = try await PostgresStateStore.open(url: url)
        let new = try await PostgresStateStore.open(url: url)
        let soon = "2026-11-25T00:00:10.000Z"
        let later = "2026-11-25T00:01:00.000Z"
        let first = LeaseHolder(id: "leader-1", host: "a", pid: 1, since: "2026-11-25T00:00:00.000Z", expiresAt: soon)
        #expect(try await old.acquireLease(first, now: "2026-11-25T00:00:00.000Z") == nil)
        let epoch = try await old.fence(holder: "leader-1")
        try await old.recordApplied(AppliedResource(id: Self.api1, spec: .m(["cores": .int(1)])))
        try await old.recordJournal(action: actionID("VirtualMachine/api-1:update"), key: "task", value: "UPID:1")

        // leader-1 stops answering; its lease expires; leader-2 takes over with the next epoch.
        let second = LeaseHolder(id: "leader-2", host: "b", pid: 2, since: soon, expiresAt: later)
        #expect(try await new.acquireLease(second, now: "2026-11-25T00:00:11.000Z") == nil)
        let newEpoch = try await new.fence(holder: "leader-2")
        #expect(newEpoch == epoch + 1)
        // leader-2 finds leader-1's action in flight.
        #expect(try await new.openJournals()[actionID("VirtualMachine/api-1:update")]?["task"] == "UPID:1")

        // leader-1 wakes up: every write is refused, naming the stale epoch.
        let refused = await #expect(throws: SetpointError.self) {
            try await old.recordApplied(AppliedResource(id: Self.api1, spec: .m(["cores": .int(9)])))
        }
        #expect(
            refused?.code == .leaseHeld && refused?.message.contains("stale epoch \(epoch)") == true,
            "\(refused?.message ?? "")"
        )
        await #expect(throws: SetpointError.self) {
            _ = try await old.appendAudit(AuditEntry(time: soon, actor: "old", event: .intent, detail: .null))
        }
        await #expect(throws: SetpointError.self) {
            try await old.clearJournal(action: actionID("VirtualMachine/api-1:update"))
        }
        #expect(try await old.renewLease(first) == false)
        #expect(try await new.owned(Self.api1)?.spec == .m(["cores": .int(1)]), "nothing the old leader tried landed")
        // The new leader writes.
        try await new.recordApplied(AppliedResource(id: Self.api1, spec: .m(["cores": .int(2)])))
        #expect(try await new.auditRecords(after: 0, limit: 10).isEmpty)
        let lease = try await new.leaseEpoch()
        #expect(lease.holder == "leader-2" && lease.epoch == newEpoch)
        old.close()
        new.close()
    }

    /// Controllers started together on a fresh database: exactly one takes the lease, and its writes are accepted
    /// (the first-ever acquisitions once both upserted the missing row, leaving two "leaders" at epoch 1).
    @Test func candidatesRacingForAFreshLeaseLetExactlyOneIn() async throws {
        for _ in 0..<5 {
            let url = try await Self.database()
            var stores: [PostgresStateStore] = []
            for _ in 0..<6 { stores.append(try await PostgresStateStore.open(url: url)) }
            let now = "2026-11-25T00:00:00.000Z"
            let results = try await withThrowingTaskGroup(of: (Int, LeaseHolder?).self) { group in
                for (i, store) in stores.enumerated() {
                    group.addTask {
                        let me = LeaseHolder(
                            id: "c\(i)",
                            host: "h",
                            pid: Int32(i),
                            since: now,
                            expiresAt: "2026-11-25T00:00:10.000Z"
                        )
                        return (i, try await store.acquireLease(me, now: now))
                    }
                }
                return try await group.reduce(into: [Int: LeaseHolder?]()) { $0[$1.0] = $1.1 }
            }
            let winners = results.filter { $0.value == nil }.map(\.key)
            #expect(winners.count == 1, "one holder, not \(winners)")
            let winner = try #require(winners.first)
            for (i, holder) in results where i != winner {
                #expect(holder?.id == "c\(winner)", "the others are told who holds it")
            }
            _ = try await stores[winner].appendAudit(
                AuditEntry(time: now, actor: "winner", event: .intent, detail: .null)
            )
            let lease = try await stores[winner].leaseEpoch()
            #expect(lease.holder == "c\(winner)" && lease.epoch == 1)
            for store in stores { store.close() }
        }
    }
}

extension String {
    func contains(all parts: [String]) -> Bool { parts.allSatisfy { contains($0) } }
}
