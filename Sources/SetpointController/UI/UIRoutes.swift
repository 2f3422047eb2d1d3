import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SetpointCore
import SetpointEngine
import SetpointState

/// The approvals page, under `/ui`: pending plans with their text, impacts and reasons, approved or rejected with a
/// reason; resources and why they have not converged; the audit log, filtered; backups against their objectives.
/// Sign-in takes an API token once and keeps a session cookie (``UISessions``); roles and four-eyes are the API's own
/// (``ControllerAPI/decide(_:approve:by:reason:)``). Every form carries the session's CSRF token (403 without it).
extension ControllerAPI {
    static let sessionCookie = "setpoint_session"
    static let loginCookie = "setpoint_login"

    func addUIRoutes(to router: Router<APIContext>) {
        let api = self
        let forms = router.group().add(middleware: BodyLimitMiddleware(limit: Self.bodyLimit))
        router.get("/ui") { _, _ in UIHTML.redirect("/ui/plans") }
        router.get("/ui/style.css") { _, _ in
            var headers = UIHTML.securityHeaders()
            headers[.contentType] = "text/css; charset=utf-8"
            return Response(
                status: .ok,
                headers: headers,
                body: ResponseBody(byteBuffer: ByteBuffer(string: UIHTML.stylesheet))
            )
        }
        router.get("/ui/login") { request, _ in api.loginPage(request) }
        forms.post("/ui/login") { request, context in try await api.login(request, context) }
        forms.post("/ui/logout") { request, _ in
            try await api.signedInForm(request) { _, _ in
                if let id = Self.cookies(request)[Self.sessionCookie] { api.sessions.end(id) }
                return UIHTML.redirect(
                    "/ui/login?why=signed-out",
                    cookies: [UIHTML.cookie(Self.sessionCookie, "", maxAge: 0, secure: api.tls != nil)]
                )
            }
        }
        router.get("/ui/plans") { request, _ in
            await api.signedIn(request) { viewer in try await api.plansPage(viewer) }
        }
        router.get("/ui/plans/:id") { request, context in
            let id = try context.parameters.require("id")
            return await api.signedIn(request) { viewer in
                try await api.planPage(id, viewer, done: request.query["done"])
            }
        }
        for approve in [true, false] {
            forms.post("/ui/plans/:id/\(approve ? "approve" : "reject")") { request, context in
                let id = try context.parameters.require("id")
                return try await api.signedInForm(request) { viewer, form in
                    try await api.decideFromPage(id, approve: approve, viewer, reason: form["reason"])
                }
            }
        }
        router.get("/ui/resources") { request, _ in
            await api.signedIn(request) { viewer in api.resourcesPage(viewer) }
        }
        router.get("/ui/resources/:kind/:name") { request, context in
            let id = ResourceID(
                kind: ResourceKind(try context.parameters.require("kind")),
                name: try context.parameters.require("name")
            )
            return await api.signedIn(request) { viewer in try await api.resourcePage(id, viewer) }
        }
        router.get("/ui/audit") { request, _ in
            await api.signedIn(request) { viewer in try await api.auditPage(viewer, filters: request.query) }
        }
        router.get("/ui/backups") { request, _ in
            await api.signedIn(request) { viewer in try await api.backupsPage(viewer) }
        }
        router.get("/ui/operations") { request, _ in
            await api.signedIn(request) { viewer in api.operationsPage(viewer, done: request.query["done"]) }
        }
        router.get("/ui/operations/:job") { request, context in
            let id = try context.parameters.require("job")
            return await api.signedIn(request) { viewer in try api.operationPage(id, viewer) }
        }
        forms.post("/ui/operations") { request, _ in
            try await api.signedInForm(request) { viewer, form in try await api.operationFromPage(viewer, form) }
        }
        forms.post("/ui/operations/pass") { request, _ in
            try await api.signedInForm(request) { viewer, _ in try await api.passFromPage(viewer) }
        }
    }

    // MARK: - sign-in

    static func cookies(_ request: Request) -> [String: String] {
        var out: [String: String] = [:]
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if parts.count == 2, out[String(parts[0])] == nil { out[String(parts[0])] = String(parts[1]) }
            }
        }
        return out
    }

    /// The sign-in form, with a fresh CSRF token in its cookie and in the form (they must match when it is posted).
    func loginPage(_ request: Request, status: HTTPResponse.Status = .ok, error: String? = nil) -> Response {
        let csrf = UISessions.random()
        let why: String? =
            switch request.query["why"] {
            case "expired": "Your session expired: sign in again."
            case "revoked": "Your token is no longer in the controller's tokens file: sign in with a current one."
            case "signed-out": "Signed out."
            default: nil
            }
        let notice = error.map { (kind: "error", text: $0) } ?? why.map { (kind: "info", text: $0) }
        let body = """
            <form method="post" action="/ui/login" class="decide">
            \(UIHTML.csrfField(csrf))
            <label for="token">API token</label>
            <input id="token" name="token" type="password" autocomplete="off" required size="72">
            <p class="muted">The token <code>setpoint token create</code> printed for you. It is sent once; the page
            then keeps a session cookie for \(Int(sessions.ttl.inSeconds / 3600)) h at most (never past the token's
            expiry).</p>
            <button type="submit">Sign in</button>
            </form>
            """
        return UIHTML.response(
            status,
            UIHTML.page("Sign in", viewer: nil, notice: notice, body: body),
            cookies: [UIHTML.cookie(Self.loginCookie, csrf, maxAge: 600, secure: tls != nil)]
        )
    }

    func login(_ request: Request, _ context: APIContext) async throws -> Response {
        let address = context.remoteAddress ?? "in-process"
        guard addressLimiter.allow(address) else {
            return loginPage(
                request,
                status: .tooManyRequests,
                error: "Too many attempts from \(address): wait a moment and try again."
            )
        }
        let form = try await Self.form(request)
        guard let expected = Self.cookies(request)[Self.loginCookie], let sent = form["csrf"],
            HMACSHA256.constantTimeEquals(expected, sent)
        else {
            return loginPage(
                request,
                status: .forbidden,
                error: "The sign-in form expired or cookies are off (CSRF check failed): sign in again."
            )
        }
        let token = (form["token"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard let identity = tokens.identity(token) else {
            return loginPage(
                request,
                status: .unauthorized,
                error: "Unknown token: it is not in the controller's tokens file."
            )
        }
        let now = clock.now
        if let expires = identity.expires, expires <= now {
            return loginPage(
                request,
                status: .unauthorized,
                error: "The token of \(identity.email) expired at \(Timestamp.seconds(expires)): make a new one "
                    + "(setpoint token create) and replace its line in the tokens file."
            )
        }
        let (id, session) = sessions.create(tokenHash: SHA256.hex(token), identity: identity, now: now)
        return UIHTML.redirect(
            "/ui/plans",
            cookies: [
                UIHTML.cookie(
                    Self.sessionCookie,
                    id,
                    maxAge: Int(session.expires.timeIntervalSince(now).rounded(.down)),
                    secure: tls != nil
                ),
                UIHTML.cookie(Self.loginCookie, "", maxAge: 0, secure: tls != nil),
            ]
        )
    }

    /// A page for a signed-in viewer; to the sign-in form (303) without a session, saying why.
    func signedIn(_ request: Request, _ render: (UIHTML.Viewer) async throws -> Response) async -> Response {
        switch sessions.resolve(Self.cookies(request)[Self.sessionCookie], tokens: tokens, now: clock.now) {
        case .failure(let refusal):
            let why = refusal.refusal == .none ? "" : "?why=\(refusal.refusal == .expired ? "expired" : "revoked")"
            return UIHTML.redirect("/ui/login" + why)
        case .success(let (session, identity)):
            let viewer = UIHTML.Viewer(identity: identity, csrf: session.csrf)
            do { return try await render(viewer) } catch let e as APIError {
                return errorPage(e.status, e.message, viewer)
            } catch {
                return errorPage(.internalServerError, "\(error)", viewer)
            }
        }
    }

    /// A form post from a signed-in viewer: 401 without a session, 403 without the session's CSRF token.
    func signedInForm(
        _ request: Request,
        _ handle: (UIHTML.Viewer, [String: String]) async throws -> Response
    ) async throws -> Response {
        let form = try await Self.form(request)
        switch sessions.resolve(Self.cookies(request)[Self.sessionCookie], tokens: tokens, now: clock.now) {
        case .failure(let refusal):
            let text =
                switch refusal.refusal {
                case .expired: "Your session expired: sign in again."
                case .revoked: "Your token is no longer in the tokens file: sign in with a current one."
                case .none: "Not signed in: sign in first."
                }
            return UIHTML.response(
                .unauthorized,
                UIHTML.page(
                    "Not signed in",
                    viewer: nil,
                    notice: ("error", text),
                    body: "<p><a href=\"/ui/login\">Sign in</a></p>"
                )
            )
        case .success(let (session, identity)):
            let viewer = UIHTML.Viewer(identity: identity, csrf: session.csrf)
            guard let sent = form["csrf"], HMACSHA256.constantTimeEquals(sent, session.csrf) else {
                return errorPage(
                    .forbidden,
                    "The form did not carry this session's CSRF token: nothing was done. Reload the page and try again.",
                    viewer
                )
            }
            do { return try await handle(viewer, form) } catch let e as APIError {
                return errorPage(e.status, e.message, viewer)
            }
        }
    }

    func errorPage(_ status: HTTPResponse.Status, _ message: String, _ viewer: UIHTML.Viewer?) -> Response {
        UIHTML.response(
            status,
            UIHTML.page(
                "\(status.code) \(status.reasonPhrase)",
                viewer: viewer,
                notice: ("error", message),
                body: "<p><a href=\"/ui/plans\">Back to the plans</a></p>"
            )
        )
    }

    /// An `application/x-www-form-urlencoded` body (64 KiB at most).
    static func form(_ request: Request) async throws -> [String: String] {
        var request = request
        let buffer = try await request.collectBody(upTo: bodyLimit)
        var out: [String: String] = [:]
        for pair in String(decoding: buffer.readableBytesView, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s)
            }
            if let key = parts.first { out[decode(key)] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        return out
    }

    // MARK: - plans

    func plansPage(_ viewer: UIHTML.Viewer) async throws -> Response {
        let all = try await store.storedPlans(status: nil)
        let pending = all.filter { $0.status == .pending }
        let recent = all.filter { $0.status != .pending }.suffix(20).reversed()
        func row(_ p: StoredPlan) -> [String] {
            let actions = (p.plan?.actions ?? []).filter { $0.verb != .noop }
            let impacts = Set(actions.map(\.impact)).sorted().map { UIHTML.badge($0.rawValue) }.joined(separator: " ")
            return [
                "<a href=\"/ui/plans/\(UIHTML.component(p.id))\">\(UIHTML.escape(p.id))</a>",
                UIHTML.badge(p.status.rawValue),
                UIHTML.escape(p.createdAt),
                UIHTML.escape(author(of: p)),
                UIHTML.escape(
                    actions.filter(\.requiresApproval).map(\.id.description).joined(separator: ", ")
                ),
                impacts,
            ]
        }
        let headers = ["plan", "status", "created", "author", "actions needing approval", "impact"]
        let body = """
            <h2>Waiting for a decision</h2>
            \(UIHTML.table(headers, pending.map(row), empty: "No plan waits for approval."))
            <h2>Decided recently</h2>
            \(UIHTML.table(headers, recent.map(row), empty: "No plan has been decided yet."))
            """
        return UIHTML.response(.ok, UIHTML.page("Plans", viewer: viewer, section: "plans", body: body))
    }

    /// Who made a plan: its commit's author, else the controller's identity (what four-eyes compares).
    func author(of plan: StoredPlan) -> String {
        Self.gitAuthor(of: plan) ?? reconciler.configuration.identity
    }

    func planPage(
        _ id: String,
        _ viewer: UIHTML.Viewer,
        done: String? = nil,
        status: HTTPResponse.Status = .ok,
        error: String? = nil
    ) async throws -> Response {
        guard let p = try await store.storedPlan(id: id) else { throw APIError(.notFound, "no plan \(id)") }
        let actions = (p.plan?.actions ?? []).filter { $0.verb != .noop }
        let rows = actions.map { a in
            [
                UIHTML.escape(a.id.description),
                UIHTML.badge(a.impact.rawValue),
                a.requiresApproval ? "yes" : "no",
                "<ul>" + a.reasons.map { "<li>\(UIHTML.escape($0))</li>" }.joined() + "</ul>",
                UIHTML.escape(a.changes.map(\.path.description).joined(separator: ", ")),
            ]
        }
        var decide = ""
        if p.status == .pending {
            if viewer.identity.role >= .approver {
                let path = "/ui/plans/\(UIHTML.component(id))"
                decide = """
                    <form method="post" action="\(path)/approve" class="decide">
                    \(UIHTML.csrfField(viewer.csrf))
                    <label for="approve-reason">Reason (optional)</label>
                    <textarea id="approve-reason" name="reason"></textarea>
                    <button type="submit" id="approve">Approve</button>
                    </form>
                    <form method="post" action="\(path)/reject" class="decide">
                    \(UIHTML.csrfField(viewer.csrf))
                    <label for="reject-reason">Reason (required)</label>
                    <textarea id="reject-reason" name="reason" required></textarea>
                    <button type="submit" id="reject" class="reject">Reject</button>
                    </form>
                    """
            } else {
                decide =
                    "<p class=\"muted\">You are a \(viewer.identity.role.rawValue): approving needs the approver role.</p>"
            }
        }
        let diagnostics = (p.plan?.diagnostics ?? []).map {
            "<li>\(UIHTML.escape("\($0.severity): \($0.code.rawValue) \($0.resource.map { "\($0): " } ?? "")\($0.summary)"))</li>"
        }.joined()
        let body = """
            <dl>
            <dt>Status</dt><dd>\(UIHTML.badge(p.status.rawValue))</dd>
            <dt>Created</dt><dd>\(UIHTML.escape(p.createdAt))</dd>
            <dt>Author</dt><dd>\(UIHTML.escape(author(of: p)))</dd>
            <dt>Commit</dt><dd>\(UIHTML.escape(p.plan?.source.gitCommit ?? "none (not from a git remote)"))</dd>
            <dt>Manifests</dt><dd>\(UIHTML.escape((p.plan?.source.paths ?? []).joined(separator: ", ")))</dd>
            </dl>
            <h2>Actions</h2>
            \(UIHTML.table(["action", "impact", "needs approval", "reasons", "fields"], rows, empty: "No changes."))
            \(diagnostics.isEmpty ? "" : "<h2>Diagnostics</h2><ul>\(diagnostics)</ul>")
            \(decide)
            <h2>Plan</h2>
            <pre>\(UIHTML.escape(p.text))</pre>
            """
        let notice: (kind: String, text: String)? =
            if let error {
                ("error", error)
            } else if let done, ["approved", "rejected"].contains(done) {
                (
                    "ok",
                    "Plan \(id) \(done). The leading controller's next pass \(done == "approved" ? "applies it" : "drops it")."
                )
            } else {
                nil
            }
        return UIHTML.response(
            status,
            UIHTML.page("Plan \(id)", viewer: viewer, section: "plans", notice: notice, body: body)
        )
    }

    /// Approve or reject from the page: the API's rules (role, four-eyes, only a pending plan), then back to the plan.
    func decideFromPage(_ id: String, approve: Bool, _ viewer: UIHTML.Viewer, reason: String?) async throws -> Response
    {
        let reason = reason.flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }
        let refusal: (HTTPResponse.Status, String)?
        if let why = viewer.identity.refusal(needing: .approver) {
            refusal = (.forbidden, why)
        } else if !approve, reason == nil {
            refusal = (.badRequest, "A rejection needs a reason.")
        } else {
            do {
                _ = try await decide(id, approve: approve, by: viewer.identity, reason: reason, how: "approvals page")
                refusal = nil
            } catch let e as APIError {
                refusal = (e.status, e.message)
            }
        }
        if let (status, message) = refusal {
            return try await planPage(id, viewer, status: status, error: message)
        }
        return UIHTML.redirect("/ui/plans/\(UIHTML.component(id))?done=\(approve ? "approved" : "rejected")")
    }

    // MARK: - resources

    func resourcesPage(_ viewer: UIHTML.Viewer) -> Response {
        let retries = reconciler.retries
        let rows = status.resourceStatus(retries: retries).map { id, state, error in
            [
                "<a href=\"/ui/resources/\(UIHTML.component(id.kind.rawValue))/\(UIHTML.component(id.name))\">"
                    + "\(UIHTML.escape(id.description))</a>",
                UIHTML.badge(state),
                UIHTML.escape(error ?? ""),
                UIHTML.escape(retries[id]?.nextRetry.map { Timestamp.seconds($0) } ?? ""),
            ]
        }
        let s = status.snapshot
        let lead =
            s.leading
            ? "This controller leads." : "This controller follows; \(s.leader ?? "another controller") leads."
        let body = """
            <p class="muted">\(UIHTML.escape(lead)) Last pass: \(UIHTML.escape(s.lastAt.map { Timestamp.seconds($0) } ?? "none yet")).</p>
            \(UIHTML.table(["resource", "status", "last error", "next retry"], rows, empty: "No resource is declared."))
            """
        return UIHTML.response(.ok, UIHTML.page("Resources", viewer: viewer, section: "resources", body: body))
    }

    func resourcePage(_ id: ResourceID, _ viewer: UIHTML.Viewer) async throws -> Response {
        guard let e = explanation(id) else {
            return errorPage(.notFound, "\(id) is not declared in the manifests the controller reads", viewer)
        }
        func list(_ items: [String]) -> String {
            items.isEmpty ? "none" : items.map(UIHTML.escape).joined(separator: ", ")
        }
        var next = ResourceAdvice.text(status: e.status, pendingPlan: e.pendingPlan, error: e.lastError)
        if e.status == "held" { next += " " + e.held.values.sorted().joined(separator: "; ") }
        let pendingLink = e.pendingPlan.map {
            "<a href=\"/ui/plans/\(UIHTML.component($0))\">\(UIHTML.escape($0))</a>"
        }
        let body = """
            <dl>
            <dt>Status</dt><dd>\(UIHTML.badge(e.status))</dd>
            <dt>Last error</dt><dd>\(UIHTML.escape(e.lastError ?? "none"))</dd>
            <dt>Applied in the last pass</dt><dd>\(list(e.applied))</dd>
            <dt>Waiting for approval</dt><dd>\(list(e.waiting))</dd>
            <dt>Pending plan</dt><dd>\(pendingLink ?? "none")</dd>
            <dt>Failures in a row</dt><dd>\(e.failures.map(String.init) ?? "0")</dd>
            <dt>What to do</dt><dd>\(UIHTML.escape(next))</dd>
            </dl>
            <h2>Conditions</h2>
            \(UIHTML.table(
                ["type", "status", "reason", "since", "message"],
                try await store.conditions(of: id).map { c in
                    [c.type.rawValue, c.status.rawValue, c.reason, c.lastTransitionTime, c.message].map(UIHTML.escape)
                },
                empty: "None recorded yet (the leading controller records them after its passes)."
            ))
            """
        return UIHTML.response(
            .ok,
            UIHTML.page(id.description, viewer: viewer, section: "resources", body: body)
        )
    }

    // MARK: - audit

    /// The audit log, newest first, filtered by event, actor, resource, plan or any text (the last 200 that match
    /// among the newest 20,000 records).
    func auditPage(_ viewer: UIHTML.Viewer, filters: [String: String]) async throws -> Response {
        let wanted = filters.compactMapValues { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
        var matches: [AuditRecord] = []
        let window = try await store.latestAuditRecords(limit: 20_000)
        for r in window.reversed() where matches.count < 200 {
            let e = r.entry
            if let v = wanted["event"], e.event.rawValue != v { continue }
            if let v = wanted["actor"], !e.actor.localizedCaseInsensitiveContains(v) { continue }
            if let v = wanted["resource"], !(e.resource?.description ?? "").localizedCaseInsensitiveContains(v) {
                continue
            }
            if let v = wanted["plan"], e.planID != v { continue }
            if let v = wanted["q"] {
                let text = [
                    e.actor, e.event.rawValue, e.planID ?? "", e.resource?.description ?? "", e.result ?? "",
                    "\(e.detail)",
                ]
                .joined(separator: " ")
                if !text.localizedCaseInsensitiveContains(v) { continue }
            }
            matches.append(r)
        }
        let events = Set(window.map(\.entry.event.rawValue)).sorted()
        let options = ([""] + events).map {
            "<option value=\"\(UIHTML.escape($0))\"\(wanted["event"] == $0 ? " selected" : "")>\($0.isEmpty ? "any" : UIHTML.escape($0))</option>"
        }.joined()
        func field(_ name: String, _ label: String) -> String {
            "<div><label for=\"f-\(name)\">\(label)</label><input id=\"f-\(name)\" name=\"\(name)\" value=\"\(UIHTML.escape(wanted[name] ?? ""))\"></div>"
        }
        let rows = matches.map { r in
            [
                String(r.seq),
                UIHTML.escape(r.entry.time),
                UIHTML.escape(r.entry.actor),
                UIHTML.badge(r.entry.event.rawValue),
                r.entry.planID.map { "<a href=\"/ui/plans/\(UIHTML.component($0))\">\(UIHTML.escape($0))</a>" } ?? "",
                UIHTML.escape(r.entry.resource?.description ?? r.entry.actionID?.description ?? ""),
                UIHTML.escape(r.entry.result ?? ""),
                "<code>\(UIHTML.escape("\(r.entry.detail)"))</code>",
            ]
        }
        let body = """
            <form method="get" action="/ui/audit" class="filters">
            <div><label for="f-event">event</label><select id="f-event" name="event">\(options)</select></div>
            \(field("actor", "actor"))\(field("resource", "resource"))\(field("plan", "plan"))\(field("q", "text"))
            <button type="submit">Filter</button>
            </form>
            \(UIHTML.table(["seq", "time", "actor", "event", "plan", "resource", "result", "detail"], rows, empty: "No record matches."))
            """
        return UIHTML.response(.ok, UIHTML.page("Audit log", viewer: viewer, section: "audit", body: body))
    }

    // MARK: - backups

    /// Each policy's objectives against what the controller measured (the gauges its alert rules read), and the runs.
    func backupsPage(_ viewer: UIHTML.Viewer) async throws -> Response {
        let now = clock.now
        var byPolicy: [String: [GaugeSample]] = [:]
        for g in scheduler?.gauges ?? [] { byPolicy[g.labels["policy"] ?? "", default: []].append(g) }
        func value(_ g: GaugeSample) -> String {
            if g.name.hasSuffix("_timestamp_seconds") {
                let at = Date(timeIntervalSince1970: g.value)
                let age = Int(now.timeIntervalSince(at))
                return Timestamp.seconds(at) + (age >= 0 ? " (\(age) s ago)" : " (in \(-age) s)")
            }
            if g.name.hasSuffix("_seconds") { return String(format: "%.1f s", g.value) }
            if g.name.hasSuffix("_compliant") || g.name.hasSuffix("_success") {
                return g.value == 1 ? "yes" : "no"
            }
            if g.name.hasSuffix("_failing") || g.name.hasSuffix("_running") { return g.value == 1 ? "yes" : "no" }
            return String(g.value)
        }
        var sections = ""
        for policy in byPolicy.keys.sorted() {
            let rows = byPolicy[policy]!.map { g in
                [
                    UIHTML.escape(g.help),
                    UIHTML.escape(g.labels["type"] ?? ""),
                    UIHTML.escape(value(g)),
                ]
            }
            sections +=
                "<h2>BackupPolicy/\(UIHTML.escape(policy))</h2>"
                + UIHTML.table(["measure", "type", "value"], rows, empty: "Nothing measured yet.")
        }
        if sections.isEmpty {
            sections =
                "<p class=\"empty\">\(scheduler == nil ? "This controller has no backup provider." : "No BackupPolicy is declared, or none has been read yet (the leader reads them).")</p>"
        }
        let runs = try await store.backupRuns(policy: nil, limit: 30).map { r in
            [
                UIHTML.escape(r.policy), UIHTML.escape(r.kind.rawValue), UIHTML.badge(r.outcome.rawValue),
                UIHTML.escape(r.startedAt), String(format: "%.1f s", r.seconds), UIHTML.escape(r.trigger),
                UIHTML.escape(r.message ?? ""),
            ]
        }
        let body =
            sections + "<h2>Recent runs</h2>"
            + UIHTML.table(
                ["policy", "type", "outcome", "started", "took", "trigger", "message"],
                runs,
                empty: "No run recorded."
            )
        return UIHTML.response(.ok, UIHTML.page("Backups", viewer: viewer, section: "backups", body: body))
    }

    // MARK: - operations

    /// Operator commands for admins (failover, reinit, import), a pass now for approvers, and the recent commands —
    /// the same as the CLI's `--controller` commands, with the same roles.
    func operationsPage(
        _ viewer: UIHTML.Viewer,
        done: String? = nil,
        status: HTTPResponse.Status = .ok,
        error: String? = nil
    )
        -> Response
    {
        var body = ""
        if viewer.identity.role >= .approver {
            body += """
                <form method="post" action="/ui/operations/pass" class="decide">
                \(UIHTML.csrfField(viewer.csrf))
                <p>A pass now, from the controller's manifests, with its approvals (risky actions wait in its pending plan).</p>
                <button type="submit" id="pass">Run a pass now</button>
                </form>
                """
        }
        if viewer.identity.role >= .admin, let desired = reconciler.desired {
            let options = desired.resources.filter { !$0.isOrphan }.map(\.id).sorted().map {
                "<option value=\"\(UIHTML.escape($0.description))\">\(UIHTML.escape($0.description))</option>"
            }.joined()
            body += """
                <form method="post" action="/ui/operations" class="decide">
                \(UIHTML.csrfField(viewer.csrf))
                <label for="op-resource">Resource</label>
                <select id="op-resource" name="resource">\(options)</select>
                <label for="op-command">Command</label>
                <select id="op-command" name="command">
                <option value="failover">failover (PostgresCluster): promote the member named below</option>
                <option value="reinit">reinit (PostgresCluster): re-make the member named below from the primary</option>
                <option value="import">import: adopt the existing object (the id below, or by name)</option>
                </select>
                <label for="op-argument">Member or id</label>
                <input id="op-argument" name="argument">
                <label><input type="checkbox" name="confirm" value="yes" required> I know this acts on production now</label>
                <button type="submit" id="run-command" class="reject">Run it on the leading controller</button>
                </form>
                """
        } else if viewer.identity.role < .admin {
            body +=
                "<p class=\"muted\">Operator commands (failover, reinit, import) need the admin role; you are \(viewer.identity.role.withArticle).</p>"
        }
        let rows = (operators?.recent ?? []).map { j in
            [
                "<a href=\"/ui/operations/\(UIHTML.component(j.job))\">\(UIHTML.escape(j.job))</a>",
                UIHTML.escape(j.command), UIHTML.escape(j.resource),
                UIHTML.escape(
                    j.arguments.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                ),
                UIHTML.escape(j.by), UIHTML.badge(j.status.rawValue), UIHTML.escape(j.startedAt),
            ]
        }
        body +=
            "<h2>Recent commands</h2>"
            + UIHTML.table(
                ["job", "command", "resource", "arguments", "by", "status", "started"],
                rows,
                empty: "No command since this controller started."
            )
        let notice: (kind: String, text: String)? =
            if let error { ("error", error) } else if done == "pass" {
                ("ok", "The leading controller makes a pass now: its result shows on the resources page.")
            } else { nil }
        return UIHTML.response(
            status,
            UIHTML.page("Operations", viewer: viewer, section: "operations", notice: notice, body: body)
        )
    }

    func operationFromPage(_ viewer: UIHTML.Viewer, _ form: [String: String]) async throws -> Response {
        if let why = viewer.identity.refusal(needing: .admin) {
            return operationsPage(viewer, status: .forbidden, error: why)
        }
        guard let operators else { throw APIError(.notFound, "this controller takes no operator commands") }
        guard form["confirm"] == "yes" else {
            return operationsPage(viewer, status: .badRequest, error: "Tick the confirmation: nothing was done.")
        }
        let name = form["command"] ?? ""
        guard let resource = ResourceID(parsing: form["resource"] ?? "") else {
            return operationsPage(viewer, status: .badRequest, error: "Choose a resource.")
        }
        let argument = (form["argument"] ?? "").trimmingCharacters(in: .whitespaces)
        let key = ["failover": "to", "reinit": "member", "import": "id"][name]
        let arguments = key.flatMap { argument.isEmpty ? nil : [$0: argument] } ?? [:]
        do {
            let job = try operators.request(
                OperatorCommand(name: name, resource: resource, arguments: arguments),
                by: viewer.identity.email
            )
            return UIHTML.redirect("/ui/operations/\(UIHTML.component(job.job))")
        } catch let r as LeaderRefusal {
            return operationsPage(viewer, status: r.status, error: r.description)
        }
    }

    func passFromPage(_ viewer: UIHTML.Viewer) async throws -> Response {
        if let why = viewer.identity.refusal(needing: .approver) {
            return operationsPage(viewer, status: .forbidden, error: why)
        }
        do { _ = try await askForPass(by: viewer.identity, how: "approvals page") } catch let e as APIError {
            return operationsPage(viewer, status: e.status, error: e.message)
        }
        return UIHTML.redirect("/ui/operations?done=pass")
    }

    func operationPage(_ id: String, _ viewer: UIHTML.Viewer) throws -> Response {
        guard let job = operators?.job(id) else {
            throw APIError(.notFound, "no operation \(id) (operations are kept in memory: the last 100)")
        }
        let body = """
            <dl>
            <dt>Command</dt><dd>\(UIHTML.escape(job.command)) of \(UIHTML.escape(job.resource))</dd>
            <dt>Arguments</dt><dd>\(UIHTML.escape(job.arguments.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")))</dd>
            <dt>By</dt><dd>\(UIHTML.escape(job.by))</dd>
            <dt>Status</dt><dd>\(UIHTML.badge(job.status.rawValue))</dd>
            <dt>Started</dt><dd>\(UIHTML.escape(job.startedAt))</dd>
            <dt>Finished</dt><dd>\(UIHTML.escape(job.finishedAt ?? "not yet (this page reloads every 2 s)"))</dd>
            </dl>
            \(job.error.map { "<p class=\"notice error\">\(UIHTML.escape($0))</p>" } ?? "")
            <h2>What it printed</h2>
            <pre>\(UIHTML.escape(job.lines.joined(separator: "\n")))</pre>
            """
        return UIHTML.response(
            .ok,
            UIHTML.page(
                "Operation \(id)",
                viewer: viewer,
                section: "operations",
                refreshSeconds: job.status == .running ? 2 : nil,
                body: body
            )
        )
    }
}
