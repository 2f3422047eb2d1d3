import Foundation
import SetpointCore
import SetpointState
import SetpointTesting
import Testing

/// `latestAuditRecords(limit:)` against every store: the newest records, in seq order, however long the log.
@Suite(.timeLimit(.minutes(2))) struct LatestAuditRecordsTests {
    @Test(arguments: StoreKind.allCases)
    func theNewestRecordsComeInSeqOrder(kind: StoreKind) async throws {
        let folder = try TemporaryFolder()
        let store = try await kind.makeStore(in: folder)
        #expect(try await store.latestAuditRecords(limit: 3).isEmpty)
        for n in 1...7 {
            _ = try await store.appendAudit(
                AuditEntry(time: "2026-12-08T10:00:0\(n).000Z", actor: "a\(n)", event: .approval)
            )
        }
        #expect(try await store.latestAuditRecords(limit: 3).map(\.seq) == [5, 6, 7])
        #expect(try await store.latestAuditRecords(limit: 100).map(\.entry.actor) == (1...7).map { "a\($0)" })
    }
}
