import Foundation
import HTTPTypes
import Hummingbird
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
    private let limiter: RateLimiter
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
    private var clock: any SetpointClock { reconciler.configuration.clock }

    /// The API described as OpenAPI 3.1 (served at `/openapi.yaml`; `docs/openapi.yaml` is the same text).
    public static var openAPIDocument: String { OpenAPIDocument.yaml }

    /// The open connections against their limits (the server's, exported in /metrics).
    public let connections: ConnectionRegistry
    /// The audit anchor appends move (exported in /metrics), when one is configured.
    public let anchor: AuditAnchor?

    public init(
        store: any StateStore,
        status: ControllerStatus,
        reconciler: Reconciler,
        tokens: TokenStore,
        fourEyes: Bool,
        scheduler: BackupScheduler? = nil,
        limits: ConnectionLimits = ConnectionLimits(),
        anchor: AuditAnchor? = nil
    ) {
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
    }

    struct Reply: Error {
        var status: Int
        var body: String
        var contentType = "application/json"

        static func json(_ status: Int, _ object: Any) -> Reply {
            let data =
                (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
                ?? Data("{}".utf8)
            return Reply(status: status, body: String(decoding: data, as: UTF8.self) + "\n")
        }

        static func error(_ status: Int, _ message: String) -> Reply { json(status, ["error": message]) }
    }

    /// Answers one request.
    public func respond(_ request: Request) async -> Response {
        let reply: Reply
        do { reply = try await route(request) } catch let r as Reply { reply = r } catch {
            reply = .error(500, "\(error)")
        }
        var headers = HTTPFields()
        headers[.contentType] = reply.contentType
        headers[.cacheControl] = "no-store"
        headers[.vary] = "Accept-Encoding"
        let bytes = Array(reply.body.utf8)
        if bytes.count >= Gzip.threshold, Gzip.accepted(request.headers[.acceptEncoding]),
            let compressed = Gzip.compress(bytes)
        {
            headers[.contentEncoding] = "gzip"
            return Response(
                status: HTTPResponse.Status(code: reply.status),
                headers: headers,
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: compressed))
            )
        }
        return Response(
            status: HTTPResponse.Status(code: reply.status),
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }

    func route(_ request: Request) async throws -> Reply {
        let path = request.uri.path
        let query = Dictionary(
            request.uri.queryParameters.map { (String($0.key), String($0.value)) },
            uniquingKeysWith: { a, _ in a }
        )
        let segments = path.split(separator: "/").map(String.init)
        switch (request.method, segments) {
        case (.get, ["healthz"]):
            return Reply(status: 200, body: "ok\n", contentType: "text/plain")
        case (.get, ["readyz"]):
            return ready()
        case (.get, ["metrics"]):
            return Reply(status: 200, body: metrics(), contentType: "text/plain; version=0.0.4")
        case (.get, ["openapi.yaml"]):
            return Reply(status: 200, body: Self.openAPIDocument, contentType: "application/yaml")
        default:
            break
        }
        guard segments.first == "api", segments.count >= 3, segments[1] == "v1" else {
            throw Reply.error(404, "no such path: \(path)")
        }
        let who = try authenticate(request, needs: request.method == .get ? .viewer : .approver)
        switch (request.method, Array(segments.dropFirst(2))) {
        case (.get, ["resources"]):
            return resources(query)
        case (.get, let s) where s.count == 4 && s[0] == "resources" && s[3] == "explain":
            return explain(ResourceID(kind: ResourceKind(s[1]), name: s[2]))
        case (.get, ["plans"]):
            return try await plans(query)
        case (.get, let s) where s.count == 2 && s[0] == "plans":
            return try await plan(s[1], json: (request.headers[.accept] ?? "").contains("json"))
        case (.post, let s) where s.count == 3 && s[0] == "plans" && s[2] == "approve":
            return try await decide(s[1], approve: true, by: who, reason: try await body(request)["reason"] as? String)
        case (.post, let s) where s.count == 3 && s[0] == "plans" && s[2] == "reject":
            guard let reason = try await body(request)["reason"] as? String, !reason.isEmpty else {
                throw Reply.error(400, "a rejection needs a reason: {\"reason\": \"…\"}")
            }
            return try await decide(s[1], approve: false, by: who, reason: reason)
        case (.get, ["audit"]):
            return try await audit(query)
        case (.get, ["backups"]):
            return try await backups(query)
        case (.get, let s) where s.count == 3 && s[0] == "backups" && s[1] == "jobs":
            guard let job = try schedulerOrReply().job(s[2]) else {
                throw Reply.error(404, "no job \(s[2]) (jobs are kept in memory: the last 100)")
            }
            return .json(200, Self.json(job))
        case (.post, let s) where s.count == 3 && s[0] == "backups" && s[2] == "runs":
            return try await startRun(s[1], body: try await body(request), by: who)
        default:
            throw Reply.error(404, "no such path: \(request.method) \(path)")
        }
    }

    // MARK: - auth

    func authenticate(_ request: Request, needs role: Tokens.Role) throws -> Tokens.Identity {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            throw Reply.error(
                401,
                "missing bearer token: send 'Authorization: Bearer TOKEN' (setpoint token create makes one)"
            )
        }
        let token = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        guard let who = tokens.identity(token) else {
            throw Reply.error(401, "unknown token: it is not in the controller's tokens file")
        }
        if !who.unlimited, !limiter.allow(SHA256.hex(token)) {
            throw Reply.error(429, "rate limited: at most 20 requests a second per token")
        }
        guard who.role >= role else {
            throw Reply.error(403, "\(who.email) is a \(who.role.rawValue); this needs the \(role.rawValue) role")
        }
        return who
    }

    func body(_ request: Request) async throws -> [String: Any] {
        var request = request
        let buffer: ByteBuffer
        do { buffer = try await request.collectBody(upTo: 64 << 10) } catch {
            throw Reply.error(413, "body over 64 KiB")
        }
        guard buffer.readableBytes > 0 else { return [:] }
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any]
        else {
            throw Reply.error(400, "the body is not a JSON object")
        }
        return object
    }

    // MARK: - routes

    func ready() -> Reply {
        let s = status.snapshot
        var problems: [String] = []
        if s.last == nil { problems.append("no pass has run yet") }
        if let r = s.last, !r.errors.isEmpty, r.declared.isEmpty {
            problems.append("the manifests do not load: " + r.errors.prefix(3).joined(separator: "; "))
        }
        // A follower is ready too: it serves the read API and records approvals while another controller leads.
        let leader: Any = s.leading ? "this controller" : (s.leader ?? "unknown")
        var out: [String: Any] = ["passes": s.passes, "leading": s.leading, "leader": leader]
        if let git = s.last?.git { out["commit"] = git.commit }
        // A fetch that fails is reported, not a reason to stop serving: the checked-out commit is still reconciled.
        if let problem = s.last?.gitProblem { out["gitProblem"] = problem }
        if problems.isEmpty {
            out["ready"] = true
        } else {
            out["ready"] = false
            out["problems"] = problems
        }
        return .json(problems.isEmpty ? 200 : 503, out)
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
        let items: [[String: Any]] = page.map { id, state, error in
            var item: [String: Any] = ["resource": id.description, "status": state]
            if let error { item["lastError"] = error }
            if let retry = retries[id]?.nextRetry { item["nextRetry"] = Timestamp.seconds(retry) }
            return item
        }
        var out: [String: Any] = ["items": items]
        if all.count > limit, let last = page.last { out["next"] = last.0.description }
        return .json(200, out)
    }

    func explain(_ id: ResourceID) -> Reply {
        guard let (_, state, error) = status.resourceStatus(retries: reconciler.retries).first(where: { $0.0 == id })
        else {
            return .error(404, "\(id) is not declared in the manifests the controller reads")
        }
        let r = status.snapshot.last
        var out: [String: Any] = ["resource": id.description, "status": state]
        if let error { out["lastError"] = error }
        let mine = { (ids: [ActionID]) in ids.filter { $0.resource == id }.map(\.description) }
        out["applied"] = mine(r?.applied ?? [])
        out["waiting"] = mine(r?.waiting ?? [])
        out["held"] = Dictionary(
            uniqueKeysWithValues: (r?.held ?? [:]).filter { $0.key.resource == id }.map {
                ($0.key.description, $0.value)
            }
        )
        if let p = r?.pendingPlanID, !(mine(r?.waiting ?? []).isEmpty) { out["pendingPlan"] = p }
        if let retry = reconciler.retries[id] { out["failures"] = retry.failures }
        return .json(200, out)
    }

    func plans(_ query: [String: String]) async throws -> Reply {
        let wanted = query["status"].flatMap(StoredPlan.Status.init(rawValue:))
        let limit = min(500, max(1, Int(query["limit"] ?? "") ?? 50))
        let all = try await store.storedPlans(status: wanted)
        let start = query["after"].flatMap { after in all.firstIndex { $0.id == after }.map { $0 + 1 } } ?? 0
        let page = all.dropFirst(start).prefix(limit)
        var out: [String: Any] = [
            "items": page.map { ["id": $0.id, "status": $0.status.rawValue, "createdAt": $0.createdAt] }
        ]
        if start + limit < all.count, let last = page.last { out["next"] = last.id }
        return .json(200, out)
    }

    func plan(_ id: String, json: Bool) async throws -> Reply {
        guard let p = try await store.storedPlan(id: id) else { throw Reply.error(404, "no plan \(id)") }
        if json { return Reply(status: 200, body: p.json) }
        return Reply(
            status: 200,
            body: "Status: \(p.status.rawValue)\n" + p.text,
            contentType: "text/plain; charset=utf-8"
        )
    }

    func decide(_ id: String, approve: Bool, by who: Tokens.Identity, reason: String?) async throws -> Reply {
        guard let p = try await store.storedPlan(id: id) else { throw Reply.error(404, "no plan \(id)") }
        guard p.status == .pending else {
            throw Reply.error(
                409,
                "plan \(id) is \(p.status.rawValue), not pending: nothing to \(approve ? "approve" : "reject")"
            )
        }
        // The author: the commit's for a plan made from a git remote, else the controller's identity.
        let author = (Self.gitAuthor(of: p) ?? reconciler.configuration.identity).lowercased()
        let approver = who.email.lowercased()
        if approve, fourEyes, approver == author || author.hasSuffix(":" + approver) {
            throw Reply.error(403, "four-eyes: \(who.email) authored plan \(id); another approver must approve it")
        }
        var detail: [String: Value] = ["plan": .string(id), "how": .string("controller API")]
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
            return .json(200, ["id": id, "status": approve ? "approved" : "rejected", "by": who.email])
        case .notFound:
            throw Reply.error(404, "no plan \(id)")
        case .conflict(let now):
            throw Reply.error(
                409,
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
        var out: [String: Any] = [
            "items": records.map { r -> [String: Any] in
                var item: [String: Any] = [
                    "seq": r.seq, "time": r.entry.time, "actor": r.entry.actor, "event": r.entry.event.rawValue,
                    "hash": r.hash,
                ]
                if let v = r.entry.planID { item["planID"] = v }
                if let v = r.entry.actionID { item["actionID"] = v.description }
                if let v = r.entry.resource { item["resource"] = v.description }
                if let v = r.entry.result { item["result"] = v }
                if let detail = try? JSONSerialization.jsonObject(
                    with: Data(CanonicalJSON.encode(r.entry.detail).utf8),
                    options: [.fragmentsAllowed]
                ) {
                    item["detail"] = detail
                }
                return item
            }
        ]
        if records.count == limit, let last = records.last { out["next"] = String(last.seq) }
        return .json(200, out)
    }

    // MARK: - backups

    func schedulerOrReply() throws -> BackupScheduler {
        guard let scheduler else {
            throw Reply.error(404, "this controller has no provider with scheduled runs (no backup provider)")
        }
        return scheduler
    }

    func startRun(_ policy: String, body: [String: Any], by who: Tokens.Identity) async throws -> Reply {
        let scheduler = try schedulerOrReply()
        let typeText = body["type"] as? String ?? "incr"
        guard let kind = BackupRun.Kind(rawValue: typeText) else {
            throw Reply.error(
                400,
                "type \(typeText) is not one of \(BackupRun.Kind.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        do {
            let job = try scheduler.request(
                policy,
                kind: kind,
                targetTime: body["targetTime"] as? String,
                by: who.email
            )
            return .json(202, Self.json(job))
        } catch let r as BackupScheduler.Refusal {
            switch r.reason {
            case .notDeclared: throw Reply.error(404, r.description)
            case .notLeading: throw Reply.error(503, r.description)
            case .busy: throw Reply.error(409, r.description)
            case .invalid: throw Reply.error(400, r.description)
            }
        }
    }

    func backups(_ query: [String: String]) async throws -> Reply {
        let limit = min(500, max(1, Int(query["limit"] ?? "") ?? 50))
        let runs = try await store.backupRuns(policy: query["policy"], limit: limit)
        var out: [String: Any] = ["items": runs.map(Self.json)]
        if let scheduler {
            out["running"] = scheduler.running.values.filter { query["policy"] == nil || $0.policy == query["policy"] }
                .sorted { $0.policy < $1.policy }.map(Self.json)
            out["next"] = scheduler.upcoming.filter { query["policy"] == nil || $0.key == query["policy"] }.mapValues {
                kinds in
                Dictionary(uniqueKeysWithValues: kinds.map { ($0.key.rawValue, Timestamp.seconds($0.value)) })
            }
        }
        return .json(200, out)
    }

    static func json(_ run: BackupRun) -> [String: Any] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(run),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return [:] }
        return object
    }

    static func json(_ job: BackupScheduler.Job) -> [String: Any] {
        var out: [String: Any] = [
            "job": job.id, "policy": job.policy, "type": job.kind.rawValue, "trigger": job.trigger,
            "startedAt": Timestamp.seconds(job.startedAt), "status": job.status.rawValue,
        ]
        if let run = job.run { out["run"] = json(run) }
        if let error = job.error { out["error"] = error }
        return out
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

/// A token bucket per identity.
final class RateLimiter: Sendable {
    let perSecond: Double, burst: Double
    private let buckets = Mutex<[String: (tokens: Double, at: Duration)]>([:])
    private let clock: any SetpointClock

    init(perSecond: Double, burst: Double, clock: any SetpointClock) {
        self.perSecond = perSecond
        self.burst = burst
        self.clock = clock
    }

    func allow(_ key: String) -> Bool {
        let now = clock.elapsed
        return buckets.withLock { b in
            var entry = b[key] ?? (burst, now)
            let elapsed = now - entry.at
            entry.tokens = min(burst, entry.tokens + elapsed.inSeconds * perSecond)
            entry.at = now
            guard entry.tokens >= 1 else {
                b[key] = entry
                return false
            }
            entry.tokens -= 1
            b[key] = entry
            return true
        }
    }
}
