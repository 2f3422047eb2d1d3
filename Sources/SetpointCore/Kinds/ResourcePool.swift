/// `ResourcePool` (managed): a Proxmox pool. Members come from guests' `pool` field.
public enum ResourcePoolKind {
    public static let spec = ObjectSchema([
        Field("cluster", .reference(.proxmoxCluster), required: true, "The ProxmoxCluster the pool lives in."),
        Field("comment", .string, "Comment shown in the Proxmox UI."),
    ])

    public static let definition = KindDefinition(
        ResourcePoolSpec.self,
        isManaged: true,
        summary: "A Proxmox VE resource pool; its members are the guests that name it.",
        spec: spec
    )
}

public struct ResourcePoolSpec: ResourceSpec {
    public static let kind = ResourceKind.resourcePool
    public var cluster: String
    public var comment: String?
}
