import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SetpointCore
import SetpointEngine
import SetpointState
import SetpointTesting
import Testing

@testable import SetpointController

/// `/api/v1/resources` pages are encoded once per status generation: the same request between passes is answered
/// from the cache, and a new pass or a decision on a plan makes every page be computed again.
@Suite(.timeLimit(.minutes(1))) struct ResourcePageCacheTests {
    static let a = ResourceID(kind: .virtualMachine, name: "a")
    static let b = ResourceID(kind: .virtualMachine, name: "b")

    @Test func aPageIsKeptUntilANewPassOrADecision() async throws {
        let store = InMemoryStateStore()
        try await store.savePlan(
            .pendingFixture("p-1")
        )
        let (token, line) = Tokens.create(role: .approver, email: "ops@example.net")
        let reconciler = Reconciler(
            Reconciler.Configuration(paths: [], providers: [], secrets: EnvironmentSecretResolver(environment: [:])),
            store: store
        )
        let status = ControllerStatus()
        let api = ControllerAPI(
            store: store,
            status: status,
            reconciler: reconciler,
            tokens: TokenStore(try Tokens(lines: line + " unlimited")),
            fourEyes: false
        )
        func get(_ path: String) async throws -> String {
            let head = HTTPRequest(
                method: .get,
                scheme: "http",
                authority: "127.0.0.1",
                path: path,
                headerFields: [.authorization: "Bearer \(token)"]
            )
            let response = await api.respond(Request(head: head, body: RequestBody(buffer: ByteBuffer())))
            return String(decoding: try await APIResponseMiddleware.collect(response.body), as: UTF8.self)
        }
        let now = Timestamp.parse("2026-12-07T12:00:00Z")!

        var first = PassReport()
        first.applied = [ActionID(Self.a, .update)]
        status.record(first, declared: [Self.a, Self.b], at: now)
        let page = try await get("/api/v1/resources?limit=100")
        #expect(page.contains(#""resource":"VirtualMachine/a","status":"changed""#), "\(page)")
        #expect(try await get("/api/v1/resources?limit=100") == page)
        #expect(api.cachedPageCount == 1, "one page, answered twice")
        _ = try await get("/api/v1/resources?limit=1")
        #expect(api.cachedPageCount == 2, "another limit is another page")

        var second = PassReport()
        second.failed = [ActionID(Self.b, .update): "boom"]
        status.record(second, declared: [Self.a, Self.b], at: now)
        let next = try await get("/api/v1/resources?limit=100")
        #expect(next.contains(#""lastError":"boom","resource":"VirtualMachine/b","status":"failed""#), "\(next)")
        #expect(next.contains(#""resource":"VirtualMachine/a","status":"in-sync""#), "\(next)")
        #expect(api.cachedPageCount == 1, "the new pass dropped the old pages")

        let before = status.generation
        let head = HTTPRequest(
            method: .post,
            scheme: "http",
            authority: "127.0.0.1",
            path: "/api/v1/plans/p-1/approve",
            headerFields: [.authorization: "Bearer \(token)", .contentType: "application/json"]
        )
        let decided = await api.respond(Request(head: head, body: RequestBody(buffer: ByteBuffer(string: "{}"))))
        #expect(decided.status.code == 200 && status.generation == before + 1, "a decision makes a new generation")
        _ = try await get("/api/v1/resources?limit=100")
        #expect(api.cachedPageCount == 1)
    }
}
