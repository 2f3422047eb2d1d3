import HTTPTypes
public import Hummingbird
import SetpointCore

/// Every route of the controller API: its method, its path (Hummingbird's `:parameter` form) and the role it needs
/// (nil: open, no token). The router is built from this table, the tests walk it route × role, and the OpenAPI
/// document is checked against it.
public enum APIRoute: String, CaseIterable, Sendable {
    case healthz, readyz, metrics, openAPI
    case resources, explain
    case plans, plan, approve, reject
    case audit
    case backups, job, startRun
    case startOperation, operation, requestPass
    case githubWebhook, gitlabWebhook

    public var method: HTTPRequest.Method {
        switch self {
        case .approve, .reject, .startRun, .startOperation, .requestPass, .githubWebhook, .gitlabWebhook: .post
        default: .get
        }
    }

    public var path: String {
        switch self {
        case .healthz: "/healthz"
        case .readyz: "/readyz"
        case .metrics: "/metrics"
        case .openAPI: "/openapi.yaml"
        case .resources: "/api/v1/resources"
        case .explain: "/api/v1/resources/:kind/:name/explain"
        case .plans: "/api/v1/plans"
        case .plan: "/api/v1/plans/:id"
        case .approve: "/api/v1/plans/:id/approve"
        case .reject: "/api/v1/plans/:id/reject"
        case .audit: "/api/v1/audit"
        case .backups: "/api/v1/backups"
        case .job: "/api/v1/backups/jobs/:job"
        case .startRun: "/api/v1/backups/:policy/runs"
        case .startOperation: "/api/v1/operations"
        case .operation: "/api/v1/operations/:job"
        case .requestPass: "/api/v1/passes"
        case .githubWebhook: "/api/v1/webhooks/github"
        case .gitlabWebhook: "/api/v1/webhooks/gitlab"
        }
    }

    /// The path as OpenAPI writes it (`{id}` for `:id`).
    public var openAPIPath: String {
        path.split(separator: "/", omittingEmptySubsequences: false).map {
            $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0)
        }.joined(separator: "/")
    }

    /// The role a token needs: reads are a viewer's, decisions and runs an approver's. Webhooks carry no token: their
    /// signature (GitHub) or secret token (GitLab) is checked instead.
    public var role: Tokens.Role? {
        switch self {
        case .healthz, .readyz, .metrics, .openAPI, .githubWebhook, .gitlabWebhook: nil
        case .approve, .reject, .startRun, .requestPass: .approver
        case .startOperation: .admin
        default: .viewer
        }
    }

    /// Whether the route reads a JSON body (limited to ``ControllerAPI/bodyLimit``).
    public var takesBody: Bool { method == .post }
}

extension ControllerAPI {
    /// The API's router: open routes, then the `/api/v1` routes behind authentication (and the rate limit), each behind
    /// its role, the write routes behind the body limit. Errors are `{"error": "…"}`, responses are gzipped when asked
    /// and large enough, and never cached.
    public func router() -> Router<APIContext> {
        let api = self
        let router = Router(context: APIContext.self)
        router.add(middleware: APIResponseMiddleware())
        let authenticated = router.group().add(
            middleware: AuthenticationMiddleware(tokens: tokenStore, limiter: limiter, addresses: addressLimiter)
        )
        var byRole: [Tokens.Role: RouterGroup<APIContext>] = [:]
        for route in APIRoute.allCases {
            let handler = self.handler(route)
            guard let role = route.role else {
                if route.takesBody {
                    router.group().add(middleware: BodyLimitMiddleware(limit: Webhooks.bodyLimit)).on(
                        RouterPath(route.path),
                        method: route.method,
                        use: handler
                    )
                } else {
                    router.on(RouterPath(route.path), method: route.method, use: handler)
                }
                continue
            }
            let group =
                byRole[role]
                ?? authenticated.group().add(middleware: RoleMiddleware(role: role)).add(
                    middleware: BodyLimitMiddleware(limit: Self.bodyLimit)
                )
            byRole[role] = group
            group.on(RouterPath(route.path), method: route.method, use: handler)
        }
        // A BackupPolicy named `jobs`: its runs' path meets the jobs route's fixed segment, which the router takes
        // before a parameter, so it gets a route of its own.
        byRole[APIRoute.startRun.role!]?.on("/api/v1/backups/jobs/runs", method: .post) { request, context in
            try await api.startRun(
                "jobs",
                body: try await context.decodeBody(APIv1.RunRequest.self, from: request) ?? .init(),
                by: try context.requireIdentity()
            )
        }
        addUIRoutes(to: router)
        return router
    }

    /// The handler of one route.
    func handler(_ route: APIRoute) -> @Sendable (Request, APIContext) async throws -> Reply {
        let api = self
        switch route {
        case .healthz: return { _, _ in Reply(status: .ok, body: "ok\n", contentType: "text/plain") }
        case .readyz: return { _, _ in api.ready() }
        case .metrics:
            return { _, _ in Reply(status: .ok, body: api.metrics(), contentType: "text/plain; version=0.0.4") }
        case .openAPI:
            return { _, _ in Reply(status: .ok, body: Self.openAPIDocument, contentType: "application/yaml") }
        case .githubWebhook, .gitlabWebhook:
            let source: Webhooks.Source = route == .githubWebhook ? .github : .gitlab
            return { request, _ in
                var request = request
                let body = try await request.collectBody(upTo: Webhooks.bodyLimit)
                return try api.webhook(source, headers: request.headers, body: Array(body.readableBytesView))
            }
        case .resources: return { request, _ in api.resources(request.query) }
        case .explain:
            return { _, context in
                let kind = try context.parameters.require("kind")
                let name = try context.parameters.require("name")
                return try await api.explain(ResourceID(kind: ResourceKind(kind), name: name))
            }
        case .plans: return { request, _ in try await api.plans(request.query) }
        case .plan:
            return { request, context in
                try await api.plan(
                    try context.parameters.require("id"),
                    json: (request.headers[.accept] ?? "").contains("json")
                )
            }
        case .approve:
            return { request, context in
                let body = try await context.decodeBody(APIv1.DecisionRequest.self, from: request) ?? .init()
                return try await api.decide(
                    try context.parameters.require("id"),
                    approve: true,
                    by: try context.requireIdentity(),
                    reason: body.reason
                )
            }
        case .reject:
            return { request, context in
                let body = try await context.decodeBody(APIv1.DecisionRequest.self, from: request)
                guard let reason = body?.reason, !reason.isEmpty else {
                    throw APIError(.badRequest, "a rejection needs a reason: {\"reason\": \"…\"}")
                }
                return try await api.decide(
                    try context.parameters.require("id"),
                    approve: false,
                    by: try context.requireIdentity(),
                    reason: reason
                )
            }
        case .audit: return { request, _ in try await api.audit(request.query) }
        case .backups: return { request, _ in try await api.backups(request.query) }
        case .job:
            return { _, context in
                let id = try context.parameters.require("job")
                guard let job = try api.schedulerOrError().job(id) else {
                    throw APIError(.notFound, "no job \(id) (jobs are kept in memory: the last 100)")
                }
                return .json(.ok, APIv1.Job(job))
            }
        case .startOperation:
            return { request, context in
                guard api.operators != nil else {
                    throw APIError(.notFound, "this controller takes no operator commands")
                }
                guard let body = try await context.decodeBody(APIv1.OperationRequest.self, from: request) else {
                    throw APIError(
                        .badRequest,
                        "the body names the command: {\"resource\": \"PostgresCluster/main\", \"command\": \"failover\", \"arguments\": {\"to\": \"pg-2\"}}"
                    )
                }
                return try api.startOperation(body, by: try context.requireIdentity())
            }
        case .operation:
            return { _, context in
                let id = try context.parameters.require("job")
                guard let job = api.operators?.job(id) else {
                    throw APIError(.notFound, "no operation \(id) (operations are kept in memory: the last 100)")
                }
                return .json(.ok, job)
            }
        case .requestPass:
            return { _, context in try await api.requestPass(by: try context.requireIdentity()) }
        case .startRun:
            return { request, context in
                try await api.startRun(
                    try context.parameters.require("policy"),
                    body: try await context.decodeBody(APIv1.RunRequest.self, from: request) ?? .init(),
                    by: try context.requireIdentity()
                )
            }
        }
    }
}
