import Foundation
import SetpointCore
import SetpointExec
import SetpointRemote

/// The backup provider: `BackupPolicy` — pgBackRest configuration, stanza and WAL archiving of a PostgresCluster,
/// backups, restores and drills. It reads the cluster's manifest, never the PostgreSQL provider.
public struct BackupProvider: Provider {
    public let kinds: [ResourceKind] = [.backupPolicy]
    let runner: any CommandRunner

    public init(runner: any CommandRunner = LocalRunner()) {
        self.runner = runner
    }

    public func fieldPolicy(for kind: ResourceKind) -> FieldPolicy { BackupFields.policy }

    /// The cluster's domain, shared with the PostgresCluster provider: a restart never meets a switchover.
    public func concurrencyDomains(for action: Action) -> [ConcurrencyDomain] {
        guard let cluster = action.desired?["cluster"]?.stringValue else { return [] }
        return [ConcurrencyDomain("pg:\(cluster)")]
    }

    func settings(_ resource: Resource, _ context: ProviderContext) throws -> BackupSettings {
        try BackupSettings(resource, declared: context.declared, secrets: context.secrets)
    }

    /// The policy's settings and where its parts run (the Hosts reached through the run's sessions).
    func hosts(_ resource: Resource, _ context: ProviderContext) async throws -> BackupHosts {
        try await BackupHosts.resolve(
            try settings(resource, context),
            context: context,
            local: local
        )
    }

    /// This machine, with the provider's runner.
    var local: HostAccess { HostAccess(host: nil, address: nil, runner: runner, files: LocalFiles()) }

    public func observe(
        _ resources: [ResolvedResource],
        in context: ProviderContext
    ) async throws -> [ResourceID: Observation] {
        await withTaskGroup(of: (ResourceID, Observation).self) { group in
            for r in resources {
                group.addTask {
                    // An owned policy no manifest declares any more: its cluster's manifest may be gone too; it still exists
                    // (Setpoint never deletes one), nothing more is known.
                    guard !r.resource.isOrphan else {
                        return (r.id, .present(ObservedResource(spec: .map([:]), providerID: r.providerID)))
                    }
                    do {
                        let h = try await hosts(r.resource, context)
                        return (
                            r.id,
                            BackupObservation.observe(
                                h.settings,
                                facts: await BackupFacts.gather(h, clock: context.clock),
                                now: context.clock.now
                            )
                        )
                    } catch {
                        return (r.id, .failed("\(error)"))
                    }
                }
            }
            var out: [ResourceID: Observation] = [:]
            for await (id, o) in group { out[id] = o }
            return out
        }
    }

    public func apply(
        _ action: Action,
        resource: ResolvedResource?,
        in context: ProviderContext
    ) async throws -> Observation {
        if action.verb == .delete {
            throw SetpointError(
                .applyFailed,
                "Setpoint does not remove a backup policy on its own: its cluster archives WAL through it, and "
                    + "turning that off without a restart leaves WAL piling up. Declare the policy again, or stop archiving yourself "
                    + "(ALTER SYSTEM SET archive_mode = off; restart) and then remove it from state with `setpoint state rm`",
                resource: action.resource
            )
        }
        guard let resource, !resource.resource.isOrphan else {
            throw SetpointError(.applyFailed, "no manifest declares it", resource: action.resource)
        }
        let h = try await hosts(resource.resource, context)
        let applier = BackupApplier(hosts: h, context: context)
        if action.verb == .restart {
            try await applier.restart()
        } else {
            try await applier.converge()
        }
        return .present(ObservedResource(spec: .map([:]), providerID: h.settings.stanza))
    }

    // MARK: - operations

    /// One backup now (or logical dumps). Never throws for a failed backup: the run says it failed.
    public func backup(
        _ policy: Resource,
        type: BackupRun.Kind,
        trigger: String,
        in context: ProviderContext
    ) async throws -> BackupRun {
        let h = try await hosts(policy, context)
        return await BackupRunner(hosts: h, clock: context.clock).run(type, trigger: trigger)
    }

    /// Restores into `directory` on the Host `on` names (this machine when nil) and leaves the copy running on its
    /// loopback `port` (`pg_ctl -D DIR stop` ends it).
    public func restore(
        _ policy: Resource,
        to directory: String,
        port: Int,
        target: RecoveryTarget?,
        on runsOn: String? = nil,
        in context: ProviderContext
    ) async throws
        -> RestoreReport
    {
        let h = try await hosts(policy, context)
        if runsOn != nil, h.places.isEmpty {
            throw SetpointError(
                .applyFailed,
                "a restore on Host/\(runsOn!) reaches the repository through pgBackRest's TLS server: give the policy "
                    + "spec.repository.runsOn and spec.tls (docs/backups.md, backups across hosts)",
                resource: policy.id
            )
        }
        let host = runsOn == nil ? local : try await context.host(runsOn, for: policy.id)
        return try await Restorer(hosts: h, host: host, clock: context.clock).restore(
            to: directory,
            port: port,
            target: target
        )
    }

    /// A restore drill into the policy's scratch directory and port, torn down afterwards.
    public func drill(
        _ policy: Resource,
        target: RecoveryTarget?,
        trigger: String,
        in context: ProviderContext
    ) async throws -> BackupRun {
        let h = try await hosts(policy, context)
        let runsOn = h.settings.spec.drill?.runsOn
        let host = runsOn == nil ? local : try await context.host(runsOn, for: policy.id)
        return await Restorer(hosts: h, host: host, clock: context.clock).drill(target: target, trigger: trigger)
    }

    /// Objectives against actuals, with the runs the state store holds (newest first).
    public func status(
        _ policy: Resource,
        runs: [BackupRun],
        in context: ProviderContext
    ) async throws -> BackupStatusReport {
        let h = try await hosts(policy, context)
        let s = h.settings
        let facts = await BackupFacts.gather(h, clock: context.clock)
        var report = BackupCompliance(
            settings: s,
            info: facts.info,
            probe: facts.probe,
            runs: runs,
            now: context.clock.now
        )
        .report()
        if let e = facts.probeError { report.violations.insert("cannot read the cluster: \(e)", at: 0) }
        report.violations.insert(contentsOf: facts.hostDrift.map { "not as Setpoint writes it: \($0)" }, at: 0)
        if let e = facts.configError {
            report.violations.insert("cannot read the pgBackRest configuration \(s.configFile): \(e)", at: 0)
        } else if facts.configText == nil {
            report.violations.insert("no pgBackRest configuration at \(s.configFile): apply the policy", at: 0)
        } else if let e = facts.infoError {
            report.violations.insert("pgbackrest info failed: \(e)", at: 0)
        }
        return report
    }
}
