import SetpointCore

/// What changing guest fields does, from PVE's own rules (`../shared/pve/IMPACT.md`): the rules VMs and containers
/// share, and the policies of pools and backup jobs. Each guest field's own rule is its row in
/// `VirtualMachineFields` or `ContainerFields`.
enum GuestPolicies {
    typealias Row = FieldTable<PVEField>.Row

    /// Where an observed spec keeps the live values of fields it reports by their unwanted pending value.
    static let stagedLiveKey = "(live before pending)"

    static func isRunning(_ observed: Value?) -> Bool { observed?["state"] == .string("running") }

    static func hotplug(_ observed: Value?) -> Set<String> {
        Set((observed?["hotplug"]?.listValue ?? []).compactMap(\.stringValue))
    }

    /// Disks only grow: PVE refuses a shrink ("shrinking disks is not supported").
    static let growOnly: @Sendable (FieldChange) -> String? = { change in
        if case .int(let before)? = change.before, case .int(let after)? = change.after, after < before {
            return "disks only grow: Proxmox refuses to shrink a volume (\(before >> 20) MiB → \(after >> 20) MiB); "
                + "keep the size, or add a new disk and move the data"
        }
        return nil
    }

    /// A guest, pool or job belongs to one cluster: Setpoint does not move it (it would leave the old one behind).
    static let noClusterMove: @Sendable (FieldChange) -> String? = { change in
        change.before != nil && change.after != nil
            ? "it cannot move to another ProxmoxCluster: declare a new resource for the new cluster and remove this one (with --prune)"
            : nil
    }

    static let noStorageMove: @Sendable (FieldChange) -> String? = { change in
        change.before != nil && change.after != nil
            ? "moving a volume to another storage is not something Setpoint does in place; move it in Proxmox (Move Storage) and update the manifest"
            : nil
    }

    /// The node a guest runs on, as the cluster lists it (reported when the manifest pins one).
    static let listedNode = PVEField(.guest { $0.desired["node"] != nil ? .string($0.guest.node) : nil })

    /// Where a guest lives: its cluster, node (given), placement rule and VMID.
    static func identityRows(node: Row) -> [Row] {
        [
            Row(
                "cluster",
                PVEField(.guest { $0.desired["cluster"] }),
                impact: .replace,
                reason: "a guest cannot move between clusters",
                check: noClusterMove
            ),
            node,
            Row("placement", PVEField(.none), comparison: .ignore),
            Row("placement.nodes", PVEField(.none)),
            Row("placement.strategy", PVEField(.none)),
            Row(
                "vmid",
                PVEField(.guest { $0.desired["vmid"] != nil ? .int(Int64($0.guest.vmid)) : nil }),
                impact: .replace,
                reason: "a VMID is the guest's identity"
            ),
        ]
    }

    /// Fields every guest has: pool, tags, power state, start at boot and its order, protection, description.
    static func lifecycleRows(configReason: String) -> [Row] {
        [
            Row("pool", PVEField(.guest { $0.guest.pool.map(Value.string) }), impact: .hot, reason: configReason),
            Row(
                "tags",
                PVEField(.key("tags"), .tags, absent: .list([]), alwaysWritten: true),
                impact: .hot,
                reason: configReason
            ),
            Row(
                "state",
                PVEField(.guest { .string($0.guest.running ? "running" : "stopped") }),
                impact: .hot,
                reason: "start or shut down"
            ),
            Row("onBoot", PVEField(.key("onboot"), .flag, absent: .bool(false)), impact: .hot, reason: configReason),
            Row(
                "startup",
                PVEField(.key("startup"), .integerParts(["order", "up", "down"])),
                impact: .hot,
                reason: "config only: the order and delays of starts and shutdowns at boot",
                coversFields: true
            ),
            Row(
                "protection",
                PVEField(.key("protection"), .flag, absent: .bool(false)),
                impact: .hot,
                reason: configReason
            ),
            Row("description", PVEField(.key("description")), impact: .hot, reason: configReason),
        ]
    }

    static func pool() -> FieldPolicy {
        var p = FieldPolicy()
        p.rule("cluster", impact: .replace, reason: "a pool cannot move between clusters", check: noClusterMove)
        p.rule("comment", impact: .hot, reason: "applied at once")
        return p
    }

    static func backupJob() -> FieldPolicy {
        var p = FieldPolicy()
        p.rule("cluster", impact: .replace, reason: "a job cannot move between clusters", check: noClusterMove)
        p.defaultImpact = .hot
        return p
    }
}
