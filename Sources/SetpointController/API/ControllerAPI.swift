import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
public import SetpointCore
import SetpointEngine
public import SetpointState
import Synchronization

/// The controller's HTTP API: health, readiness, metrics, resources, plans (approve, reject) and the audit log, behind
/// bearer tokens with roles. Errors are JSON `{"error": "…"}` with a status that says what to do (401 no or unknown
/// token, 403 role too low or four-eyes, 404, 409 the plan is not pending, 413 body too large, 429 rate limited).
public struct ControllerAPI: Sendable {
    public let store: any StateStore
    public let status: ControllerStatus
    public let reconciler: Reconciler
    public let tokenStore: TokenStore
    public var tokens: Tokens { tokenStore.tokens }
    /// An approver may not approve a plan they authored.
    public let fourEyes: Bool
    /// The policies' scheduled and requested runs (nil: no provider has schedules).
    public let scheduler: BackupScheduler?
    let limiter: RateLimiter
    /// Per client address, before the token is checked (see ``AuthenticationMiddleware``).
    let addressLimiter: RateLimiter
    private let started: Date
    /// Encoded `/api/v1/resources` pages of the current status generation: a new pass or a decision empties it.
    private let pages = PageCacheBox()

    final class PageCacheBox: Sendable {
        let cache = Mutex(PageCache())
    }

    struct PageCache {
        var generation = -1
        var replies: [String: Reply] = [:]
        /// Pages kept per generation (distinct `after`/`limit` pairs); beyond it pages are computed, not kept.
        static let capacity = 256
    }
    var clock: any SetpointClock { reconciler.configuration.clock }

    /// The API described as OpenAPI 3.1 (served at `/openapi.yaml`; `docs/openapi.yaml` is the same text).
    public static var openAPIDocument: String { OpenAPIDocument.yaml }

    /// The open connections against their limits (the server's, exported in /metrics).
    public let connections: ConnectionRegistry
    /// The audit anchor appends move (exported in /metrics), when one is configured.
    public let anchor: AuditAnchor?
    /// Push webhooks (nil: not configured; their routes answer 404).
    public let webhooks: Webhooks?
    /// The certificate and key the server speaks TLS with (nil: plain HTTP).
    public let tls: TLSCertificateFiles?
    /// The approvals page's sign-ins.
    public let sessions: UISessions
    /// Operator commands carried out for the CLI (nil: their routes answer 404).
    public let operators: OperatorJobs?

    public init(
        store: any StateStore,
        status: ControllerStatus,
        reconciler: Reconciler,
        tokens: TokenStore,
        fourEyes: Bool,
        scheduler: BackupScheduler? = nil,
        limits: ConnectionLimits = ConnectionLimits(),
        anchor: AuditAnchor? = nil,
        webhooks: Webhooks? = nil,
        tls: TLSCertificateFiles? = nil,
        sessions: UISessions = UISessions(),
        operators: OperatorJobs? = nil
    ) {
        self.operators = operators
        self.webhooks = webhooks
        self.tls = tls
        self.sessions = sessions
        self.scheduler = scheduler
        self.anchor = anchor
        self.connections = ConnectionRegistry(limits: limits)
        self.store = store
        self.status = status
        self.reconciler = reconciler
        self.tokenStore = tokens
        self.fourEyes = fourEyes
        started = reconciler.configuration.clock.now
        limiter = RateLimiter(perSecond: 20, burst: 40, clock: reconciler.configuration.clock)
        addressLimiter = RateLimiter(perSecond: 50, burst: 100, clock: reconciler.configuration.clock)
    }

    /// Request bodies are JSON objects of at most this many bytes (413 beyond).
    public static let bodyLimit = 64 << 10

    /// Answers one request in-process, through the same router the server runs (fuzzing and tests; the server builds
    /// its router once).
    public func respond(_ request: Request) async -> Response {
        let responder = router().buildResponder()
        do {
            return try await responder.respond(to: request, context: APIContext(logger: Logger(label: "setpoint.api")))
        } catch {
            return Reply.json(.internalServerError, APIv1.ErrorBody(error: "\(error)")).response
        }
    }

    // MARK: - routes

    /// A push webhook: verified, then a pass asked for (202), or why nothing is done (200).
    func webhook(_ source: Webhooks.Source, headers: HTTPFields, body: [UInt8]) throws -> Reply {
        guard let webhooks else {
            throw APIError(.notFound, "webhooks are not configured: start the controller with --webhook-secret")
        }
        let outcome: Webhooks.Outcome
        do { outcome = try webhooks.verify(source, headers: headers, body: body) } catch {
            throw APIError(error.status, error.message)
        }
        switch outcome {
        case .push(let branch, let delivery):
            let from = source == .github ? "GitHub" : "GitLab"
            reconciler.wake("a \(from) push to \(branch)" + (delivery.map { " (delivery \($0))" } ?? ""))
            return .json(.accepted, APIv1.WebhookReply(accepted: true, reason: "a pass starts now: push to \(branch)"))
        case .ignored(let why):
            return .json(.ok, APIv1.WebhookReply(accepted: false, reason: why))
        }
    }

    func ready() -> Reply {
        let s = status.snapshot
        var problems: [String] = []
        if s.last == nil { problems.append("no pass has run yet") }
        if let r = s.last, !r.errors.isEmpty, r.declared.isEmpty {
            problems.append("the manifests do not load: " + r.errors.prefix(3).joined(separator: "; "))
        }
        // A follower is ready too: it serves the read API and records approvals while another controller leads.
        // A fetch that fails is reported, not a reason to stop serving: the checked-out commit is still reconciled.
        let body = APIv1.Readiness(
            ready: problems.isEmpty,
            passes: s.passes,
            leading: s.leading,
            leader: s.leading ? "this controller" : (s.leader ?? "unknown"),
            commit: s.last?.git?.commit,
            gitProblem: s.last?.gitProblem,
            problems: problems.isEmpty ? nil : problems
        )
        return .json(problems.isEmpty ? .ok : .serviceUnavailable, body)
    }

    func resources(_ query: [String: String]) -> Reply {
        let limit = min(1000, max(1, Int(query["limit"] ?? "") ?? 100))
        // A page depends only on the last pass (and the backoff it left): computed once per generation.
        let generation = status.generation
        let key = "\(limit)|\(query["after"] ?? "")"
        if let hit = pages.cache.withLock({ $0.generation == generation ? $0.replies[key] : nil }) { return hit }
        let reply = resourcesPage(limit: limit, after: query["after"])
        pages.cache.withLock { cache in
            if cache.generation != generation { cache = PageCache(generation: generation) }
            if cache.replies.count < PageCache.capacity { cache.replies[key] = reply }
        }
        return reply
    }

    /// Pages kept for the current generation (tests).
    var cachedPageCount: Int { pages.cache.withLock { $0.replies.count } }

    func resourcesPage(limit: Int, after: String?) -> Reply {
        let retries = reconciler.retries
        let all = status.resourceStatus(retries: retries).filter { after == nil || $0.0.description > after! }
        let page = all.prefix(limit)
        let items = page.map { id, state, error in
            APIv1.ResourceItem(
                resource: id.description,
                status: state,
                lastError: error,
                nextRetry: retries[id]?.nextRetry.map { Timestamp.seconds($0) }
            )
        }
        return .json(.ok, APIv1.Page(items: items, next: all.count > limit ? page.last?.0.description : nil))
    }

    func explain(_ id: ResourceID) async throws -> Reply {
        guard var e = explanation(id) else {
            return .json(
                .notFound,
                APIv1.ErrorBody(error: "\(id) is not declared in the manifests the controller reads")
            )
        }
        e.conditions = try await store.conditions(of: id)
        return .json(.ok, e)
    }

    /// Why a declared resource is where it is, from the last pass and the backoff (nil: not declared).
    func explanation(_ id: ResourceID) -> APIv1.Explanation? {
        let retries = reconciler.retries
        guard let (_, state, error) = status.resourceStatus(retries: retries).first(where: { $0.0 == id }) else {
            return nil
        }
        let r = status.snapshot.last
        let mine = { (ids: [ActionID]) in ids.filter { $0.resource == id }.map(\.description) }
        let waiting = mine(r?.waiting ?? [])
        return APIv1.Explanation(
            resource: id.description,
            status: state,
            lastError: error,
            applied: mine(r?.applied ?? []),
            waiting: waiting,
            held: Dictionary(
                uniqueKeysWithValues: (r?.held ?? [:]).filter { $0.key.resource == id }.map {
                    ($0.key.description, $0.value)
                }
            ),
            pendingPlan: waiting.isEmpty ? nil : r?.pendingPlanID,
            failures: retries[id]?.failures,
            nextRetry: retries[id]?.nextRetry.map { Timestamp.seconds($0) }
        )
    }

    func plans(_ query: [String: String]) async throws -> Reply {
        let wanted = query["status"].flatMap(StoredPlan.Status.init(rawValue:))
        let limit = min(500, max(1, Int(query["limit"] ?? "") ?? 50))
        let all = try await store.storedPlans(status: wanted)
        let start = query["after"].flatMap { after in all.firstIndex { $0.id == after }.map { $0 + 1 } } ?? 0
        let page = all.dropFirst(start).prefix(limit)
        return .json(
            .ok,
            APIv1.Page(
                items: page.map { APIv1.PlanSummary(id: $0.id, status: $0.status.rawValue, createdAt: $0.createdAt) },
                next: start + limit < all.count ? page.last?.id : nil
            )
        )
    }

    func plan(_ id: String, json: Bool) async throws -> Reply {
        guard let p = try await store.storedPlan(id: id) else { throw APIError(.notFound, "no plan \(id)") }
        if json { return Reply(status: .ok, body: p.json) }
        return Reply(
            status: .ok,
            body: "Status: \(p.status.rawValue)\n" + p.text,
            contentType: "text/plain; charset=utf-8"
        )
    }

    func decide(
        _ id: String,
        approve: Bool,
        by who: Tokens.Identity,
        reason: String?,
        how: String = "controller API"
    ) async throws -> Reply {
        guard let p = try await store.storedPlan(id: id) else { throw APIError(.notFound, "no plan \(id)") }
        guard p.status == .pending else {
            throw APIError(
                .conflict,
                "plan \(id) is \(p.status.rawValue), not pending: nothing to \(approve ? "approve" : "reject")"
            )
        }
        // The author: the commit's for a plan made from a git remote, else the controller's identity.
        let author = (Self.gitAuthor(of: p) ?? reconciler.configuration.identity).lowercased()
        let approver = who.email.lowercased()
        if approve, fourEyes, approver == author || author.hasSuffix(":" + approver) {
            throw APIError(.forbidden, "four-eyes: \(who.email) authored plan \(id); another approver must approve it")
        }
        var detail: [String: Value] = ["plan": .string(id), "how": .string(how)]
        if let reason { detail["reason"] = .string(reason) }
        let record = AuditTrail(log: store, actor: who.email)
            .entry(approve ? .approval : .rejection, planID: id, detail: .map(detail))
        // One compare-and-set from pending, with its audit record in the same transaction: of concurrent decisions
        // exactly one is made and recorded; the others learn what it was.
        switch try await store.transitionPlan(
            id: id,
            from: [.pending],
            to: approve ? .approved : .rejected,
            audit: record
        ) {
        case .changed:
            status.invalidate()
            return .json(.ok, APIv1.Decision(id: id, status: approve ? "approved" : "rejected", by: who.email))
        case .notFound:
            throw APIError(.notFound, "no plan \(id)")
        case .conflict(let now):
            throw APIError(
                .conflict,
                "plan \(id) is \(now.rawValue), not pending: nothing to \(approve ? "approve" : "reject")"
            )
        }
    }

    /// The commit author of a stored plan, from the plan itself; a plan stored before the state kept plans has only
    /// its rendered JSON, which carries the author too.
    static func gitAuthor(of stored: StoredPlan) -> String? {
        let author: String?
        if let plan = stored.plan {
            author = plan.source.gitAuthor
        } else {
            let object = try? JSONSerialization.jsonObject(with: Data(stored.json.utf8)) as? [String: Any]
            author = (object?["source"] as? [String: Any])?["gitAuthor"] as? String
        }
        return author.flatMap { $0.isEmpty ? nil : $0 }
    }

    func audit(_ query: [String: String]) async throws -> Reply {
        let after = Int64(query["after"] ?? "") ?? 0
        let limit = min(1000, max(1, Int(query["limit"] ?? "") ?? 100))
        let records = try await store.auditRecords(after: after, limit: limit)
        let items = records.map { r in
            APIv1.AuditItem(
                seq: r.seq,
                time: r.entry.time,
                actor: r.entry.actor,
                event: r.entry.event.rawValue,
                hash: r.hash,
                planID: r.entry.planID,
                actionID: r.entry.actionID?.description,
                resource: r.entry.resource?.description,
                result: r.entry.result,
                detail: PlainJSON(r.entry.detail)
            )
        }
        return .json(
            .ok,
            APIv1.Page(items: items, next: records.count == limit ? records.last.map { String($0.seq) } : nil)
        )
    }

    // MARK: - operator commands

    /// Asks the leader's loop for a pass now, audited as `apply-requested` under `who`; returns the number the pass it
    /// starts will have (``Reconciler/passesStarted`` + 1). 503 when this controller follows.
    func askForPass(by who: Tokens.Identity, how: String) async throws -> Int {
        if let why = reconciler.notLeading { throw APIError(.serviceUnavailable, why) }
        let wanted = reconciler.passesStarted + 1
        try await AuditTrail(log: store, actor: who.email, clock: clock).record(
            .applyRequested,
            detail: .map(["how": .string(how)])
        )
        reconciler.wake("a pass asked by \(who.email) (\(how))")
        return wanted
    }

    /// A pass now, for `setpoint apply --controller`: audited under the token's identity, then the leader's loop is
    /// woken and the answer waits (15 minutes at most) for a pass that started after the request.
    func requestPass(by who: Tokens.Identity) async throws -> Reply {
        let wanted = try await askForPass(by: who, how: "controller API")
        let deadline = clock.elapsed + .seconds(900)
        while clock.elapsed < deadline {
            if let report = reconciler.lastReport(afterFinished: wanted) {
                return .json(.ok, APIv1.PassSummary(report))
            }
            if let why = reconciler.notLeading {
                throw APIError(.serviceUnavailable, "this controller lost the lease while the pass was awaited: \(why)")
            }
            try await clock.sleep(for: .milliseconds(100))
        }
        throw APIError(.gatewayTimeout, "no pass finished within 15 minutes of the request: see the controller's log")
    }

    func startOperation(_ body: APIv1.OperationRequest, by who: Tokens.Identity) throws -> Reply {
        guard let operators else {
            throw APIError(.notFound, "this controller takes no operator commands")
        }
        guard let resource = ResourceID(parsing: body.resource) else {
            throw APIError(.badRequest, "resource '\(body.resource)' is not KIND/NAME")
        }
        do {
            let job = try operators.request(
                OperatorCommand(name: body.command, resource: resource, arguments: body.arguments ?? [:]),
                by: who.email
            )
            return .json(.accepted, job)
        } catch let r as LeaderRefusal {
            throw APIError(r.status, r.description)
        }
    }

    // MARK: - backups

    func schedulerOrError() throws -> BackupScheduler {
        guard let scheduler else {
            throw APIError(.notFound, "this controller has no provider with scheduled runs (no backup provider)")
        }
        return scheduler
    }

    func startRun(_ policy: String, body: APIv1.RunRequest, by who: Tokens.Identity) async throws -> Reply {
        let scheduler = try schedulerOrError()
        let typeText = body.type ?? "incr"
        guard let kind = BackupRun.Kind(rawValue: typeText) else {
            throw APIError(
                .badRequest,
                "type \(typeText) is not one of \(BackupRun.Kind.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        do {
            let job = try scheduler.request(policy, kind: kind, targetTime: body.targetTime, by: who.email)
            return .json(.accepted, APIv1.Job(job))
        } catch let r as LeaderRefusal {
            throw APIError(r.status, r.description)
        }
    }

    func backups(_ query: [String: String]) async throws -> Reply {
        let limit = min(500, max(1, Int(query["limit"] ?? "") ?? 50))
        let policy = query["policy"]
        let runs = try await store.backupRuns(policy: policy, limit: limit)
        var out = APIv1.Backups(items: runs)
        if let scheduler {
            out.running = scheduler.running.values.filter { policy == nil || $0.policy == policy }
                .sorted { $0.policy < $1.policy }.map(APIv1.Job.init)
            out.next = scheduler.upcoming.filter { policy == nil || $0.key == policy }.mapValues { kinds in
                Dictionary(uniqueKeysWithValues: kinds.map { ($0.key.rawValue, Timestamp.seconds($0.value)) })
            }
        }
        return .json(.ok, out)
    }

    func metrics() -> String {
        let s = status.snapshot
        var lines: [String] = []
        func metric(_ name: String, _ help: String, _ type: String, _ samples: [(String, Double)]) {
            lines.append("# HELP \(name) \(help)")
            lines.append("# TYPE \(name) \(type)")
            for (labels, value) in samples { lines.append("\(name)\(labels) \(value)") }
        }
        metric("setpoint_passes_total", "Reconcile passes run.", "counter", [("", Double(s.passes))])
        metric(
            "setpoint_last_success_timestamp_seconds",
            "When the last pass without errors or failures ended.",
            "gauge",
            [("", s.lastSuccessAt?.timeIntervalSince1970 ?? 0)]
        )
        metric(
            "setpoint_seconds_since_last_success",
            "Seconds since the last pass without errors or failures (since start when none).",
            "gauge",
            [("", clock.now.timeIntervalSince(s.lastSuccessAt ?? started))]
        )
        var histogram: [(String, Double)] = ControllerStatus.durationBounds.enumerated().map {
            ("{le=\"\($1)\"}", Double(s.durationBuckets[$0]))
        }
        histogram.append(("{le=\"+Inf\"}", Double(s.durationCount)))
        metric("setpoint_reconcile_duration_seconds", "How long reconcile passes take.", "histogram", [])
        lines += histogram.map { "setpoint_reconcile_duration_seconds_bucket\($0.0) \($0.1)" }
        lines.append("setpoint_reconcile_duration_seconds_sum \(s.durationSum)")
        lines.append("setpoint_reconcile_duration_seconds_count \(s.durationCount)")
        metric(
            "setpoint_drift_detected_total",
            "Resources found drifted, summed over passes.",
            "counter",
            [("", Double(s.driftDetected))]
        )
        metric(
            "setpoint_leader",
            "1 when this controller holds the state lease (leads), 0 when it follows.",
            "gauge",
            [("", s.leading ? 1 : 0)]
        )
        metric(
            "setpoint_pending_approvals",
            "Actions waiting for approval after the last pass.",
            "gauge",
            [("", Double(s.last?.waiting.count ?? 0))]
        )
        var byStatus: [String: Int] = [:]
        for (_, state, _) in status.resourceStatus(retries: reconciler.retries) { byStatus[state, default: 0] += 1 }
        metric(
            "setpoint_resources",
            "Declared resources by status in the last pass.",
            "gauge",
            byStatus.keys.sorted().map { ("{status=\"\($0)\"}", Double(byStatus[$0]!)) }
        )
        metric(
            "setpoint_actions_total",
            "Actions by kind, verb and result.",
            "counter",
            s.actions.keys.sorted().map { key in
                let p = key.split(separator: "|").map(String.init)
                return ("{kind=\"\(p[0])\",verb=\"\(p[1])\",result=\"\(p[2])\"}", Double(s.actions[key]!))
            }
        )
        let calls = ProviderRequests.shared.snapshot
        metric(
            "setpoint_provider_requests_total",
            "Requests providers sent to the systems they manage, by system.",
            "counter",
            calls.keys.sorted().map { ("{system=\"\($0)\"}", Double(calls[$0]!.requests)) }
        )
        metric(
            "setpoint_provider_errors_total",
            "Those requests that failed, by system.",
            "counter",
            calls.keys.sorted().map { ("{system=\"\($0)\"}", Double(calls[$0]!.errors)) }
        )
        if let anchor {
            // -1 when the anchor cannot be read or does not verify: alert on it.
            let seq = (try? anchor.read()).map { $0?.seq ?? 0 } ?? -1
            metric(
                "setpoint_audit_anchor_seq",
                "The audit log's head as the anchor outside the state records it (-1: unreadable or not verifying).",
                "gauge",
                [("", Double(seq))]
            )
            metric(
                "setpoint_audit_anchor_failing",
                "1 when the last append could not move the audit anchor (a full disk, permissions).",
                "gauge",
                [("", (store as? any AuditTailed)?.tail.anchorProblem == nil ? 0 : 1)]
            )
        }
        let http = connections.counts
        metric("setpoint_http_connections", "HTTP connections open now.", "gauge", [("", Double(http.open))])
        metric(
            "setpoint_http_connections_limit",
            "HTTP connections open at most (--max-connections).",
            "gauge",
            [("", Double(connections.limits.maxConnections))]
        )
        metric(
            "setpoint_http_connections_accepted_total",
            "HTTP connections accepted.",
            "counter",
            [("", Double(http.accepted))]
        )
        metric(
            "setpoint_http_connections_closed_total",
            "HTTP connections the controller closed, by reason.",
            "counter",
            ConnectionCloseReason.allCases.map { ("{reason=\"\($0.rawValue)\"}", Double(http.closed[$0] ?? 0)) }
        )
        if let tls {
            metric(
                "setpoint_tls_certificate_expiry_timestamp_seconds",
                "When the API's TLS certificate in use expires (SIGHUP reads a renewed one).",
                "gauge",
                [("", tls.notAfter.timeIntervalSince1970)]
            )
        }
        var byName: [String: [GaugeSample]] = [:]
        var names: [String] = []
        for g in scheduler?.gauges ?? [] {
            if byName[g.name] == nil { names.append(g.name) }
            byName[g.name, default: []].append(g)
        }
        for name in names {
            let samples = byName[name]!
            metric(
                name,
                samples[0].help,
                "gauge",
                samples.map { g in
                    (
                        "{"
                            + g.labels.keys.sorted().map { "\($0)=\"\(Self.escape(g.labels[$0]!))\"" }.joined(
                                separator: ","
                            ) + "}", g.value
                    )
                }
            )
        }
        if let git = s.last?.git {
            metric(
                "setpoint_git_commit_info",
                "The commit the last pass reconciled.",
                "gauge",
                [("{commit=\"\(git.commit)\"}", 1)]
            )
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A label value in the exposition format.
    static func escape(_ v: String) -> String {
        v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
