import Foundation
import SetpointCore
import SetpointState
import SetpointTesting
import Testing

/// The `ConditionStore` half of the state contract, against every store: conditions replace the ones before (a
/// resource no longer declared loses its own), read back per resource or all, sorted; a read-only store refuses to
/// write them. And the merge that keeps a transition time while the status stays.
@Suite(.timeLimit(.minutes(2))) struct ConditionStoreTests {
    static func condition(
        _ resource: String,
        _ type: ResourceCondition.Kind,
        _ status: ResourceCondition.Status,
        _ reason: String,
        at: String = "2026-12-08T10:00:00.000Z"
    ) -> ResourceCondition {
        ResourceCondition(
            resource: ResourceID(parsing: resource)!,
            type: type,
            status: status,
            reason: reason,
            message: "\(reason) of \(resource)",
            lastTransitionTime: at
        )
    }

    @Test(arguments: StoreKind.allCases)
    func conditionsReplaceTheOnesBeforeAndReadBackPerResource(kind: StoreKind) async throws {
        let folder = try TemporaryFolder()
        let store = try await kind.makeStore(in: folder)
        #expect(try await store.conditions(of: nil).isEmpty)
        let webReady = Self.condition("VirtualMachine/web-1", .ready, .isTrue, "Converged")
        let webSynced = Self.condition("VirtualMachine/web-1", .synced, .isTrue, "NothingToDo")
        let dbReady = Self.condition("PostgresCluster/main", .ready, .isFalse, "ApplyFailed")
        try await store.replaceConditions([webSynced, dbReady, webReady])
        #expect(try await store.conditions(of: nil) == [dbReady, webReady, webSynced])
        #expect(try await store.conditions(of: ResourceID(parsing: "VirtualMachine/web-1")!) == [webReady, webSynced])
        // The next pass declares only the VM, now waiting.
        let waiting = Self.condition(
            "VirtualMachine/web-1",
            .ready,
            .isFalse,
            "WaitingForApproval",
            at: "2026-12-08T11:00:00.000Z"
        )
        try await store.replaceConditions([waiting])
        #expect(try await store.conditions(of: nil) == [waiting])
    }

    @Test(arguments: StoreKind.durable)
    func aReadOnlyStoreReadsConditionsAndRefusesToWriteThem(kind: StoreKind) async throws {
        let folder = try TemporaryFolder()
        let ready = Self.condition("VirtualMachine/web-1", .ready, .isTrue, "Converged")
        do {
            let store = try await kind.makeStore(in: folder)
            try await store.replaceConditions([ready])
        }
        let reopened = try #require(try kind.reopen(in: folder, readOnly: true))
        #expect(try await reopened.conditions(of: nil) == [ready])
        await #expect(throws: SetpointError.self) { try await reopened.replaceConditions([]) }
    }

    @Test func aTransitionTimeStaysWhileTheStatusStays() {
        let before = [
            Self.condition("VirtualMachine/web-1", .ready, .isFalse, "WaitingForApproval", at: "T1"),
            Self.condition("VirtualMachine/web-1", .synced, .isTrue, "NothingToDo", at: "T1"),
        ]
        let now = [
            Self.condition("VirtualMachine/web-1", .ready, .isFalse, "WaitingForApproval", at: "T2"),
            Self.condition("VirtualMachine/web-1", .synced, .isFalse, "WaitingForApproval", at: "T2"),
            Self.condition("VirtualMachine/web-2", .ready, .isTrue, "Converged", at: "T2"),
        ]
        let merged = ResourceCondition.merge(previous: before, new: now)
        #expect(merged.map(\.lastTransitionTime) == ["T1", "T2", "T2"])
    }
}
