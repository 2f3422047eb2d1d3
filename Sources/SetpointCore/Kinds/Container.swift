/// `Container` (managed): an LXC guest.
public enum ContainerKind {
    static let rootfs = ObjectSchema([
        Field("storage", .string(.pveStorage), required: true, "Storage of the root volume."),
        Field("size", .quantity(.wholeMebibytes), required: true, "Size; grows, never shrinks."),
    ])

    static let mountPoint = ObjectSchema([
        Field("storage", .string(.pveStorage), required: true, "Storage of the volume."),
        Field("size", .quantity(.wholeMebibytes), required: true, "Size; grows, never shrinks."),
        Field("path", .string(.absolutePath), required: true, "Mount path inside the container."),
        Field("backup", .boolean, "Include in backups."),
        Field("readOnly", .boolean, "Mount read-only."),
    ])

    static let network = ObjectSchema(
        [
            Field("name", .string(.nonEmpty), required: true, "Interface name inside the container, e.g. eth0."),
            Field("bridge", .string(.bridge), required: true, "Bridge, e.g. vmbr0."),
        ] + GuestSchemas.ipFields + [
            Field("vlan", .integer(min: 1, max: 4094), "VLAN tag."),
            Field("firewall", .boolean, "Enable the Proxmox firewall on this NIC."),
            Field("mtu", .integer(min: 64, max: 65535), "MTU."),
            Field("macaddr", .string(.macAddress), "Fixed MAC address; generated when absent."),
        ]
    )

    static let features = ObjectSchema([
        Field("nesting", .boolean, "Allow nested containers (needed by systemd in recent distributions)."),
        Field("keyctl", .boolean, "Allow the keyctl() system call."),
        Field("fuse", .boolean, "Allow FUSE mounts."),
    ])

    public static let spec = ObjectSchema(
        GuestSchemas.common("Node to run on; a change is a migration (restart mode for containers).") + [
            Field(
                "template",
                .string(.pveTemplate),
                required: true,
                "OS template volume; a change replaces the container."
            ),
            Field("hostname", .string(.dnsLabel), "Host name (the resource name when absent)."),
            Field("cores", .integer(min: 1, max: 8192), "CPU cores (all of the node's when absent)."),
            Field("memory", .quantity(.wholeMebibytes), default: .int(512 << 20), "Memory, e.g. 1Gi."),
            Field("swap", .quantity(.wholeMebibytes), default: .int(512 << 20), "Swap."),
            Field("rootfs", .object(rootfs), required: true, "Root volume."),
            Field(
                "mountPoints",
                .map(
                    keys: .slot([("mp", 0...255)], expectation: "a mount point slot 'mp0' … 'mp255'"),
                    values: .object(mountPoint)
                ),
                "Extra volumes keyed by slot (mp0 …)."
            ),
            Field(
                "networks",
                .map(keys: GuestSchemas.netSlot, values: .object(network)),
                "NICs keyed by slot (net0 …)."
            ),
            Field("unprivileged", .boolean, default: .bool(true), "Run unprivileged; a change replaces the container."),
            Field("features", .object(features), "Container features."),
            Field("password", .secret, "Root password, by reference."),
            Field("sshKeys", .list(.string(.nonEmpty)), "Authorized SSH public keys for root."),
            Field("nameserver", .string(.ipAddress), "DNS server."),
            Field("searchDomain", .string(.nonEmpty), "DNS search domain."),
        ] + GuestSchemas.lifecycle(),
        atMostOneOf: [["node", "placement"]]
    )

    public static let definition = KindDefinition(
        ContainerSpec.self,
        isManaged: true,
        summary: "A Proxmox VE LXC container.",
        spec: spec,
        uniqueKeys: [GuestSchemas.vmidKey]
    )
}

public struct ContainerSpec: ResourceSpec {
    public static let kind = ResourceKind.container
    public var cluster: String
    public var node: String?
    public var placement: PlacementSpec?
    public var vmid: Int?
    public var template: String
    public var hostname: String?
    public var cores: Int?
    public var memory: Quantity?
    public var swap: Quantity?
    public var rootfs: Volume
    public var mountPoints: [String: MountPoint]?
    public var networks: [String: Network]?
    public var unprivileged: Bool?
    public var features: Features?
    public var password: SecretReference?
    public var sshKeys: [String]?
    public var nameserver: String?
    public var searchDomain: String?
    public var pool: String?
    public var tags: [String]?
    public var state: String?
    public var onBoot: Bool?
    public var startup: GuestStartup?
    public var protection: Bool?
    public var description: String?

    public struct Volume: Codable, Sendable, Equatable {
        public var storage: String
        public var size: Quantity
    }

    public struct MountPoint: Codable, Sendable, Equatable {
        public var storage: String
        public var size: Quantity
        public var path: String
        public var backup: Bool?
        public var readOnly: Bool?
    }

    public struct Network: Codable, Sendable, Equatable {
        public var name: String
        public var bridge: String
        public var ip: String?
        public var gateway: String?
        public var ip6: String?
        public var gateway6: String?
        public var vlan: Int?
        public var firewall: Bool?
        public var mtu: Int?
        public var macaddr: String?
    }

    public struct Features: Codable, Sendable, Equatable {
        public var nesting: Bool?
        public var keyctl: Bool?
        public var fuse: Bool?
    }
}
