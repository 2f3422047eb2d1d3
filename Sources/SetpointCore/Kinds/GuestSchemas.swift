/// Schema pieces shared by `VirtualMachine` and `Container`.
enum GuestSchemas {
    static let vmid = SchemaType.integer(min: 100, max: 999_999_999)

    static let placement = SchemaType.object(
        ObjectSchema([
            Field(
                "nodes",
                .list(.string(.pveNode), minItems: 1, uniqueItems: true),
                required: true,
                "Nodes the guest may run on; Setpoint picks one at create time and keeps it."
            ),
            Field(
                "strategy",
                .enumeration(["most-free-memory", "spread"]),
                default: .string("most-free-memory"),
                "How the node is chosen among the allowed ones."
            ),
        ])
    )

    static let tags = SchemaType.list(.string(.pveTag), minItems: 0, uniqueItems: true)

    /// VMIDs are one key space per cluster, shared by VMs and containers.
    static let vmidKey = UniqueKey(
        scope: "pve-vmid",
        paths: [["cluster"], ["vmid"]],
        reason: "a VMID is unique within a ProxmoxCluster, across VMs and containers"
    )

    /// IP settings of a NIC (a container's network, a VM's cloud-init ipConfig).
    static let ipFields: [Field] = [
        Field("ip", .string(.ipConfig), "IPv4 address with prefix length, or 'dhcp'."),
        Field("gateway", .string(.ipAddress), "IPv4 gateway."),
        Field("ip6", .string(.ipConfig), "IPv6 address with prefix length, 'dhcp' or 'auto'."),
        Field("gateway6", .string(.ipAddress), "IPv6 gateway."),
    ]
    /// PVE's `startup`: the order guests start in at boot (and stop in, reversed), and the pauses after each.
    static let startup = ObjectSchema([
        Field("order", .integer(min: 0, max: 1_000_000), "Position in the boot order; lower starts first, stops last."),
        Field("up", .integer(min: 0, max: 86_400), "Seconds to wait after this guest starts before the next one."),
        Field("down", .integer(min: 0, max: 86_400), "Seconds to wait for this guest to shut down before stopping it."),
    ])
    static let state = SchemaType.enumeration(["running", "stopped"])
    static let netSlot = StringFormat.slot([("net", 0...31)], expectation: "a NIC slot 'net0' … 'net31'")

    /// Fields every guest kind has, in manifest order.
    static func common(_ nodeSummary: String) -> [Field] {
        [
            Field("cluster", .reference(.proxmoxCluster), required: true, "The ProxmoxCluster the guest lives in."),
            Field("node", .string(.pveNode), nodeSummary),
            Field("placement", placement, "Where to place the guest when no node is pinned."),
            Field("vmid", vmid, "A fixed VMID; when absent Setpoint takes the next free one and records it."),
        ]
    }

    static func lifecycle() -> [Field] {
        [
            Field("pool", .reference(.resourcePool), "The ResourcePool the guest belongs to."),
            Field("tags", tags, "Proxmox tags; Setpoint adds its own 'setpoint' tag."),
            Field("state", state, default: .string("running"), "Power state to keep."),
            Field("onBoot", .boolean, default: .bool(false), "Start when the node boots."),
            Field("startup", .object(startup), "Order and delays of starts and shutdowns at boot (with onBoot)."),
            Field("protection", .boolean, default: .bool(false), "Refuse deletion and disk removal while set."),
            Field("description", .string, "Free text shown in the Proxmox UI."),
        ]
    }
}

/// A guest's place in the boot order (`startup`).
public struct GuestStartup: Codable, Sendable, Equatable {
    public var order: Int?
    public var up: Int?
    public var down: Int?
}

/// A guest's placement rule.
public struct PlacementSpec: Codable, Sendable, Equatable {
    public var nodes: [String]
    public var strategy: String?
}
