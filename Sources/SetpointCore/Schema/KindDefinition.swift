/// What Setpoint knows about a kind: whether it manages it, its spec schema, and how to decode it.
public struct KindDefinition: Sendable {
    public var kind: ResourceKind
    /// Managed kinds are created, changed and deleted; referenced kinds exist already and are only read or configured.
    public var isManaged: Bool
    /// One line for `--help`, docs and the JSON Schema title.
    public var summary: String
    public var spec: ObjectSchema
    /// Decodes a validated spec into the kind's typed spec.
    public var decode: @Sendable (Value) throws -> any ResourceSpec

    public init<S: ResourceSpec>(_ type: S.Type, isManaged: Bool, summary: String, spec: ObjectSchema) {
        self.kind = S.kind
        self.isManaged = isManaged
        self.summary = summary
        self.spec = spec
        self.decode = { try ValueDecoder().decode(S.self, from: $0) }
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
    ]

    private static let byKind: [ResourceKind: KindDefinition] = Dictionary(uniqueKeysWithValues: v1.map { ($0.kind, $0) })

    public static func definition(for kind: ResourceKind) -> KindDefinition? { byKind[kind] }
}
