/// What Setpoint knows about a kind: whether it manages it, its spec schema, and how to decode it.
public struct KindDefinition: Sendable {
    public var kind: ResourceKind
    /// Managed kinds are created, changed and deleted; referenced kinds exist already and are only read or configured.
    public var isManaged: Bool
    /// One line for `--help`, docs and the JSON Schema title.
    public var summary: String
    public var spec: ObjectSchema
    /// Values that must differ between resources (a VMID within a cluster, the file an AlertRouting owns).
    public var uniqueKeys: [UniqueKey]
    /// Decodes a validated spec into the kind's typed spec.
    public var decode: @Sendable (Value) throws -> any ResourceSpec

    public init<S: ResourceSpec>(
        _ type: S.Type,
        isManaged: Bool,
        summary: String,
        spec: ObjectSchema,
        uniqueKeys: [UniqueKey] = []
    ) {
        self.kind = S.kind
        self.isManaged = isManaged
        self.summary = summary
        self.spec = spec
        self.uniqueKeys = uniqueKeys
        self.decode = { try ValueDecoder().decode(S.self, from: $0) }
    }
}

/// A combination of spec fields that no two resources may share. Kinds with the same `scope` share one key space
/// (VMIDs are unique across VirtualMachines and Containers of a cluster).
public struct UniqueKey: Sendable {
    public var scope: String
    /// Paths under `spec`; a resource takes part only when all of them are set.
    public var paths: [FieldPath]
    /// Why, for the message: "a VMID is unique within a ProxmoxCluster".
    public var reason: String

    public init(scope: String, paths: [FieldPath], reason: String) {
        self.scope = scope
        self.paths = paths
        self.reason = reason
    }

    /// The key's value for a spec, or nil when a part is missing.
    public func value(in spec: Value) -> [Value]? {
        var out: [Value] = []
        for path in paths {
            var v: Value? = spec
            for case .key(let k) in path.components { v = v?[k] }
            guard let v else { return nil }
            out.append(v)
        }
        return out
    }
}

/// The kinds of `setpoint/v1`.
public enum KindRegistry {
    public static let apiVersion = "setpoint/v1"

    public static let v1: [KindDefinition] = [
        ProxmoxClusterKind.definition,
        VirtualMachineKind.definition,
        ContainerKind.definition,
        ResourcePoolKind.definition,
        PostgresClusterKind.definition,
        ConnectionPoolKind.definition,
        GuestBackupJobKind.definition,
        BackupPolicyKind.definition,
        PrometheusServerKind.definition,
        AlertRuleGroupKind.definition,
        AlertRoutingKind.definition,
        HostKind.definition,
    ]

    private static let byKind: [ResourceKind: KindDefinition] = Dictionary(
        uniqueKeysWithValues: v1.map { ($0.kind, $0) }
    )

    public static func definition(for kind: ResourceKind) -> KindDefinition? { byKind[kind] }
}
