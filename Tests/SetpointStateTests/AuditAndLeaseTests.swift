import Foundation
import SetpointCore
import SetpointState
import SetpointTesting
import Testing

/// The audit log and the apply lease, for every store (the same conformance suite).
@Suite(.timeLimit(.minutes(2))) struct AuditAndLeaseTests {
    static func entry(_ n: Int, _ event: AuditEvent = .intent) -> AuditEntry {
        AuditEntry(
            time: "2026-11-25T12:00:\(String(format: "%02d", n % 60)).000Z",
            actor: "ops@example.net",
            event: event,
            planID: "abc",
            actionID: actionID("VirtualMachine/api-\(n):create"),
            resource: ResourceID(kind: .virtualMachine, name: "api-\(n)"),
            detail: .map(["n": .int(Int64(n)), "note": .string("line\nbreak \"quoted\"")])
        )
    }

    @Test(arguments: StoreKind.allCases)
    func appendsAreNumberedChainedAndReadBackExactly(kind: StoreKind) async throws {
        let folder = try TemporaryFolder()
        let store = try await kind.makeStore(in: folder)
        var written: [AuditRecord] = []
        for n in 1...5 { written.append(try await store.appendAudit(Self.entry(n))) }
        #expect(written.map(\.seq) == [1, 2, 3, 4, 5])
        #expect(written[0].previousHash == "")
        #expect(written[1].previousHash == written[0].hash)
        let read = try await store.auditRecords(after: 0, limit: 100)
        #expect(read == written)
        #expect(try await store.auditRecords(after: 3, limit: 100).map(\.seq) == [4, 5])
        #expect(try await store.auditRecords(after: 0, limit: 2).map(\.seq) == [1, 2])
        #expect(AuditChain.verify(read) == .intact(records: 5))
    }

    @Test(arguments: StoreKind.allCases)
    func concurrentAppendsNeverForkTheChain(kind: StoreKind) async throws {
        let folder = try TemporaryFolder()
        let store = try await kind.makeStore(in: folder)
        await withTaskGroup(of: Void.self) { group in
            for n in 1...40 { group.addTask { _ = try? await store.appendAudit(Self.entry(n)) } }
        }
        let read = try await store.auditRecords(after: 0, limit: 1000)
        #expect(read.count == 40)
        #expect(AuditChain.verify(read) == .intact(records: 40))
    }

    @Test func concurrentAppendsFromTwoConnectionsNeverForkTheChain() async throws {
        let folder = try TemporaryFolder()
        let a = try SQLiteStateStore.open(path: folder.statePath)
        let b = try SQLiteStateStore.open(path: folder.statePath)
        await withTaskGroup(of: Void.self) { group in
            for n in 1...30 { group.addTask { _ = try? await (n % 2 == 0 ? a : b).appendAudit(Self.entry(n)) } }
        }
        let read = try await a.auditRecords(after: 0, limit: 1000)
        #expect(read.count == 30)
        #expect(AuditChain.verify(read) == .intact(records: 30))
    }

    /// Tampering with the SQLite file directly: each kind of edit is found and the record named.
    @Test(arguments: [
        ("UPDATE audit_log SET detail = '{\"n\":99}' WHERE seq = 3", Int64(3), "record 3 was edited"),
        ("DELETE FROM audit_log WHERE seq = 4", Int64(5), "record 4 was removed"),
        (
            "UPDATE audit_log SET seq = seq + 100 WHERE seq IN (2, 3); UPDATE audit_log SET seq = 3 WHERE seq = 102; UPDATE audit_log SET seq = 2 WHERE seq = 103",
            Int64(2), "record 2 does not follow record 1"
        ),
        ("DELETE FROM audit_log WHERE seq = 6", Int64(0), ""),
    ])
    func tamperingIsDetectedAndNamed(_ sql: String, _ seq: Int64, _ problem: String) async throws {
        let folder = try TemporaryFolder()
        let store = try SQLiteStateStore.open(path: folder.statePath)
        for n in 1...6 { _ = try await store.appendAudit(Self.entry(n)) }
        try await store.executeForTesting(sql)
        let verdict = AuditChain.verify(try await store.auditRecords(after: 0, limit: 100))
        if problem.isEmpty {
            // Removing the newest record cannot be seen from the chain alone; the count says it.
            #expect(verdict == .intact(records: 5))
        } else {
            guard case .broken(let at, let message) = verdict else {
                Issue.record("not detected: \(sql)")
                return
            }
            #expect(at == seq)
            #expect(message.contains(problem), "\(message)")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func oneLeaseHolderAtATime(kind: StoreKind) async throws {
        let folder = try TemporaryFolder()
        let store = try await kind.makeStore(in: folder)
        let a = LeaseHolder(
            id: "a",
            host: "h1",
            pid: 1,
            since: "2026-11-25T12:00:00.000Z",
            expiresAt: "2026-11-25T12:01:00.000Z"
        )
        let b = LeaseHolder(
            id: "b",
            host: "h2",
            pid: 2,
            since: "2026-11-25T12:00:30.000Z",
            expiresAt: "2026-11-25T12:05:00.000Z"
        )
        #expect(try await store.acquireLease(a, now: "2026-11-25T12:00:00.000Z") == nil, "free: taken")
        #expect(try await store.acquireLease(b, now: "2026-11-25T12:00:30.000Z") == a, "held: the holder is named")
        var renewed = a
        renewed.expiresAt = "2026-11-25T12:02:00.000Z"
        #expect(try await store.renewLease(renewed))
        #expect(try await store.acquireLease(b, now: "2026-11-25T12:01:30.000Z") == renewed, "renewed: still held")
        #expect(try await store.acquireLease(b, now: "2026-11-25T12:02:00.001Z") == nil, "expired: taken over")
        #expect(try await !store.renewLease(renewed), "the old holder lost it")
        try await store.releaseLease(id: "a")  // not the holder: nothing happens
        #expect(try await store.acquireLease(a, now: "2026-11-25T12:02:01.000Z") == b)
        try await store.releaseLease(id: "b")
        #expect(try await store.acquireLease(a, now: "2026-11-25T12:02:02.000Z") == nil)
    }
    /// A SQLite apply paused past its lease wakes to find another holder: its writes are refused (fenced on the
    /// lease's epoch, as in PostgreSQL), so its outcome records and state writes never land.
    @Test func sqliteWritesAreFencedOnTheLeaseEpoch() async throws {
        let folder = try TemporaryFolder()
        let paused = try SQLiteStateStore.open(path: folder.statePath)
        let other = try SQLiteStateStore.open(path: folder.statePath)
        let a = LeaseHolder(
            id: "a",
            host: "h",
            pid: 1,
            since: "2026-12-07T10:00:00Z",
            expiresAt: "2026-12-07T10:00:10Z"
        )
        #expect(try await paused.acquireLease(a, now: "2026-12-07T10:00:00Z") == nil)
        _ = try await paused.appendAudit(AuditEntry(time: "2026-12-07T10:00:01Z", actor: "a", event: .plan))
        // a's lease expires while it is stopped; b takes it over.
        let b = LeaseHolder(
            id: "b",
            host: "h",
            pid: 2,
            since: "2026-12-07T10:01:00Z",
            expiresAt: "2026-12-07T10:01:10Z"
        )
        #expect(try await other.acquireLease(b, now: "2026-12-07T10:01:00Z") == nil)
        let resource = AppliedResource(
            id: ResourceID(kind: .virtualMachine, name: "late"),
            providerID: "1",
            spec: .map([:])
        )
        for write in [
            { try await paused.recordApplied(resource) },
            { _ = try await paused.appendAudit(AuditEntry(time: "t", actor: "a", event: .outcome)) },
            { try await paused.clearJournal(action: actionID("VirtualMachine/x:update")) },
        ] {
            do {
                try await write()
                Issue.record("a write of the paused holder landed")
            } catch let error as SetpointError {
                #expect(
                    error.description.contains("stale epoch 1") && error.description.contains("held by b at epoch 2"),
                    "\(error)"
                )
            }
        }
        #expect(try await other.owned(resource.id) == nil)
        #expect(try await other.auditRecords(after: 0, limit: 10).count == 1)
        _ = try await other.appendAudit(AuditEntry(time: "2026-12-07T10:01:01Z", actor: "b", event: .plan))
        // Released, and taken again by a: a new epoch, and a's writes land once more.
        try await other.releaseLease(id: "b")
        #expect(try await paused.acquireLease(a, now: "2026-12-07T10:02:00Z") == nil)
        try await paused.recordApplied(resource)
    }
}

@Suite(.timeLimit(.minutes(2))) struct JournalAndPlanStoreTests {
    @Test(arguments: StoreKind.allCases)
    func journalsAreKeptPerActionUntilCleared(kind: StoreKind) async throws {
        let folder = try TemporaryFolder()
        let store = try await kind.makeStore(in: folder)
        try await store.recordJournal(action: actionID("VirtualMachine/a:create"), key: "providerID", value: "101")
        try await store.recordJournal(action: actionID("VirtualMachine/a:create"), key: "task", value: "UPID:pve1:1")
        try await store.recordJournal(action: actionID("VirtualMachine/a:create"), key: "providerID", value: "102")
        try await store.recordJournal(action: actionID("VirtualMachine/b:create"), key: "providerID", value: "103")
        #expect(
            try await store.journalEntries(action: actionID("VirtualMachine/a:create")) == [
                "providerID": "102", "task": "UPID:pve1:1",
            ]
        )
        #expect(
            try await store.openJournals().keys.sorted().map(\.description) == [
                "VirtualMachine/a:create", "VirtualMachine/b:create",
            ]
        )
        try await store.clearJournal(action: actionID("VirtualMachine/a:create"))
        #expect(try await store.journalEntries(action: actionID("VirtualMachine/a:create")).isEmpty)
        #expect(try await store.openJournals() == [actionID("VirtualMachine/b:create"): ["providerID": "103"]])
    }

    @Test(arguments: StoreKind.durable)
    func journalsSurviveReopening(kind: StoreKind) async throws {
        let folder = try TemporaryFolder()
        let first = try SQLiteStateStore.open(path: folder.statePath)
        try await first.recordJournal(action: actionID("VirtualMachine/a:create"), key: "providerID", value: "101")
        try first.close()
        let second = try #require(try SQLiteStateStore.openReadOnly(path: folder.statePath))
        #expect(try await second.openJournals() == [actionID("VirtualMachine/a:create"): ["providerID": "101"]])
    }

    @Test(arguments: StoreKind.allCases)
    func aStoredPlanKeepsThePlanItselfBesideItsViews(kind: StoreKind) async throws {
        let folder = try TemporaryFolder()
        let store = try await kind.makeStore(in: folder)
        let web = ResourceID(kind: .virtualMachine, name: "web")
        let update = Action(
            resource: web,
            verb: .update,
            changes: [
                FieldChange(
                    path: ["memory"],
                    before: .int(1 << 30),
                    after: .int(2 << 30),
                    origin: .manifest,
                    impact: .restart
                )
            ],
            impact: .restart,
            desired: .map(["memory": .int(2 << 30), "password": .secret(.env("WEB_PASSWORD"))])
        )
        let restart = Action(resource: web, verb: .restart, dependsOn: [update.id], requiresApproval: true)
        let plan = Plan(
            id: "p-model",
            createdAt: "2026-12-07T12:00:00Z",
            source: Plan.Source(
                paths: ["m/"],
                gitCommit: "abc",
                gitAuthor: "ann@example.net",
                manifestDigest: "sha256:d"
            ),
            actions: [update, restart],
            fingerprints: [web: "fp"]
        )
        try await store.savePlan(
            StoredPlan(
                id: plan.id,
                status: .pending,
                plan: plan,
                json: "{}",
                text: "Plan p-model\n",
                createdAt: plan.createdAt
            )
        )
        let stored = try #require(try await store.storedPlan(id: "p-model"))
        #expect(stored.plan == plan, "the typed plan comes back as it was saved")
        #expect(stored.plan?.source.gitAuthor == "ann@example.net" && stored.plan?.actions[1].dependsOn == [update.id])
        #expect(stored.json == "{}" && stored.text == "Plan p-model\n", "its views are kept as they were rendered")
    }

    @Test(arguments: StoreKind.allCases)
    func plansKeepTheirStatus(kind: StoreKind) async throws {
        let folder = try TemporaryFolder()
        let store = try await kind.makeStore(in: folder)
        let a = StoredPlan(
            id: "aaa",
            status: .pending,
            plan: nil,
            json: "{\"formatVersion\":1}",
            text: "Plan aaa\n",
            createdAt: "2026-11-25T12:00:00Z"
        )
        let b = StoredPlan(
            id: "bbb",
            status: .applied,
            plan: nil,
            json: "{}",
            text: "Plan bbb\n",
            createdAt: "2026-11-25T13:00:00Z"
        )
        try await store.savePlan(a)
        try await store.savePlan(b)
        #expect(try await store.storedPlan(id: "aaa") == a)
        #expect(try await store.storedPlans(status: nil).map(\.id) == ["bbb", "aaa"], "newest first")
        #expect(try await store.storedPlans(status: .pending).map(\.id) == ["aaa"])
        let approval = AuditEntry(
            time: "2026-11-25T14:00:00Z",
            actor: "bob@example.net",
            event: .approval,
            planID: "aaa"
        )
        guard
            case .changed(let record?) = try await store.transitionPlan(
                id: "aaa",
                from: [.pending],
                to: .approved,
                audit: approval
            )
        else {
            Issue.record("a pending plan is approved, with its record")
            return
        }
        #expect(record.entry == approval)
        // Only from the statuses given: the plan is approved now, so a rejection changes nothing and records nothing.
        let rejection = AuditEntry(
            time: "2026-11-25T14:00:01Z",
            actor: "eve@example.net",
            event: .rejection,
            planID: "aaa"
        )
        #expect(
            try await store.transitionPlan(id: "aaa", from: [.pending], to: .rejected, audit: rejection)
                == .conflict(.approved)
        )
        #expect(try await store.transitionPlan(id: "zzz", from: [.pending], to: .approved, audit: nil) == .notFound)
        #expect(try await store.storedPlan(id: "aaa")?.status == .approved)
        #expect(try await store.storedPlan(id: "zzz") == nil)
        #expect(try await store.auditRecords(after: 0, limit: 10).map(\.entry) == [approval])
    }

    /// Many tasks decide one pending plan at once (on SQLite through two connections, as two processes would): one
    /// decision is made and recorded, every other caller learns what it was.
    @Test(arguments: StoreKind.allCases)
    func decisionsAreOneCompareAndSet(kind: StoreKind) async throws {
        let folder = try TemporaryFolder()
        let store = try await kind.makeStore(in: folder)
        let other = try kind.reopen(in: folder, readOnly: false) ?? store
        try await store.savePlan(
            StoredPlan(id: "race", status: .pending, plan: nil, json: "{}", text: "", createdAt: "2026-11-25T12:00:00Z")
        )
        let outcomes = try await withThrowingTaskGroup(of: (StoredPlan.Status, PlanTransition).self) { group in
            for i in 0..<24 {
                let to: StoredPlan.Status = i % 2 == 0 ? .approved : .rejected
                let entry = AuditEntry(
                    time: "2026-11-25T14:00:00Z",
                    actor: "op\(i)@example.net",
                    event: to == .approved ? .approval : .rejection,
                    planID: "race"
                )
                let target = i % 3 == 0 ? other : store
                group.addTask {
                    (to, try await target.transitionPlan(id: "race", from: [.pending], to: to, audit: entry))
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let made = outcomes.filter { if case .changed = $0.1 { true } else { false } }
        #expect(made.count == 1, "\(outcomes)")
        let winner = try #require(made.first?.0)
        #expect(
            outcomes.filter { $0.1 == .conflict(winner) }.count == outcomes.count - 1,
            "every other caller learns the decision"
        )
        #expect(try await store.storedPlan(id: "race")?.status == winner)
        let records = try await store.auditRecords(after: 0, limit: 100)
        #expect(
            records.count == 1
                && records.first?.entry.event == (winner == .approved ? .approval : .rejection)
        )
    }
}
