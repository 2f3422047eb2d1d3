public import SetpointCore

/// One condition of a declared resource, as the leading controller last recorded it — `Ready` (what was observed
/// matches the manifest) and `Synced` (the controller's last attempt to apply the manifest went through), with a
/// reason, a message, and when the status last changed, as Kubernetes users know them.
public struct ResourceCondition: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case ready = "Ready"
        case synced = "Synced"
    }

    public enum Status: String, Sendable, Codable {
        case isTrue = "True"
        case isFalse = "False"
        case unknown = "Unknown"
    }

    public var resource: ResourceID
    public var type: Kind
    public var status: Status
    /// One CamelCase word: `Converged`, `WaitingForApproval`, `ApplyFailed` …
    public var reason: String
    public var message: String
    /// When `status` last changed (ISO 8601, UTC).
    public var lastTransitionTime: String

    public init(
        resource: ResourceID,
        type: Kind,
        status: Status,
        reason: String,
        message: String,
        lastTransitionTime: String
    ) {
        self.resource = resource
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
        self.lastTransitionTime = lastTransitionTime
    }

    /// The new conditions with each one's transition time carried over from the previous one of the same resource and
    /// type while its status stays the same.
    public static func merge(previous: [ResourceCondition], new: [ResourceCondition]) -> [ResourceCondition] {
        var before: [String: ResourceCondition] = [:]
        for c in previous { before["\(c.resource)|\(c.type.rawValue)"] = c }
        return new.map { c in
            var c = c
            if let old = before["\(c.resource)|\(c.type.rawValue)"], old.status == c.status {
                c.lastTransitionTime = old.lastTransitionTime
            }
            return c
        }
    }
}

/// Where the leading controller keeps every declared resource's conditions (no secret: messages are the ones the
/// API shows).
public protocol ConditionStore: Sendable {
    /// Replaces all conditions with these (resources no longer declared lose theirs).
    func replaceConditions(_ conditions: [ResourceCondition]) async throws
    /// The conditions of one resource, or of all (nil), by resource and type.
    func conditions(of resource: ResourceID?) async throws -> [ResourceCondition]
}

extension ResourceCondition {
    /// A stored row, read column by column; nil when it does not name a resource, a type and a status Setpoint knows.
    static func decode(_ column: (String) -> String?) -> ResourceCondition? {
        guard let resource = column("resource").flatMap(ResourceID.init(parsing:)),
            let type = column("type").flatMap(Kind.init(rawValue:)),
            let status = column("status").flatMap(Status.init(rawValue:))
        else { return nil }
        return ResourceCondition(
            resource: resource,
            type: type,
            status: status,
            reason: column("reason") ?? "",
            message: column("message") ?? "",
            lastTransitionTime: column("last_transition") ?? ""
        )
    }
}
