import Foundation
import GRDB
import SetpointCore
import SetpointTesting
import Testing

@testable import SetpointState

/// Moving a state between stores (`setpoint state migrate`): everything arrives and reads back equal, the audit chain
/// exactly (hashes and all), between every pair of stores and back; a held lease, a destination with a state, and a
/// broken chain are refused with the source untouched. And every earlier schema: a database left by each migration
/// step (Fixtures/state-*.db) opens, upgrades with its data, and moves.
@Suite(.timeLimit(.minutes(3))) struct StateMigrationTests {
    static let web = ResourceID(kind: ResourceKind("VirtualMachine"), name: "web-1")
    static let db = ResourceID(kind: ResourceKind("PostgresCluster"), name: "main")

    /// Writes one of everything a state holds.
    static func fill(_ store: any StateStore) async throws {
        try await store.recordApplied(
            AppliedResource(id: web, providerID: "101", spec: .map(["cores": .int(2), "memory": .string("2Gi")]))
        )
        try await store.recordApplied(
            AppliedResource(id: db, spec: .map(["version": .int(15), "ratio": .double(0.5)]), dependsOn: [web])
        )
        for n in 1...5 {
            _ = try await store.appendAudit(
                AuditEntry(
                    time: "2026-12-08T10:00:0\(n).000Z",
                    actor: "alice@example.net",
                    event: n == 1 ? .plan : .outcome,
                    planID: "p-00000000000\(n)",
                    actionID: ActionID(web, .update),
                    resource: web,
                    result: "succeeded",
                    detail: .map(["n": .int(Int64(n))])
                ),
                checkingChain: true
            )
        }
        try await store.recordJournal(action: ActionID(db, .create), key: "task", value: "UPID:pve1:0001")
        for (id, status) in [("p-aaaaaaaaaaaa", StoredPlan.Status.applied), ("p-bbbbbbbbbbbb", .pending)] {
            try await store.savePlan(
                StoredPlan(
                    id: id,
                    status: status,
                    plan: nil,
                    json: "{\"id\":\"\(id)\"}",
                    text: "plan \(id)\n",
                    createdAt: "2026-12-08T10:00:00Z"
                )
            )
        }
        try await store.recordBackupRun(
            BackupRun(
                id: "r-1",
                policy: "main-backups",
                kind: .full,
                startedAt: "2026-12-08T01:00:00Z",
                finishedAt: "2026-12-08T01:05:00Z",
                seconds: 300,
                outcome: .succeeded,
                trigger: "schedule"
            )
        )
        try await store.recordTrustedHostKey(
            TrustedHostKey(
                host: "pg-1",
                endpoint: "10.0.0.1:22",
                key: "ssh-ed25519 AAAAone",
                trustedAt: "2026-12-08T09:00:00.000Z"
            )
        )
        try await store.replaceConditions([
            ResourceCondition(
                resource: web,
                type: .ready,
                status: .isTrue,
                reason: "Converged",
                message: "matches",
                lastTransitionTime: "2026-12-08T10:00:00.000Z"
            )
        ])
    }

    static func holder(_ id: String = "migrate") -> LeaseHolder {
        LeaseHolder(
            id: id,
            host: "ops-1",
            pid: 1,
            since: "2026-12-08T10:00:00.000Z",
            expiresAt: "2026-12-08T11:00:00.000Z"
        )
    }

    static func everything(_ store: any StateStore) async throws -> String {
        let audit = try await store.auditRecords(after: 0, limit: 1000)
        return """
            \(try await store.ownedResources().sorted { $0.key < $1.key }.map { "\($0.value)" })
            \(audit.map { "\($0.seq) \($0.previousHash) \($0.hash)" })
            \(try await store.openJournals())
            \(try await store.storedPlans(status: nil).sorted { $0.id < $1.id })
            \(try await store.backupRuns(policy: nil, limit: 100).map(\.id))
            \(try await store.allTrustedHostKeys())
            \(try await store.conditions(of: nil))
            """
    }

    static func destination(
        _ kind: StoreKind,
        _ folder: TemporaryFolder,
        _ name: String
    ) async throws
        -> any StateStore & AuditImport
    {
        switch kind {
        case .inMemory: InMemoryStateStore()
        case .sqlite: try SQLiteStateStore.open(path: folder.url.path + "/\(name).db")
        case .postgres: try await PostgresStateStore.open(url: try await PostgresStateStoreTests.database())
        }
    }

    @Test(arguments: StoreKind.allCases.filter { $0 != .inMemory })
    func aStateMovesThereAndBackWithEverythingAndTheSameChain(to kind: StoreKind) async throws {
        let folder = try TemporaryFolder()
        let source = try SQLiteStateStore.open(path: folder.url.path + "/source.db")
        try await Self.fill(source)
        let before = try await Self.everything(source)
        let there = try await Self.destination(kind, folder, "there")
        let report = try await StateMigration(
            source: source,
            destination: there,
            sourceName: "source",
            destinationName: "there",
            holder: Self.holder(),
            now: "2026-12-08T10:30:00.000Z"
        ).run()
        #expect(report.owned == 2 && report.auditRecords == 5 && report.journals == 1 && report.plans == 2)
        #expect(report.backupRuns == 1 && report.hostKeys == 1 && report.conditions == 1)
        #expect(try await Self.everything(there) == before)
        #expect(AuditChain.verify(try await there.auditRecords(after: 0, limit: 100)) == .intact(records: 5))
        // And back, into a new file: the same again; both leases were given up.
        let back = try SQLiteStateStore.open(path: folder.url.path + "/back.db")
        _ = try await StateMigration(
            source: there,
            destination: back,
            sourceName: "there",
            destinationName: "back",
            holder: Self.holder("back"),
            now: "2026-12-08T10:31:00.000Z"
        ).run()
        #expect(try await Self.everything(back) == before)
        #expect(try await source.acquireLease(Self.holder("controller"), now: "2026-12-08T10:32:00.000Z") == nil)
        // The moved store takes appends after the copied head, chained.
        _ = try await back.appendAudit(
            AuditEntry(time: "2026-12-08T10:40:00.000Z", actor: "bob", event: .approval),
            checkingChain: true
        )
        #expect(AuditChain.verify(try await back.auditRecords(after: 0, limit: 100)) == .intact(records: 6))
    }

    @Test func aHeldLeaseADestinationWithAStateAndABrokenChainAreRefused() async throws {
        let folder = try TemporaryFolder()
        let source = try SQLiteStateStore.open(path: folder.url.path + "/source.db")
        try await Self.fill(source)
        func move(to destination: any StateStore & AuditImport) async throws {
            _ = try await StateMigration(
                source: source,
                destination: destination,
                sourceName: "source.db",
                destinationName: "dest",
                holder: Self.holder(),
                now: "2026-12-08T10:30:00.000Z"
            ).run()
        }
        // A controller holds the source's lease.
        #expect(try await source.acquireLease(Self.holder("controller"), now: "2026-12-08T10:00:00.000Z") == nil)
        let empty = InMemoryStateStore()
        await #expect {
            try await move(to: empty)
        } throws: {
            "\($0)".contains("the state source.db is in use: pid 1 on ops-1")
                && "\($0)".contains("stop every controller")
        }
        #expect(try await empty.ownedResources().isEmpty)
        try await source.releaseLease(id: "controller")

        // The destination holds a state already.
        let used = InMemoryStateStore()
        try await used.recordApplied(AppliedResource(id: Self.web, spec: .map([:])))
        await #expect {
            try await move(to: used)
        } throws: { "\($0)".contains("dest already holds a Setpoint state") }

        // An edited audit record: nothing moves.
        try await source.executeForTesting("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3")
        let fresh = InMemoryStateStore()
        await #expect {
            try await move(to: fresh)
        } throws: { "\($0)".contains("does not verify at record 3") }
        #expect(try await fresh.auditRecords(after: 0, limit: 10).isEmpty)
        #expect(
            try await source.acquireLease(Self.holder("controller"), now: "2026-12-08T10:33:00.000Z") == nil,
            "the lease was given up"
        )
    }

    // MARK: - every earlier schema

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// The migration steps, oldest first, each with its fixture: a database as that step left it, holding what its
    /// schema could hold of `fill`.
    static var steps: [String] { SQLiteStateStore.migrator().migrations }

    @Test(arguments: SQLiteStateStore.migrator().migrations)
    func aDatabaseLeftByEachMigrationStepUpgradesWithItsDataAndMoves(step: String) async throws {
        let fixture = Self.fixtures.appendingPathComponent("state-\(step).db").path
        #expect(
            FileManager.default.fileExists(atPath: fixture),
            "run SETPOINT_WRITE_STATE_FIXTURES=1 swift test --filter StateMigrationTests to make it"
        )
        let folder = try TemporaryFolder()
        let path = folder.url.path + "/state.db"
        try FileManager.default.copyItem(atPath: fixture, toPath: path)
        let store = try SQLiteStateStore.open(path: path)
        let index = Self.steps.firstIndex(of: step)!
        func has(_ migration: String) -> Bool { index >= Self.steps.firstIndex(of: migration)! }
        #expect(try await store.ownedResources().count == 2)
        #expect(try await store.owned(Self.db)?.dependsOn == [Self.web])
        let audit = try await store.auditRecords(after: 0, limit: 100)
        #expect(AuditChain.verify(audit) == .intact(records: has("v2-audit-log-and-lease") ? 5 : 0))
        #expect(try await store.openJournals().count == (has("v3-action-journals") ? 1 : 0))
        #expect(try await store.storedPlans(status: .pending).map(\.id) == (has("v4-plans") ? ["p-bbbbbbbbbbbb"] : []))
        #expect(try await store.backupRuns(policy: nil, limit: 10).count == (has("v5-backup-runs") ? 1 : 0))
        #expect(try await store.allTrustedHostKeys().count == (has("v8-host-keys") ? 1 : 0))
        #expect(try await store.conditions(of: nil).count == (has("v9-conditions") ? 1 : 0))
        // Upgraded, it takes the newest writes, and moves.
        try await store.replaceConditions([])
        let moved = InMemoryStateStore()
        let report = try await StateMigration(
            source: store,
            destination: moved,
            sourceName: "fixture",
            destinationName: "memory",
            holder: Self.holder(),
            now: "2026-12-08T10:30:00.000Z"
        ).run()
        #expect(report.owned == 2)
    }

    /// Makes the fixtures (SETPOINT_WRITE_STATE_FIXTURES=1): a state filled with today's code, then for each migration
    /// step a database migrated only that far, holding every column of it the full state has.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["SETPOINT_WRITE_STATE_FIXTURES"] == "1"))
    func writeFixtures() async throws {
        let folder = try TemporaryFolder()
        let full = folder.url.path + "/full.db"
        let store = try SQLiteStateStore.open(path: full)
        try await Self.fill(store)
        try store.close()
        try FileManager.default.createDirectory(at: Self.fixtures, withIntermediateDirectories: true)
        for step in Self.steps {
            let path = Self.fixtures.appendingPathComponent("state-\(step).db").path
            try? FileManager.default.removeItem(atPath: path)
            let queue = try DatabaseQueue(path: path)
            try SQLiteStateStore.migrator().migrate(queue, upTo: step)
            try await queue.writeWithoutTransaction { db in
                try db.execute(sql: "ATTACH DATABASE ? AS full", arguments: [full])
                let tables = try String.fetchAll(
                    db,
                    sql:
                        "SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'grdb%' AND name NOT LIKE 'sqlite%' AND name != 'apply_lease'"
                )
                for table in tables {
                    let columns = try Row.fetchAll(db, sql: "PRAGMA main.table_info(\(table))").map {
                        $0["name"] as String
                    }
                    let list = columns.map { "\"\($0)\"" }.joined(separator: ", ")
                    try db.execute(sql: "INSERT INTO main.\(table) (\(list)) SELECT \(list) FROM full.\(table)")
                }
                try db.execute(sql: "DETACH DATABASE full")
                try db.execute(sql: "VACUUM")
            }
            try queue.close()
        }
    }
}
