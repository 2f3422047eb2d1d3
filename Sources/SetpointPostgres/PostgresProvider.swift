import Foundation
import SetpointCore
import SetpointExec
import SetpointRemote

/// The PostgreSQL provider: `PostgresCluster` (the primary referenced, replicas managed) and `ConnectionPool`
/// (PgBouncer's databases and pool settings), over libpq, PgBouncer's admin console and the PostgreSQL tools.
public struct PostgresProvider: Provider {
    public let kinds: [ResourceKind] = [.postgresCluster, .connectionPool]

    public init() {}

    public func fieldPolicy(for kind: ResourceKind) -> FieldPolicy {
        kind == .connectionPool ? PoolFields.policy : ClusterPolicy.make()
    }

    public func concurrencyDomains(for action: Action) -> [ConcurrencyDomain] {
        if action.resource.kind == .postgresCluster { return [ConcurrencyDomain("pg:\(action.resource.name)")] }
        if let file = action.desired?["pgbouncer"]?["databasesFile"]?.stringValue {
            return [ConcurrencyDomain("pgbouncer:\(file)")]
        }
        return []
    }

    public func observe(
        _ resources: [ResolvedResource],
        in context: ProviderContext
    ) async throws -> [ResourceID: Observation] {
        await withTaskGroup(of: (ResourceID, Observation).self) { group in
            for r in resources {
                group.addTask { (r.id, await observeOne(r, context: context, adopting: false)) }
            }
            var out: [ResourceID: Observation] = [:]
            for await (id, o) in group { out[id] = o }
            return out
        }
    }

    /// `setpoint import PostgresCluster/NAME` adopts a running primary; the id is its system identifier.
    public func lookup(_ resource: Resource, id: String?, in context: ProviderContext) async throws -> Observation {
        await observeOne(ResolvedResource(resource: resource, providerID: id), context: context, adopting: true)
    }

    func observeOne(_ r: ResolvedResource, context: ProviderContext, adopting: Bool) async -> Observation {
        do {
            if r.id.kind == .connectionPool { return try await PoolObserver.observe(r, context: context) }
            let view = try await view(of: r, context: context)
            defer { view.close() }
            return ClusterObservation.observe(
                view,
                desired: r.resource.spec,
                lastApplied: r.lastApplied,
                providerID: r.providerID,
                adopting: adopting
            )
        } catch {
            return .failed("\(error)")
        }
    }

    /// Every member of a cluster, the ones the last apply had and the manifest no longer has included.
    func view(of r: ResolvedResource, context: ProviderContext) async throws -> ClusterView {
        let settings: ClusterSettings
        if r.resource.isOrphan, let last = r.lastApplied {
            settings = try ClusterSettings(
                name: r.id.name,
                spec: ValueDecoder().decode(PostgresClusterSpec.self, from: last),
                secrets: context.secrets,
                hostAddress: context.address(ofHost:)
            )
        } else {
            settings = try ClusterSettings(r.resource, secrets: context.secrets, hostAddress: context.address(ofHost:))
        }
        let declared = Set(settings.members.map(\.name))
        let removed = ClusterSettings.members(of: r.lastApplied, hostAddress: context.address(ofHost:)).filter {
            !declared.contains($0.name)
        }
        // The manifest's parameters, the last apply's, and what the provider reads itself (pg_hba.conf's path, the
        // addresses the server listens on).
        var parameters = Array(settings.parameters.keys) + ["hba_file", "listen_addresses"]
        if case .map(let m)? = r.lastApplied?["parameters"] { parameters += m.keys }
        return await ClusterView.observe(
            settings,
            removed: removed,
            parameters: parameters,
            context: context,
            resource: r.id
        )
    }

    public func apply(
        _ action: Action,
        resource: ResolvedResource?,
        in context: ProviderContext
    ) async throws -> Observation {
        let resolved = resource ?? .orphan(action.resource, providerID: action.providerID)
        if action.resource.kind == .connectionPool {
            return try await PoolApplier.apply(action, resolved: resolved, context: context)
        }
        if action.verb == .delete {
            throw SetpointError(
                .applyFailed,
                "Setpoint does not delete a PostgreSQL cluster: its data would go with it. Stop its members "
                    + "yourself; Setpoint forgets it once no manifest declares it and nothing is pruned",
                resource: action.resource
            )
        }
        var view = try await view(of: resolved, context: context)
        if !view.stalePrimaries.isEmpty {
            // Before anything else: a primary from before a failover stops taking writes; then a fresh look.
            try await ClusterApplier(view: view, context: context, resource: action.resource).fenceStalePrimaries()
            view.close()
            view = try await self.view(of: resolved, context: context)
        }
        defer { view.close() }
        let applier = ClusterApplier(view: view, context: context, resource: action.resource)
        switch action.verb {
        case .switchover:
            let target = (action.desired ?? resolved.resource.spec)["primary"]?.stringValue ?? ""
            let h = try await applier.switchover(to: target)
            context.log.log(
                .notice,
                "switchover \(h.from) → \(h.to) in \(h.duration): " + h.steps.joined(separator: "; "),
                metadata: ["resource": action.resource.description]
            )
        case .restart:
            try await applier.restartPending()
        default:
            // create (adoption of an imported cluster) and update converge the same way.
            try await applier.converge(lastApplied: resolved.lastApplied)
        }
        let sysid = view.actualPrimary.flatMap { view.facts($0)?.systemIdentifier }
        return .present(ObservedResource(spec: .map([:]), providerID: sysid ?? resolved.providerID))
    }
}

/// What `setpoint postgres failover` did.
public struct FailoverReport: Sendable, Codable {
    public var cluster: String
    public var from: String
    public var to: String
    public var steps: [String]
    public var seconds: Double
}

extension PostgresProvider {
    /// Promotes `member` of a declared cluster whose primary is gone or must go: fences the old primary when it still
    /// runs here (stop), promotes, re-points the other replicas, sets synchronous replication over those that stream.
    public func failover(
        _ cluster: Resource,
        to member: String,
        in context: ProviderContext
    ) async throws -> FailoverReport {
        let view = try await view(of: ResolvedResource(resource: cluster), context: context)
        defer { view.close() }
        guard view.settings.member(member) != nil else {
            throw SetpointError(
                .applyFailed,
                "no member \(member): the members are "
                    + view.settings.members.map(\.name).joined(separator: ", "),
                resource: cluster.id
            )
        }
        let h = try await ClusterApplier(view: view, context: context, resource: cluster.id).failover(
            to: member
        )
        let seconds = h.duration.inSeconds
        return FailoverReport(cluster: cluster.id.name, from: h.from, to: h.to, steps: h.steps, seconds: seconds)
    }
}

/// What `setpoint postgres reinit` did.
public struct ReinitReport: Sendable, Codable {
    public var cluster: String
    public var member: String
    /// Where the member's old data directory was moved (kept, never deleted).
    public var keptAt: String
    public var seconds: Double
}

extension PostgresProvider {
    /// Re-makes a replica from the primary: stops it, moves its data directory aside (kept as
    /// `DIR.setpoint-reinit-TIMESTAMP`), drops its slot, and creates it again with pg_basebackup. For a replica that can no
    /// longer follow (a diverged timeline pg_rewind cannot mend, WAL the primary no longer has).
    public func reinitialize(
        _ cluster: Resource,
        member name: String,
        in context: ProviderContext
    ) async throws -> ReinitReport {
        let started = context.clock.elapsed
        let view = try await view(of: ResolvedResource(resource: cluster), context: context)
        defer { view.close() }
        let applier = ClusterApplier(view: view, context: context, resource: cluster.id)
        let primary = try applier.primaryName()
        guard let m = view.settings.member(name) else {
            throw applier.fail(
                "no member \(name): the members are " + view.settings.members.map(\.name).joined(separator: ", ")
            )
        }
        guard name != primary else {
            throw applier.fail(
                "\(name) is the primary: re-initialising it would destroy the cluster's only writable copy"
            )
        }
        guard let directory = m.dataDirectory else { throw applier.fail("member \(name) declares no dataDirectory") }
        let tools = try await applier.control(for: m)
        if view.facts(name) != nil { try await tools.stop(directory) }
        let stamp = Timestamp.seconds(context.clock.now).replacingOccurrences(of: ":", with: "")
        let kept = "\(directory).setpoint-reinit-\(stamp)"
        if try await tools.files.stat(directory) != nil {
            do { try await tools.files.move(directory, to: kept) } catch {
                throw applier.fail("cannot move \(directory) aside to \(kept): \(error)")
            }
        }
        // A copy an earlier run left (failed or lost) is not resumed: this one starts afresh.
        try await RemoteJob(access: tools.access, folder: ReplicaBuilder.jobFolder(directory), user: tools.osUser)
            .clear()
        let db = try applier.connection(primary)
        if view.settings.useSlots {
            try await MemberOperations(clock: context.clock).dropSlot(
                ReplicaSpec.slotName(name),
                on: db
            )
        }
        var fresh = view
        fresh.status[name] = .absent
        try await ClusterApplier(view: fresh, context: context, resource: cluster.id).bringIn(
            m,
            primary: primary
        )
        let d = context.clock.elapsed - started
        return ReinitReport(
            cluster: cluster.id.name,
            member: name,
            keptAt: kept,
            seconds: d.inSeconds
        )
    }
}
