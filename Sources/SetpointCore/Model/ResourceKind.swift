/// The kind of a resource, as written in a manifest's `kind:` (`VirtualMachine`, `PostgresCluster` …).
public struct ResourceKind: RawRepresentable, Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    public static let proxmoxCluster = ResourceKind("ProxmoxCluster")
    public static let virtualMachine = ResourceKind("VirtualMachine")
    public static let container = ResourceKind("Container")
    public static let resourcePool = ResourceKind("ResourcePool")
    public static let postgresCluster = ResourceKind("PostgresCluster")
    public static let connectionPool = ResourceKind("ConnectionPool")
    public static let guestBackupJob = ResourceKind("GuestBackupJob")
    public static let backupPolicy = ResourceKind("BackupPolicy")
    public static let prometheusServer = ResourceKind("PrometheusServer")
    public static let alertRuleGroup = ResourceKind("AlertRuleGroup")
    public static let alertRouting = ResourceKind("AlertRouting")
    public static let host = ResourceKind("Host")
}
