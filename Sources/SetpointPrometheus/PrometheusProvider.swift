import Foundation
import SetpointCore
import SetpointExec
import SetpointHTTP
import SetpointRemote

/// The monitoring provider: `PrometheusServer` (referenced), `AlertRuleGroup` (one rule file each), `AlertRouting`
/// (one Alertmanager's configuration). Rules and routing are checked with promtool and amtool before anything is
/// planned, and count as applied only once the server shows them loaded.
public struct PrometheusProvider: Provider, ManifestChecking {
    public let kinds: [ResourceKind] = [.prometheusServer, .alertRuleGroup, .alertRouting]
    let client = HTTPClient(connections: 4)
    let checks: ToolChecks

    public init(
        runner: any CommandRunner = LocalRunner(),
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        checks = ToolChecks(runner: runner, environment: environment)
    }

    public func fieldPolicy(for kind: ResourceKind) -> FieldPolicy {
        var p = FieldPolicy()
        switch kind {
        case .alertRuleGroup:
            return RuleFields.policy
        case .alertRouting:
            p.rule("alertmanager", comparison: .ignore)
            p.defaultImpact = .hot
        default:
            p.rule("*", comparison: .ignore)
        }
        return p
    }

    public func concurrencyDomains(for action: Action) -> [ConcurrencyDomain] {
        switch action.resource.kind {
        case .alertRuleGroup: [ConcurrencyDomain("prometheus:\(action.desired?["prometheus"]?.stringValue ?? "?")")]
        case .alertRouting:
            [
                ConcurrencyDomain(
                    "alertmanager:\(action.desired?["alertmanager"]?["url"]?.stringValue ?? action.resource.name)"
                )
            ]
        default: []
        }
    }

    func api(timeout: DurationValue?) -> MonitoringAPI {
        MonitoringAPI(client: client, timeout: timeout?.duration ?? .seconds(10))
    }

    func server(named name: String?, context: ProviderContext, for id: ResourceID) throws -> PrometheusServerSpec {
        let names = context.declared.keys.filter { $0.kind == .prometheusServer }.map(\.name)
        guard let name = name ?? (names.count == 1 ? names.first : nil),
            let declared = context.declared[ResourceID(kind: .prometheusServer, name: name)]
        else {
            throw SetpointError(.observeFailed, "no PrometheusServer declared for \(id)", resource: id)
        }
        return try declared.decodeSpec(PrometheusServerSpec.self)
    }

    public func observe(
        _ resources: [ResolvedResource],
        in context: ProviderContext
    ) async throws -> [ResourceID: Observation] {
        var out: [ResourceID: Observation] = [:]
        var groupsByServer: [String: [ResolvedResource]] = [:]
        for r in resources {
            switch r.id.kind {
            case .prometheusServer:
                do {
                    let spec = try r.resource.decodeSpec(PrometheusServerSpec.self)
                    let api = try await api(timeout: spec.requestTimeout).reaching(
                        spec.url,
                        on: spec.runsOn,
                        context: context,
                        for: r.id
                    )
                    let version = try await api.buildVersion(
                        spec.url.hasSuffix("/") ? String(spec.url.dropLast()) : spec.url
                    )
                    context.log.log(
                        .debug,
                        "Prometheus \(version) at \(spec.url)",
                        metadata: ["resource": r.id.description]
                    )
                    out[r.id] = .present(ObservedResource(spec: r.resource.spec, providerID: spec.url))
                } catch {
                    out[r.id] = .failed("\(error)")
                }
            case .alertRuleGroup:
                groupsByServer[await residence(of: r, context: context), default: []].append(r)
            default:
                do {
                    let timeout = (try? r.resource.decodeSpec(AlertRoutingSpec.self))?.alertmanager.requestTimeout
                    out[r.id] = try await Routings(api: api(timeout: timeout), context: context).observe(r)
                } catch {
                    out[r.id] = .failed("\(error)")
                }
            }
        }
        for (name, batch) in groupsByServer {
            do {
                let server = try server(named: name.isEmpty ? nil : name, context: context, for: batch[0].id)
                let groups = try await RuleGroups(
                    api: api(timeout: server.requestTimeout),
                    server: server,
                    context: context,
                    for: batch[0].id
                )
                out.merge(try await groups.observe(batch, serverName: name)) { a, _ in a }
            } catch {
                for r in batch { out[r.id] = .failed("PrometheusServer/\(name): \(error)") }
            }
        }
        return out
    }

    /// The server a group is observed on: where Setpoint last put it while its file is still there (a group the manifest
    /// moved to another server shows as a replacement), else the one the manifest names.
    func residence(of r: ResolvedResource, context: ProviderContext) async -> String {
        let wanted = r.resource.spec["prometheus"]?.stringValue ?? r.lastApplied?["prometheus"]?.stringValue ?? ""
        guard let last = r.lastApplied?["prometheus"]?.stringValue, last != wanted,
            let old = try? server(named: last, context: context, for: r.id),
            let files = try? await context.host(old.runsOn, for: r.id).files,
            (try? await files.stat(RuleFiles.path(group: r.id.name, rulesDirectory: old.rulesDirectory))) != nil
        else { return wanted }
        return last
    }

    public func apply(
        _ action: Action,
        resource: ResolvedResource?,
        in context: ProviderContext
    ) async throws -> Observation {
        switch action.resource.kind {
        case .alertRuleGroup:
            let name =
                resource?.resource.spec["prometheus"]?.stringValue ?? resource?.lastApplied?["prometheus"]?.stringValue
            if action.verb == .replace, let old = resource?.lastApplied?["prometheus"]?.stringValue, old != name {
                // Moved to another server: removed from the old one first, so the group never runs twice.
                let oldServer = try server(named: old, context: context, for: action.resource)
                let oldGroups = try await RuleGroups(
                    api: api(timeout: oldServer.requestTimeout),
                    server: oldServer,
                    context: context,
                    for: action.resource
                )
                try await oldGroups.apply(
                    Action(resource: action.resource, verb: .delete),
                    resource: nil,
                    checks: checks
                )
            }
            let server = try server(named: name, context: context, for: action.resource)
            let groups = try await RuleGroups(
                api: api(timeout: server.requestTimeout),
                server: server,
                context: context,
                for: action.resource
            )
            try await groups.apply(action, resource: action.verb == .delete ? nil : resource?.resource, checks: checks)
            if action.verb == .delete { return .absent }
            return .present(ObservedResource(spec: .map([:]), providerID: groups.path(action.resource.name)))
        case .alertRouting:
            let timeout = (try? resource?.resource.decodeSpec(AlertRoutingSpec.self))?.alertmanager.requestTimeout
            try await Routings(api: api(timeout: timeout), context: context).apply(
                action,
                resource: resource?.resource,
                checks: checks
            )
            return .present(
                ObservedResource(
                    spec: .map([:]),
                    providerID: resource?.resource.spec["alertmanager"]?["url"]?.stringValue
                )
            )
        default:
            return .present(ObservedResource(spec: .map([:])))
        }
    }

    // MARK: - checks before planning

    public func check(_ resources: [Resource], in context: ProviderContext) async -> [Diagnostic] {
        var out: [Diagnostic] = []
        for r in resources.sorted(by: { ($0.location.file, $0.location.line) < ($1.location.file, $1.location.line) }) {
            switch r.id.kind {
            case .alertRuleGroup: out += await checkRules(r)
            case .alertRouting: out += await checkRouting(r)
            default: break
            }
        }
        return out
    }

    func checkRules(_ r: Resource) async -> [Diagnostic] {
        guard let promtool = checks.which("promtool") else {
            return [checks.missing("promtool", package: "prometheus", for: r)]
        }
        guard let spec = try? r.decodeSpec(AlertRuleGroupSpec.self) else { return [] }
        let text = RuleFiles.render(group: r.id.name, spec: r.spec)
        do {
            let result = try await checks.run(
                promtool,
                ["check", "rules"],
                text: text,
                fileName: "\(RuleFiles.prefix)\(r.id.name).yml"
            )
            if result.ok { return [] }
            return ToolChecks.ruleErrors(result.output).map { rule, message in
                var at = r.location
                if let rule, rule >= 0, rule < spec.rules.count {
                    let key = message.contains("expression") || message.contains("parse") ? "expr" : nil
                    var path: [FieldPath.Component] = [.key("spec"), .key("rules"), .index(rule)]
                    if let key { path.append(.key(key)) }
                    at = r.location(of: FieldPath(path))
                }
                return Diagnostic(
                    .error,
                    .toolRejected,
                    "promtool check rules: \(message)",
                    hint: "fix the rule; nothing is written while promtool rejects the group",
                    at: at,
                    resource: r.id
                )
            }
        } catch {
            return [
                Diagnostic(
                    .error,
                    .toolRejected,
                    "promtool could not run: \(error)",
                    hint: "check the promtool installation",
                    at: r.location,
                    resource: r.id
                )
            ]
        }
    }

    /// amtool's reason: the text after `FAILED:` on its `Checking 'FILE'  FAILED: …` line, else its other lines.
    static func amtoolReason(_ output: String) -> String {
        let lines = output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let reasons = lines.compactMap { line -> String? in
            guard let r = line.range(of: "FAILED:") else { return nil }
            let text = line[r.upperBound...].trimmingCharacters(in: .whitespaces)
            return text.isEmpty ? nil : text
        }
        if !reasons.isEmpty { return reasons.joined(separator: "; ") }
        return lines.filter { !$0.hasPrefix("Checking") }.joined(separator: "; ")
    }

    func checkRouting(_ r: Resource) async -> [Diagnostic] {
        guard let amtool = checks.which("amtool") else {
            return [checks.missing("amtool", package: "prometheus-alertmanager", for: r)]
        }
        guard (try? r.decodeSpec(AlertRoutingSpec.self)) != nil,
            // Secrets are not needed to check the shape: stand-ins of the right kind take their place.
            let text = try? RoutingConfig.render(
                r.id.name,
                spec: r.spec,
                secret: { _, path in
                    path.hasSuffix("apiURL") || path.hasSuffix("urlSecret")
                        ? "https://secret.invalid/placeholder" : "placeholder-secret"
                }
            )
        else { return [] }
        do {
            let result = try await checks.run(amtool, ["check-config"], text: text, fileName: "alertmanager.yml")
            if result.ok { return [] }
            return [
                Diagnostic(
                    .error,
                    .toolRejected,
                    "amtool check-config: " + Self.amtoolReason(result.output),
                    hint: "fix the routing; nothing is written while amtool rejects it",
                    at: r.location,
                    resource: r.id
                )
            ]
        } catch {
            return [
                Diagnostic(
                    .error,
                    .toolRejected,
                    "amtool could not run: \(error)",
                    hint: "check the amtool installation",
                    at: r.location,
                    resource: r.id
                )
            ]
        }
    }
}
