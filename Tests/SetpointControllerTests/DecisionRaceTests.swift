import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SetpointController
import SetpointCore
import SetpointEngine
import SetpointState
import SetpointTesting
import Testing

/// Concurrent approve and reject calls on one pending plan: exactly one decision is made (one 200, the rest 409),
/// it is recorded once in the audit log, and the plan's status is that decision. Before, both could answer 200, the
/// log said "approved, then rejected" and the stored status stayed approved, so the next pass applied a plan the
/// operator had been told was rejected.
@Suite(.timeLimit(.minutes(2))) struct DecisionRaceTests {
    static func request(_ method: HTTPRequest.Method, _ path: String, token: String, body: String) -> Request {
        let head = HTTPRequest(
            method: method,
            scheme: "http",
            authority: "127.0.0.1",
            path: path,
            headerFields: [.authorization: "Bearer \(token)", .contentType: "application/json"]
        )
        return Request(head: head, body: RequestBody(buffer: ByteBuffer(string: body)))
    }

    @Test(arguments: [false, true])
    func concurrentDecisionsMakeExactlyOne(sqlite: Bool) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("setpoint-race-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store: any StateStore =
            sqlite ? try SQLiteStateStore.open(path: folder + "/state.db") : InMemoryStateStore()
        try await store.savePlan(
            .pendingFixture("p-race")
        )

        var lines: [String] = []
        var tokens: [String] = []
        for i in 0..<8 {
            let (token, line) = Tokens.create(role: .approver, email: "op\(i)@example.net")
            tokens.append(token)
            lines.append(line + " unlimited")
        }
        let reconciler = Reconciler(
            Reconciler.Configuration(
                paths: [folder],
                providers: [],
                secrets: EnvironmentSecretResolver(environment: [:])
            ),
            store: store
        )
        let api = ControllerAPI(
            store: store,
            status: ControllerStatus(),
            reconciler: reconciler,
            tokens: TokenStore(try Tokens(lines: lines.joined(separator: "\n"))),
            fourEyes: false
        )

        let replies = await withTaskGroup(of: (approve: Bool, status: Int).self) { group in
            for i in 0..<40 {
                let approve = i % 2 == 0
                let path = "/api/v1/plans/p-race/" + (approve ? "approve" : "reject")
                let request = Self.request(
                    .post,
                    path,
                    token: tokens[i % tokens.count],
                    body: "{\"reason\": \"call \(i)\"}"
                )
                group.addTask { (approve, await api.respond(request).status.code) }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let winners = replies.filter { $0.status == 200 }
        #expect(winners.count == 1, "\(replies.map { $0.status })")
        #expect(replies.filter { $0.status == 409 }.count == 39)
        let decided = try #require(winners.first)
        let records = try await store.auditRecords(after: 0, limit: 1000).filter { $0.entry.planID == "p-race" }
        #expect(records.count == 1, "one decision record: \(records.map(\.entry.event.rawValue))")
        #expect(records.first?.entry.event.rawValue == (decided.approve ? "approval" : "rejection"))
        #expect(try await store.storedPlan(id: "p-race")?.status == (decided.approve ? .approved : .rejected))
        let all = try await store.auditRecords(after: 0, limit: 1000)
        #expect(AuditChain.verify(all) == .intact(records: all.count))
    }
}
