import ArgumentParser
import Foundation
import SetpointController
import SetpointCore
import SetpointEngine
import SetpointRender
import SetpointState

/// `setpoint explain KIND/NAME`: why a resource has not converged — from the leading controller when one is configured,
/// else from the state's recorded conditions and a fresh plan of the manifests.
struct ExplainCommand: ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract:
            "Why a resource has not converged: its conditions, the diff, the last action and its error, what it waits for, what to do.",
        discussion: """
            With a controller configured (--controller URL, or SETPOINT_CONTROLLER) the leading controller answers: its \
            last pass, the backoff or parking, the pending plan, and the Ready and Synced conditions it recorded. Without \
            one, the conditions come from the state (as the last leading controller recorded them), and the manifests are \
            planned afresh for this resource (observing it now, as 'plan --target' does); the output says so.

            Examples:
              setpoint explain VirtualMachine/web-1 --controller https://ops-1:9797 --token-file ~/.setpoint-token
              setpoint explain PostgresCluster/main-db manifests/

            Exit codes: 0 explained; 1 error (not declared, no controller answer, the manifests do not load).
            """
    )

    @Argument(help: ArgumentHelp("The resource.", valueName: "KIND/NAME")) var resource: String
    @Argument(help: "Manifest files or folders (without a controller: planned afresh).") var paths: [String] = []
    @OptionGroup var client: ControllerClientOptions
    @OptionGroup var stateOptions: StateOptions

    func validate() throws {
        guard ResourceID(parsing: resource) != nil else {
            throw ValidationError("'\(resource)' is not KIND/NAME, e.g. VirtualMachine/web-1")
        }
    }

    func execute(_ console: Console) async throws -> Int32 {
        let id = ResourceID(parsing: resource)!
        if client.isConfigured(console) { return try await fromController(id, console) }
        return try await afresh(id, console)
    }

    // MARK: - through the controller

    func fromController(_ id: ResourceID, _ console: Console) async throws -> Int32 {
        let path =
            "/api/v1/resources/\(Self.segment(id.kind.rawValue))/\(Self.segment(id.name))/explain"
        let r: (status: Int, text: String)
        do { r = try await client.request(console, "GET", path) } catch {
            console.err("error: cannot reach the controller: \(error)\n")
            return 1
        }
        guard r.status == 200, let e = try? JSONDecoder().decode(APIv1.Explanation.self, from: Data(r.text.utf8)) else {
            return client.finish(console, r)
        }
        var out = "\(e.resource): \(e.status) (the leading controller's last pass)\n"
        out += Self.conditionLines(e.conditions ?? [])
        if let error = e.lastError { out += "  last error: \(error)\n" }
        if !e.applied.isEmpty { out += "  applied in the last pass: \(e.applied.joined(separator: ", "))\n" }
        if !e.waiting.isEmpty {
            out += "  waiting for approval: \(e.waiting.joined(separator: ", ")) in plan \(e.pendingPlan ?? "?")\n"
        }
        for (action, why) in e.held.sorted(by: { $0.key < $1.key }) { out += "  held: \(action): \(why)\n" }
        if let failures = e.failures {
            out +=
                "  failures in a row: \(failures)"
                + (e.nextRetry.map { ", retried from \($0)" } ?? ", parked until its manifest changes") + "\n"
        }
        out +=
            "What to do: " + ResourceAdvice.text(status: e.status, pendingPlan: e.pendingPlan, error: e.lastError)
            + "\n"
        console.out(out)
        return 0
    }

    static func segment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~")))
            ?? text
    }

    static func conditionLines(_ conditions: [ResourceCondition]) -> String {
        conditions.map { c in
            "  \(c.type.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0))\(c.status.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0))"
                + "\(c.reason) since \(c.lastTransitionTime): \(c.message)\n"
        }.joined()
    }

    // MARK: - afresh

    func afresh(_ id: ResourceID, _ console: Console) async throws -> Int32 {
        let store: (any StateStore)?
        do { store = try await stateOptions.openReadOnly(console) } catch {
            console.err("error: \(error)\n")
            return 1
        }
        var out = ""
        let conditions = try await store?.conditions(of: id) ?? []
        if paths.isEmpty {
            out +=
                "No controller asked (give --controller URL or set SETPOINT_CONTROLLER) and no manifests given: "
                + "only what the state records.\n"
        } else {
            out +=
                "No controller asked (give --controller URL or set SETPOINT_CONTROLLER): planned afresh from "
                + paths.joined(separator: ", ") + ".\n"
        }
        out += "\(id)\n"
        if conditions.isEmpty {
            out += "  no conditions in the state \(stateOptions.location) (a leading controller records them)\n"
        } else {
            out += "  conditions the leading controller recorded (state \(stateOptions.location)):\n"
            out += Self.conditionLines(conditions).split(separator: "\n").map { "  " + $0 + "\n" }.joined()
        }
        var status =
            conditions.first { $0.type == .ready }.map { $0.status == .isTrue ? "converged" : "unknown" }
            ?? "unknown"
        if !paths.isEmpty {
            let runtime = CLIRuntime.current ?? .shipped
            let session = PlanSession(console: console, runtime: runtime, paths: paths)
            guard let set = await session.load() else { return 1 }
            guard session.checkTargets([id], in: set) else { return 1 }
            let plan = try await session.plan(set, store: store, options: PlanOptions(targets: [id]))
            let mine = plan.actions.filter { $0.resource == id && $0.verb != .noop }
            let problems = plan.diagnostics.filter { $0.resource == id && $0.severity == .error }
            if !problems.isEmpty {
                out += "  now: it could not be observed or planned (planned afresh):\n"
                for d in problems { out += "    \(d.code.rawValue): \(d.summary)\n" }
                status = "unobserved"
            } else if mine.isEmpty {
                out += "  now: observed equal to its manifest (no action planned)\n"
                status = "converged"
            } else {
                status = "changes"
                out += "  now (planned afresh):\n"
                for a in mine {
                    out += "    \(a.id) (impact \(a.impact.rawValue)\(a.requiresApproval ? ", needs approval" : ""))\n"
                    for c in a.changes {
                        out +=
                            "      \(c.path): \(Self.show(c.before, c.isSensitive)) → \(Self.show(c.after, c.isSensitive))\n"
                    }
                    for reason in a.reasons { out += "      because \(reason)\n" }
                    let others = a.dependsOn.filter { $0.resource != id }
                    if !others.isEmpty {
                        out += "      waits for: \(others.map(\.description).joined(separator: ", "))\n"
                    }
                }
            }
            for d in plan.diagnostics where d.resource == nil || (d.resource == id && d.severity != .error) {
                out += "  \(d.severity): \(d.summary)\n"
            }
        }
        if let store {
            if let last = try await Self.lastOutcome(of: id, in: store) {
                out +=
                    "  last action: \(last.entry.actionID?.description ?? "?") \(last.entry.result ?? "") at \(last.entry.time) "
                    + "by \(last.entry.actor) (audit #\(last.seq))"
                    + (Self.errorText(last.entry.detail).map { ": \($0)" } ?? "") + "\n"
            }
            for p in try await store.storedPlans(status: .pending)
            where p.plan?.actions.contains(where: { $0.resource == id && $0.requiresApproval }) == true {
                out += "  waits for approval in plan \(p.id) (pending since \(p.createdAt))\n"
                status = "waiting"
                out += "What to do: " + ResourceAdvice.text(status: status, pendingPlan: p.id, error: nil) + "\n"
                console.out(out)
                return 0
            }
        }
        out += "What to do: " + ResourceAdvice.text(status: status, pendingPlan: nil, error: nil) + "\n"
        console.out(out)
        return 0
    }

    static func show(_ value: Value?, _ sensitive: Bool) -> String {
        guard let value else { return "(none)" }
        return sensitive ? "(sensitive)" : "\(value)"
    }

    static func errorText(_ detail: Value) -> String? {
        if case .map(let m) = detail, case .string(let e)? = m["error"] { return e }
        return nil
    }

    /// The newest `outcome` record of an action on the resource.
    static func lastOutcome(of id: ResourceID, in store: any StateStore) async throws -> AuditRecord? {
        var after: Int64 = 0
        var last: AuditRecord?
        while true {
            let page = try await store.auditRecords(after: after, limit: 1000)
            for r in page where r.entry.event == .outcome && (r.entry.resource ?? r.entry.actionID?.resource) == id {
                last = r
            }
            guard let tail = page.last, page.count == 1000 else { return last }
            after = tail.seq
        }
    }
}
