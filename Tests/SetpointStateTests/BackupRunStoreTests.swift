import Foundation
import SetpointCore
import SetpointState
import SetpointTesting
import Testing

/// The `BackupRunStore` half of the state contract, against every store.
@Suite(.timeLimit(.minutes(2))) struct BackupRunStoreTests {
    static func run(
        _ policy: String,
        _ kind: BackupRun.Kind,
        at started: String,
        outcome: BackupRun.Outcome = .succeeded,
        message: String? = nil
    ) -> BackupRun {
        BackupRun(
            id: "\(policy):\(kind.rawValue):\(started)",
            policy: policy,
            kind: kind,
            startedAt: started,
            finishedAt: started,
            seconds: 12.5,
            outcome: outcome,
            label: kind == .drill ? nil : "20261205-101010F",
            sizeBytes: 1_073_741_824,
            repositoryBytes: 52_428_800,
            message: message,
            trigger: "cli ops@host"
        )
    }

    @Test(arguments: StoreKind.allCases)
    func runsComeBackNewestFirstPerPolicy(kind: StoreKind) async throws {
        let folder = try TemporaryFolder()
        let store = try await kind.makeStore(in: folder)
        #expect(try await store.backupRuns(policy: nil, limit: 10).isEmpty)
        let a1 = Self.run("nightly", .full, at: "2026-12-05T01:00:00Z")
        let a2 = Self.run("nightly", .incr, at: "2026-12-05T02:00:00Z")
        let a3 = Self.run(
            "nightly",
            .drill,
            at: "2026-12-05T03:00:00Z",
            outcome: .failed,
            message: "check rows: expected 1, got 0"
        )
        let b1 = Self.run("other", .full, at: "2026-12-05T02:30:00Z")
        for run in [a2, b1, a1, a3] { try await store.recordBackupRun(run) }

        #expect(try await store.backupRuns(policy: "nightly", limit: 10) == [a3, a2, a1])
        #expect(try await store.backupRuns(policy: "nightly", limit: 2) == [a3, a2])
        #expect(try await store.backupRuns(policy: nil, limit: 10) == [a3, b1, a2, a1])
        #expect(try await store.backupRuns(policy: "missing", limit: 10).isEmpty)
    }

    @Test(arguments: StoreKind.allCases)
    func sameIDReplaces(kind: StoreKind) async throws {
        let folder = try TemporaryFolder()
        let store = try await kind.makeStore(in: folder)
        var run = Self.run("nightly", .full, at: "2026-12-05T01:00:00Z", outcome: .failed, message: "ERROR: [082]")
        try await store.recordBackupRun(run)
        run.outcome = .succeeded
        run.message = nil
        try await store.recordBackupRun(run)
        #expect(try await store.backupRuns(policy: "nightly", limit: 10) == [run])
    }

    @Test(arguments: StoreKind.durable)
    func runsSurviveReopening(kind: StoreKind) async throws {
        let folder = try TemporaryFolder()
        let run = Self.run("nightly", .full, at: "2026-12-05T01:00:00Z")
        do {
            let store = try await kind.makeStore(in: folder)
            try await store.recordBackupRun(run)
        }
        let reopened = try #require(try kind.reopen(in: folder, readOnly: true))
        #expect(try await reopened.backupRuns(policy: nil, limit: 5) == [run])
    }
}
