/// One finding of `setpoint doctor`: is a referenced system reachable, is TLS verified, does the token hold the
/// privileges the manifests need.
public struct HealthCheck: Sendable, Hashable, Codable {
    public enum Status: String, Sendable, Hashable, Codable {
        case ok, warning, failed
    }

    public var resource: ResourceID
    /// What was checked, e.g. `reachability https://pve1:8006`, `tls`, `privileges`.
    public var check: String
    public var status: Status
    /// What was found, quoting the system where it answered.
    public var detail: String

    public init(_ resource: ResourceID, _ check: String, _ status: Status, _ detail: String) {
        self.resource = resource
        self.check = check
        self.status = status
        self.detail = detail
    }
}

/// Providers that can check the systems they talk to (`setpoint doctor`).
public protocol HealthChecking: Sendable {
    /// Checks the referenced resource (a ProxmoxCluster), given every declared resource in `context.declared`.
    func healthChecks(for resource: Resource, in context: ProviderContext) async -> [HealthCheck]
}
