import SetpointCore

/// The Proxmox VE provider: `ProxmoxCluster` (referenced), `VirtualMachine`, `Container`, `ResourcePool`,
/// `GuestBackupJob`, over the PVE HTTP API.
public struct ProxmoxProvider: Provider {
    public let kinds: [ResourceKind] = [.proxmoxCluster, .virtualMachine, .container, .resourcePool, .guestBackupJob]
    let connections = ClusterConnections()

    public init() {}

    /// Requests sent so far (the observation budget, the benchmark).
    public var requestCount: Int { connections.requestCount }

    public func fieldPolicy(for kind: ResourceKind) -> FieldPolicy {
        switch kind {
        case .virtualMachine: VirtualMachineFields.table.policy
        case .container: ContainerFields.table.policy
        case .resourcePool: GuestPolicies.pool()
        case .guestBackupJob: GuestPolicies.backupJob()
        default:
            // A referenced cluster: how to reach it, nothing to converge.
            {
                var p = FieldPolicy()
                p.rule("*", comparison: .ignore)
                return p
            }()
        }
    }

    /// The cluster a resource names; orphans (no spec) fall back to the only declared cluster.
    func clusterName(of r: ResolvedResource, context: ProviderContext) -> String? {
        if r.id.kind == .proxmoxCluster { return r.id.name }
        if let name = r.resource.spec["cluster"]?.stringValue { return name }
        let clusters = context.declared.keys.filter { $0.kind == .proxmoxCluster }
        return clusters.count == 1 ? clusters.first?.name : nil
    }

    public func observe(
        _ resources: [ResolvedResource],
        in context: ProviderContext
    ) async throws -> [ResourceID: Observation] {
        var byCluster: [String: [ResolvedResource]] = [:]
        var result: [ResourceID: Observation] = [:]
        for r in resources {
            guard let name = clusterName(of: r, context: context) else {
                result[r.id] = .failed("no ProxmoxCluster to look for it in: declare the cluster it lived in")
                continue
            }
            byCluster[name, default: []].append(r)
        }
        for (name, batch) in byCluster {
            let (api, spec) = try connections.connect(
                name,
                context: context,
                for: ResourceID(kind: .proxmoxCluster, name: name)
            )
            let guests = batch.filter { $0.id.kind == .virtualMachine || $0.id.kind == .container }
            let observer = GuestObserver(api: api, concurrency: spec.maxConcurrentRequests ?? 8)
            do {
                // One listing serves the guests and proves the cluster reachable and the token valid.
                let listed = try await observer.list()
                for r in batch where r.id.kind == .proxmoxCluster {
                    result[r.id] = .present(ObservedResource(spec: r.resource.spec, providerID: name))
                }
                let wanted = guests.compactMap { GuestObserver.vmid(of: $0).flatMap { listed[$0] } }
                let states = try await observer.states(wanted)
                for r in guests {
                    result[r.id] = GuestObserver.observation(
                        for: r,
                        kind: r.id.kind == .virtualMachine ? .qemu : .lxc,
                        listed: listed,
                        states: states
                    )
                }
                let pools = batch.filter { $0.id.kind == .resourcePool }
                if !pools.isEmpty { result.merge(try await PoolsAndJobs.observePools(pools, api: api)) { a, _ in a } }
                let jobs = batch.filter { $0.id.kind == .guestBackupJob }
                if !jobs.isEmpty { result.merge(try await PoolsAndJobs.observeJobs(jobs, api: api)) { a, _ in a } }
            } catch let error as PVEAPIError {
                throw SetpointError(.observeFailed, "ProxmoxCluster/\(name): \(error)", isTransient: error.isUncertain)
            } catch let error as SetpointError {
                throw error
            } catch {
                throw SetpointError(
                    .observeFailed,
                    "ProxmoxCluster/\(name) (\(spec.endpoints.joined(separator: ", "))): \(error)",
                    isTransient: true
                )
            }
        }
        return result
    }

    public func concurrencyDomains(for action: Action) -> [ConcurrencyDomain] {
        guard let spec = action.desired, let cluster = spec["cluster"]?.stringValue else { return [] }
        var domains: [ConcurrencyDomain] = []
        if let node = spec["node"]?.stringValue {
            domains.append(ConcurrencyDomain("pve:\(cluster):node:\(node)", limit: 4))
        }
        if action.verb == .create || action.verb == .replace, let template = spec["clone"]?["vmid"]?.intValue {
            // PVE holds the template's config lock for the whole clone: one clone of a template at a time.
            domains.append(ConcurrencyDomain("pve:\(cluster):template:\(template)"))
        }
        if action.verb == .create || action.verb == .replace || action.verb == .resize {
            var storages = Set<String>()
            for disk in (spec["disks"]?.mapValue ?? [:]).values {
                if let s = disk["storage"]?.stringValue { storages.insert(s) }
            }
            if let s = spec["rootfs"]?["storage"]?.stringValue { storages.insert(s) }
            for mp in (spec["mountPoints"]?.mapValue ?? [:]).values {
                if let s = mp["storage"]?.stringValue { storages.insert(s) }
            }
            for s in storages.sorted() { domains.append(ConcurrencyDomain("pve:\(cluster):storage:\(s)", limit: 4)) }
        }
        return domains
    }

    public func apply(
        _ action: Action,
        resource: ResolvedResource?,
        in context: ProviderContext
    ) async throws -> Observation {
        let resolved = resource ?? .orphan(action.resource, providerID: action.providerID)
        guard let name = clusterName(of: resolved, context: context) else {
            throw SetpointError(
                .applyFailed,
                "no ProxmoxCluster known for \(action.resource)",
                resource: action.resource
            )
        }
        let (api, _) = try connections.connect(name, context: context, for: action.resource)
        var providerID = action.providerID ?? resolved.providerID
        switch action.resource.kind {
        case .proxmoxCluster:
            break
        case .resourcePool:
            providerID = try await PoolsAndJobs.applyPool(action, resource: resource?.resource, api: api)
        case .guestBackupJob:
            providerID = try await PoolsAndJobs.applyJob(action, resource: resource?.resource, api: api)
        default:
            let applier = GuestApplier(
                api: api,
                connections: connections,
                cluster: name,
                kind: action.resource.kind == .virtualMachine ? .qemu : .lxc,
                context: context,
                resourceID: action.resource
            )
            providerID = try await applyGuest(action, resolved: resolved, applier: applier, providerID: providerID)
        }
        // The engine confirms every action by observing it again; what apply returns only carries the object's id.
        if action.verb == .delete { return .absent }
        return .present(ObservedResource(spec: .map([:]), providerID: providerID))
    }

    private func applyGuest(
        _ action: Action,
        resolved: ResolvedResource,
        applier: GuestApplier,
        providerID: String?
    ) async throws -> String? {
        let resource = resolved.resource
        let vmid = providerID.flatMap(Int.init) ?? GuestObserver.vmid(of: resolved)
        switch action.verb {
        case .create:
            return String(try await applier.create(resource))
        case .replace:
            let entries = try await applier.context.journal.entries()
            if entries["replaced"] == nil, let old = vmid {
                try await applier.delete(vmid: old)
                try await applier.context.journal.record("replaced", String(old))
            }
            return String(try await applier.create(resource))
        case .delete:
            if let vmid { try await applier.delete(vmid: vmid) }
            return providerID
        case .update:
            guard let vmid else { throw applier.fail("no VMID known for \(action.resource)") }
            try await applier.update(action, resource: resource, vmid: vmid)
        case .resize:
            guard let vmid else { throw applier.fail("no VMID known for \(action.resource)") }
            try await applier.resize(action, resource: resource, vmid: vmid)
        case .migrate:
            guard let vmid else { throw applier.fail("no VMID known for \(action.resource)") }
            try await applier.migrate(resource, vmid: vmid)
        case .restart:
            guard let vmid else { throw applier.fail("no VMID known for \(action.resource)") }
            try await applier.restart(vmid: vmid)
        default:
            break
        }
        return vmid.map(String.init)
    }
}
