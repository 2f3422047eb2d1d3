import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SetpointCore
import SetpointEngine
import SetpointState
import SetpointTesting
import Testing

@testable import SetpointController

/// The controller API through Hummingbird's router test client: every route × every role, and each refusal the API
/// makes (401, 403, 404, 409, 413, 429) with its JSON error. A fresh store and API per case: the cases never meet.
@Suite(.timeLimit(.minutes(2))) struct ControllerRouteTests {
    enum Caller: String, CaseIterable, CustomStringConvertible {
        case anonymous, stranger, viewer, approver, admin
        var role: Tokens.Role? { Tokens.Role(rawValue: rawValue) }
        var description: String { rawValue }
    }

    static let web = ResourceID(kind: .virtualMachine, name: "web-1")

    /// An API over an in-memory store with one pending plan (`p-1`, authored by the controller) and a pass that
    /// declared `VirtualMachine/web-1`; a token per role whose text is the role's name.
    struct Fixture {
        let api: ControllerAPI
        let store: InMemoryStateStore
        let status: ControllerStatus

        init(fourEyes: Bool = false, limited: Bool = false) async throws {
            store = InMemoryStateStore()
            try await store.savePlan(
                .pendingFixture("p-1")
            )
            let lines = Tokens.Role.allCases.map {
                "\($0.rawValue) \($0.rawValue)@example.net sha256:\(SHA256.hex($0.rawValue))"
                    + (limited ? "" : " unlimited")
            }
            let reconciler = Reconciler(
                Reconciler.Configuration(
                    paths: [],
                    providers: [],
                    secrets: EnvironmentSecretResolver(environment: [:]),
                    identity: "approver@example.net",
                    clock: ManualClock()
                ),
                store: store
            )
            status = ControllerStatus()
            var report = PassReport()
            report.declared = [ControllerRouteTests.web]
            status.record(report, declared: [ControllerRouteTests.web], at: Timestamp.parse("2026-12-07T12:00:00Z")!)
            api = ControllerAPI(
                store: store,
                status: status,
                reconciler: reconciler,
                tokens: TokenStore(try Tokens(lines: lines.joined(separator: "\n"))),
                fourEyes: fourEyes
            )
        }

        func test<T: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
            try await Application(router: api.router()).test(.router, body)
        }
    }

    /// A request of the route with its parameters filled in (the fixture's plan and resource).
    static func uri(_ route: APIRoute) -> String {
        route.path.replacingOccurrences(of: ":kind", with: "VirtualMachine").replacingOccurrences(
            of: ":name",
            with: "web-1"
        ).replacingOccurrences(of: ":id", with: "p-1").replacingOccurrences(of: ":job", with: "j-1-1")
            .replacingOccurrences(of: ":policy", with: "nightly")
    }

    static func headers(_ caller: Caller, json: Bool = false) -> HTTPFields {
        var h = HTTPFields()
        switch caller {
        case .anonymous: break
        case .stranger: h[.authorization] = "Bearer not-a-token"
        default: h[.authorization] = "Bearer \(caller.rawValue)"
        }
        if json { h[.contentType] = "application/json" }
        return h
    }

    /// What a caller allowed on the route gets from the fixture: the route's own answer, not a refusal of the caller.
    static func allowed(_ route: APIRoute) -> HTTPResponse.Status {
        switch route {
        // No provider with schedules: the backup routes say so. No webhook secret: the webhook routes say so. No
        // operator commands: their routes say so.
        case .job, .startRun, .githubWebhook, .gitlabWebhook, .startOperation, .operation: .notFound
        // The fixture's controller has not led a pass: a pass is asked of the leader.
        case .requestPass: .serviceUnavailable
        default: .ok
        }
    }

    @Test(arguments: APIRoute.allCases, Caller.allCases)
    func everyRouteAndEveryRole(route: APIRoute, caller: Caller) async throws {
        let fixture = try await Fixture()
        let expected: HTTPResponse.Status
        if route.role == nil {
            expected = Self.allowed(route)
        } else if caller == .anonymous || caller == .stranger {
            expected = .unauthorized
        } else if let needed = route.role, let role = caller.role, role < needed {
            expected = .forbidden
        } else {
            expected = Self.allowed(route)
        }
        let body = route.takesBody ? ByteBuffer(string: #"{"reason": "matrix"}"#) : nil
        try await fixture.test { client in
            try await client.execute(
                uri: Self.uri(route),
                method: route.method,
                headers: Self.headers(caller, json: body != nil),
                body: body
            ) { response in
                #expect(response.status == expected, "\(route.method) \(route.path) as \(caller)")
                #expect(response.headers[.cacheControl] == "no-store")
                if response.status.code >= 400 {
                    let error = try JSONDecoder().decode(
                        APIv1.ErrorBody.self,
                        from: Data(response.body.readableBytesView)
                    )
                    #expect(!error.error.isEmpty)
                }
            }
        }
        // A write that was let through made its decision; a refused one changed nothing.
        if route == .approve || route == .reject {
            let stored = try await fixture.store.storedPlan(id: "p-1")?.status
            let done: StoredPlan.Status = route == .approve ? .approved : .rejected
            #expect(stored == (expected == .ok ? done : .pending), "\(route) as \(caller)")
            let records = try await fixture.store.auditRecords(after: 0, limit: 100)
            #expect(records.count == (expected == .ok ? 1 : 0))
            if expected == .ok { #expect(records.first?.entry.actor == "\(caller.rawValue)@example.net") }
        }
    }

    @Test func refusalsSayWhatToDo() async throws {
        let fixture = try await Fixture(fourEyes: true)
        try await fixture.test { client in
            func call(
                _ method: HTTPRequest.Method,
                _ uri: String,
                as caller: Caller = .admin,
                body: String? = nil,
                headers extra: HTTPFields = [:]
            ) async throws -> (HTTPResponse.Status, String) {
                var headers = Self.headers(caller, json: body != nil)
                headers.append(contentsOf: extra)
                return try await client.execute(
                    uri: uri,
                    method: method,
                    headers: headers,
                    body: body.map { ByteBuffer(string: $0) }
                ) { r in
                    let text = String(buffer: r.body)
                    let error = (try? JSONDecoder().decode(APIv1.ErrorBody.self, from: Data(text.utf8)))?.error
                    return (r.status, error ?? text)
                }
            }
            // 404: an unknown path (with its method), an unknown plan, a resource not declared.
            #expect(try await call(.get, "/api/v1/nothing") == (.notFound, "no such path: GET /api/v1/nothing"))
            #expect(
                try await call(.delete, "/api/v1/plans/p-1") == (.notFound, "no such path: DELETE /api/v1/plans/p-1")
            )
            #expect(try await call(.get, "/api/v1/plans/p-9") == (.notFound, "no plan p-9"))
            #expect(
                try await call(.get, "/api/v1/resources/VirtualMachine/db-1/explain")
                    == (.notFound, "VirtualMachine/db-1 is not declared in the manifests the controller reads")
            )
            // A BackupPolicy named `jobs` is still reached (its path meets the jobs route's fixed segment): here the
            // controller has no schedules, and says so rather than "no such path".
            #expect(
                try await call(.post, "/api/v1/backups/jobs/runs", body: "{}")
                    == (.notFound, "this controller has no provider with scheduled runs (no backup provider)")
            )
            // 400: a rejection without a reason, a body that is not the expected object.
            #expect(
                try await call(.post, "/api/v1/plans/p-1/reject", body: "{}")
                    == (.badRequest, "a rejection needs a reason: {\"reason\": \"…\"}")
            )
            let (status, message) = try await call(.post, "/api/v1/plans/p-1/approve", body: #"{"reason": 7}"#)
            #expect(status == .badRequest && message.contains("reason must be a String"), "\(message)")
            // 413: a body over 64 KiB, refused before it is read.
            let big = "{\"reason\": \"" + String(repeating: "x", count: 70 << 10) + "\"}"
            #expect(
                try await call(.post, "/api/v1/plans/p-1/approve", body: big) == (.contentTooLarge, "body over 64 KiB")
            )
            // 403 four-eyes: the controller's identity authored the plan; approver@example.net may not approve it.
            #expect(
                try await call(.post, "/api/v1/plans/p-1/approve", as: .approver, body: "{}")
                    == (
                        .forbidden,
                        "four-eyes: approver@example.net authored plan p-1; another approver must approve it"
                    )
            )
            // 200, then 409: the plan is decided once.
            #expect(try await call(.post, "/api/v1/plans/p-1/approve", body: "{}").0 == .ok)
            #expect(
                try await call(.post, "/api/v1/plans/p-1/reject", body: #"{"reason": "late"}"#)
                    == (.conflict, "plan p-1 is approved, not pending: nothing to reject")
            )
            // 403 by role, with who and what is needed.
            #expect(
                try await call(.post, "/api/v1/plans/p-1/approve", as: .viewer, body: "{}")
                    == (.forbidden, "viewer@example.net is a viewer; this needs the approver role")
            )
        }
    }

    /// A body with no length (chunked), over the limit, is refused as it passes it: 413, as with a Content-Length.
    @Test func aBodyWithoutALengthIsRefusedAsItPassesTheLimit() async throws {
        let fixture = try await Fixture()
        let head = HTTPRequest(
            method: .post,
            scheme: "http",
            authority: "127.0.0.1",
            path: "/api/v1/plans/p-1/approve",
            headerFields: [.authorization: "Bearer approver", .contentType: "application/json"]
        )
        let big = "{\"reason\": \"" + String(repeating: "x", count: 70 << 10) + "\"}"
        let response = await fixture.api.respond(
            Request(head: head, body: RequestBody(buffer: ByteBuffer(string: big)))
        )
        let body = try await APIResponseMiddleware.collect(response.body)
        #expect(response.status == .contentTooLarge, "\(String(decoding: body, as: UTF8.self))")
        #expect(try JSONDecoder().decode(APIv1.ErrorBody.self, from: Data(body)).error == "body over 64 KiB")
        let status = await fixture.store.storedPlan(id: "p-1")?.status
        #expect(status == .pending)
    }

    @Test func aTokenOverItsRateIsRefusedWith429UntilItsBucketRefills() async throws {
        let fixture = try await Fixture(limited: true)
        let clock = try #require(fixture.api.reconciler.configuration.clock as? ManualClock)
        try await fixture.test { client in
            func status(_ caller: Caller) async throws -> HTTPResponse.Status {
                try await client.execute(uri: "/api/v1/plans", method: .get, headers: Self.headers(caller)) {
                    $0.status
                }
            }
            // The burst is 40 and no time passes on the manual clock: the 41st request is refused.
            var answers: [HTTPResponse.Status] = []
            for _ in 0..<41 { answers.append(try await status(.viewer)) }
            #expect(answers.prefix(40).allSatisfy { $0 == .ok } && answers.last == .tooManyRequests, "\(answers)")
            let other = try await status(.approver)
            #expect(other == .ok, "each token has its own bucket")
            await clock.advance(by: .milliseconds(100))  // 20 a second: two more
            var refilled: [HTTPResponse.Status] = []
            for _ in 0..<3 { refilled.append(try await status(.viewer)) }
            #expect(refilled == [.ok, .ok, .tooManyRequests])
        }
    }

    @Test func largeAnswersAreGzippedForClientsThatAskAndDecodeAsTheSharedTypes() async throws {
        let fixture = try await Fixture()
        try await fixture.test { client in
            let plain = try await client.execute(uri: "/openapi.yaml", method: .get) { $0 }
            var gzip = HTTPFields()
            gzip[.acceptEncoding] = "gzip"
            let packed = try await client.execute(uri: "/openapi.yaml", method: .get, headers: gzip) { $0 }
            #expect(plain.headers[.contentEncoding] == nil)
            #expect(packed.headers[.contentEncoding] == "gzip")
            #expect(Array(packed.body.readableBytesView.prefix(2)) == [0x1f, 0x8b])
            #expect(packed.body.readableBytes < plain.body.readableBytes / 2)
            let small = try await client.execute(uri: "/healthz", method: .get, headers: gzip) { $0 }
            #expect(small.headers[.contentEncoding] == nil, "a short answer is sent as it is")

            let page = try await client.execute(
                uri: "/api/v1/plans?status=pending",
                method: .get,
                headers: Self.headers(.viewer)
            ) { try JSONDecoder().decode(APIv1.Page<APIv1.PlanSummary>.self, from: Data($0.body.readableBytesView)) }
            #expect(page.items.map(\.id) == ["p-1"] && page.next == nil)
            let explained = try await client.execute(
                uri: "/api/v1/resources/VirtualMachine/web-1/explain",
                method: .get,
                headers: Self.headers(.viewer)
            ) { try JSONDecoder().decode(APIv1.Explanation.self, from: Data($0.body.readableBytesView)) }
            #expect(explained.resource == "VirtualMachine/web-1" && explained.status == "in-sync")
        }
    }

    /// The OpenAPI document lists exactly the routes, each with the refusals it can make.
    @Test func theOpenAPIDocumentMatchesTheRoutes() throws {
        var documented: [String: [String: Set<String>]] = [:]  // path → method → statuses
        var path: String?
        var method: String?
        for line in OpenAPIDocument.yaml.split(separator: "\n").map(String.init) {
            let indent = line.prefix { $0 == " " }.count
            let text = line.trimmingCharacters(in: .whitespaces)
            if indent == 2, text.hasPrefix("/"), text.hasSuffix(":") {
                path = String(text.dropLast())
                method = nil
            } else if indent == 4, let p = path, ["get:", "post:", "put:", "delete:"].contains(text) {
                method = String(text.dropLast())
                documented[p, default: [:]][method!] = []
            } else if indent == 0 {
                path = nil
            } else if indent == 8, let p = path, let m = method, text.hasPrefix("\""),
                let code = text.dropFirst().split(separator: "\"").first
            {
                documented[p]![m]!.insert(String(code))
            }
        }
        let routes = Dictionary(grouping: APIRoute.allCases, by: \.openAPIPath).mapValues {
            Set($0.map { $0.method.rawValue.lowercased() })
        }
        #expect(documented.mapValues { Set($0.keys) } == routes)
        for route in APIRoute.allCases {
            let statuses = documented[route.openAPIPath]?[route.method.rawValue.lowercased()] ?? []
            var needed: Set<String> = route.role == nil ? [] : ["401", "429"]
            if let role = route.role, role > .viewer { needed.insert("403") }
            if route.takesBody { needed.insert("413") }
            #expect(
                needed.isSubset(of: statuses),
                "\(route.method) \(route.openAPIPath) documents \(statuses.sorted())"
            )
        }
    }
}
