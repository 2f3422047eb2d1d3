import Foundation
import SetpointCore
import SetpointExec
import SetpointRemote

/// Observing and applying AlertRuleGroups: the file Setpoint owns, and what Prometheus has loaded from it.
struct RuleGroups: Sendable {
    let api: MonitoringAPI
    let server: PrometheusServerSpec
    let context: ProviderContext
    /// Prometheus' host: where the rule files are and promtool runs.
    let access: HostAccess

    init(api: MonitoringAPI, server: PrometheusServerSpec, context: ProviderContext, for id: ResourceID) async throws {
        self.api = try await api.reaching(server.url, on: server.runsOn, context: context, for: id)
        self.server = server
        self.context = context
        access = try await context.host(server.runsOn, for: id)
    }

    /// The rules folder's files, as its owner (Prometheus' user) unless that is root.
    func files() async throws -> any HostFiles { try await access.filesOwning(server.rulesDirectory) }

    var base: String { server.url.hasSuffix("/") ? String(server.url.dropLast()) : server.url }

    func path(_ group: String) -> String { RuleFiles.path(group: group, rulesDirectory: server.rulesDirectory) }

    /// Every group at once: one `/api/v1/rules`, one file read each.
    func observe(_ resources: [ResolvedResource], serverName: String) async throws -> [ResourceID: Observation] {
        let loaded = try await api.rules(base)
        let files = access.files
        var out: [ResourceID: Observation] = [:]
        for r in resources {
            let name = r.id.name
            let file = path(name)
            let group = loaded.first { $0.file == file && $0.name == name }
            let text = try await files.read(file)
            // Without reloads, the file alone says whether the group exists (Prometheus may still run a deleted one).
            guard text != nil || (group != nil && (server.reload ?? true)) else {
                out[r.id] = .absent
                continue
            }
            var spec: [String: Value] = [:]
            if case .map(let m) = r.resource.spec { spec = m }
            // The server it was found on: a group the manifest moved elsewhere shows its old server, a replacement.
            if !serverName.isEmpty { spec["prometheus"] = .string(serverName) }
            let fromFile = text.flatMap { RuleFiles.read($0, file: file) } ?? [:]
            let fromServer = group.map(Self.shape) ?? [:]
            let wanted = RuleFiles.render(group: name, spec: r.resource.spec)
            // The file is what Setpoint wrote; the server is what runs. A file that is not what the manifest renders (a
            // hand edit waiting for the next reload) is shown as it is; a file Prometheus has not loaded shows the
            // server's version, so the plan rewrites and reloads — unless Setpoint does not reload this server.
            let reloads = server.reload ?? true
            let shown: [String: Value]
            if text == nil {
                shown = fromServer
            } else if text != wanted || !reloads || (group != nil && Self.agrees(fromFile, group!)) {
                shown = fromFile
            } else {
                shown = fromServer
            }
            for key in ["interval", "limit", "rules"] { spec[key] = nil }
            spec.merge(shown) { _, new in new }
            if spec["rules"] == nil { spec["rules"] = .list([]) }
            var warnings: [String] = []
            if !reloads, let group, text != nil, !Self.agrees(fromFile, group) {
                warnings.append(
                    "\(file) is written but Prometheus has not loaded it yet (reload: false): reload Prometheus"
                )
            }
            for rule in group?.rules ?? [] where rule.health == "err" {
                warnings.append("rule \(rule.name) fails to evaluate: \(rule.lastError ?? "no error given")")
            }
            out[r.id] = .present(
                ObservedResource(spec: .map(spec), providerID: file, warnings: warnings.isEmpty ? nil : warnings)
            )
        }
        return out
    }

    /// A loaded group in the manifest's shape (queries as Prometheus prints them).
    static func shape(_ g: MonitoringAPI.LoadedGroup) -> [String: Value] {
        var out = RuleFields.fromServer(RuleFields.group, g)
        out["rules"] = .list(g.rules.map { .map(RuleFields.fromServer(RuleFields.rule, $0)) })
        return out
    }

    /// The loaded group is the file's: the same rules in order, with the same fields where Prometheus shows them as
    /// written (queries are compared through the file: Prometheus prints them in its own form), and the same limit.
    static func agrees(_ file: [String: Value], _ g: MonitoringAPI.LoadedGroup) -> Bool {
        let server = shape(g)
        guard case .list(let a)? = file["rules"], case .list(let b)? = server["rules"], a.count == b.count else {
            return false
        }
        let compared = RuleFields.rule.rows.filter { !$0.mapping.reprinted }.map(\.path)
        for (x, y) in zip(a, b) {
            for key in compared where x[key] != y[key] { return false }
        }
        return file["limit"].map { $0 == server["limit"] } ?? true
    }

    // MARK: apply

    /// Writes the group's file (the previous one kept until the reload works), reloads, and waits until Prometheus
    /// shows the group with its rules. A reload that fails puts Setpoint's previous file back; when the failure comes
    /// from a file Setpoint does not own, the error names it and Setpoint stops there.
    func apply(_ action: Action, resource: Resource?, checks: ToolChecks) async throws {
        let id = action.resource
        let name = id.name
        let file = path(name)
        let files = try await files()
        guard server.reload ?? true || action.verb != .delete else {
            try await files.remove(file)
            return
        }
        func fail(_ message: String, transient: Bool = false) -> SetpointError {
            SetpointError(.applyFailed, message, resource: id, isTransient: transient)
        }
        let previous = try await files.read(file)
        var expected: [String] = []
        if action.verb == .delete {
            try await files.remove(file)
        } else {
            guard let resource else { throw fail("no manifest for \(id)") }
            let spec = try resource.decodeSpec(AlertRuleGroupSpec.self)
            let text = RuleFiles.render(group: name, spec: resource.spec)
            expected = spec.rules.map { $0.alert ?? $0.record ?? "" }
            if let result = try await checks.run(
                on: access,
                "promtool",
                ["check", "rules"],
                text: text,
                fileName: "\(RuleFiles.prefix)\(name).yml"
            ), !result.ok {
                throw fail(
                    "promtool\(access.isLocal ? "" : " on \(access.name)") refused the rule file; nothing was written:\n\(result.output)"
                )
            }
            if previous != text {
                do { try await files.write(text, to: file, mode: 0o644, private: false) } catch {
                    throw fail("\(error)")
                }
            }
        }
        guard server.reload ?? true else { return }
        if let refused = try await api.reload(base) {
            // Undo ours, then find out whose file breaks the reload.
            if let previous {
                try? await files.write(previous, to: file, mode: 0o644, private: false)
            } else if action.verb != .delete {
                try? await files.remove(file)
            }
            let second = try await api.reload(base)
            let culprits = await foreignCulprits(checks: checks)
            var message = "Prometheus refused to reload (\(refused)); Setpoint's file \(file) was put back as it was"
            if !culprits.isEmpty {
                message +=
                    ". The rules folder holds files Setpoint does not own that promtool rejects:\n"
                    + culprits.map { "  \($0.file): \($0.output)" }.joined(separator: "\n")
                    + "\nfix or remove them (Setpoint never touches them), then apply again"
            } else if second != nil, !refused.contains("lifecycle") {
                message += "; the reload fails without Setpoint's change too: see Prometheus' log"
            }
            throw fail(message)
        }
        try await waitLoaded(name: name, file: file, rules: expected, deleted: action.verb == .delete)
    }

    /// Files in the rules folder that are not Setpoint's and that promtool rejects.
    func foreignCulprits(checks: ToolChecks) async -> [(file: String, output: String)] {
        guard let names = try? await access.files.list(server.rulesDirectory) else { return [] }
        var out: [(String, String)] = []
        for n in names.sorted() where !RuleFiles.isOurs(n) && (n.hasSuffix(".yml") || n.hasSuffix(".yaml")) {
            let f = "\(server.rulesDirectory)/\(n)"
            guard let text = try? await access.files.read(f),
                let r = try? await checks.run(on: access, "promtool", ["check", "rules"], text: text, fileName: n),
                !r.ok
            else { continue }
            let lines = r.output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty && !$0.hasPrefix("Checking") && $0 != "FAILED:" }
            out.append((f, lines.joined(separator: "; ").replacingOccurrences(of: "\(n): ", with: "")))
        }
        return out
    }

    /// Until `/api/v1/rules` shows the group from its file with these rule names (or no longer shows it).
    func waitLoaded(name: String, file: String, rules: [String], deleted: Bool) async throws {
        let deadline = context.clock.elapsed + .seconds(30)
        var seen = "nothing"
        while context.clock.elapsed < deadline {
            let groups = try await api.rules(base)
            let g = groups.first { $0.file == file && $0.name == name }
            if deleted {
                if g == nil { return }
                seen = "the group still loaded"
            } else if let g {
                let names = g.rules.map(\.name)
                if names == rules { return }
                seen = "rules \(names.joined(separator: ", "))"
            }
            try await context.clock.sleep(for: .milliseconds(100))
        }
        throw SetpointError(
            .notConverged,
            "Prometheus shows \(seen) for group \(name) from \(file) 30 s after the reload; expected "
                + (deleted ? "no such group" : "rules \(rules.joined(separator: ", "))"),
            isTransient: true
        )
    }
}
