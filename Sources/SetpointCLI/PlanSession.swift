import Foundation
import SetpointCore
import SetpointEngine
import SetpointManifest
import SetpointRender
import SetpointState

/// Load → observe → plan, shared by `plan` and `apply`.
struct PlanSession {
    let console: Console
    let runtime: CLIRuntime
    let paths: [String]

    var style: TerminalStyle { TerminalStyle.detect(isTerminal: console.isTerminal, environment: console.environment) }

    /// Loads the manifests, runs the providers' own checks (promtool …); prints their diagnostics. Nil when they are invalid.
    func load() async -> ManifestSet? {
        var set = ManifestLoader().load(paths: paths)
        if set.isValid {
            set.diagnostics += await ProviderChecks.run(
                set.resources,
                providers: runtime.providers,
                context: context(set)
            )
        }
        let problems = set.diagnostics.filter { $0.severity != .note }
        if !problems.isEmpty {
            console.err(DiagnosticTextRenderer(style: style, sourceLine: SourceLines().line).render(problems))
        }
        return set.isValid ? set : nil
    }

    func registry() throws -> ProviderRegistry { try ProviderRegistry(runtime.providers) }

    /// `--target` must name declared resources: a typo would otherwise plan nothing and look like "no changes".
    func checkTargets(_ targets: [ResourceID], in set: ManifestSet) -> Bool {
        let missing = targets.filter { set.resource($0) == nil }
        guard !missing.isEmpty else { return true }
        console.err(
            "error: --target " + missing.map(\.description).joined(separator: ", ")
                + " is not declared in the manifests\n"
        )
        return false
    }

    /// The providers' context; `set` gives them the declared resources (to read referenced ones), `store` the host
    /// keys trusted on first use (read-only: read, never trusted anew).
    func context(_ set: ManifestSet? = nil, store: (any StateStore)? = nil, actor: String? = nil) -> ProviderContext {
        ProviderContext(
            secrets: runtime.secrets,
            clock: runtime.clock,
            log: SwiftLogProviderLog(logger: CLILog.logger("provider")),
            declared: Dictionary((set?.resources ?? []).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a }),
            hosts: runtime.hosts,
            hostKeys: store.map {
                StoredHostKeys(
                    store: $0,
                    audit: AuditTrail(log: $0, actor: actor ?? AuditTrail.defaultActor, clock: runtime.clock)
                )
            }
        )
    }

    func plan(_ set: ManifestSet, store: (any StateStore)?, options: PlanOptions) async throws -> Plan {
        try await planAndObservations(set, store: store, options: options).plan
    }

    func pipeline(store: (any StateStore)?, set: ManifestSet? = nil) throws -> PlanPipeline {
        PlanPipeline(
            registry: try registry(),
            context: context(set, store: store),
            store: store,
            fingerprint: SecretFingerprints.make(runtime.secrets)
        )
    }

    func planAndObservations(
        _ set: ManifestSet,
        store: (any StateStore)?,
        options: PlanOptions
    ) async throws
        -> (plan: Plan, observed: [ResourceID: Observation])
    {
        let source = Plan.Source(paths: paths, gitCommit: GitHead.commit(for: paths), manifestDigest: "")
        return try await pipeline(store: store, set: set).planAndObservations(
            set.resources,
            options: options,
            source: source,
            createdAt: Timestamp.seconds(runtime.clock.now)
        )
    }
}
