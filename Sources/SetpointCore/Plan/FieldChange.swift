/// One field that differs between desired and observed, and what changing it does.
public struct FieldChange: Sendable, Hashable, Codable {
    /// Path under `spec`, e.g. `memory` or `disks.scsi0.size`.
    public var path: FieldPath
    /// The observed value (nil: not set on the system).
    public var before: Value?
    /// The desired value (nil: to be removed from the system).
    public var after: Value?
    /// True for secrets and write-only values: renderers print `(sensitive)`, never the values.
    public var isSensitive: Bool
    public var origin: ChangeOrigin
    public var impact: Impact
    /// Why this impact, for people: "memory is hot-pluggable only with NUMA and memory hotplug".
    public var reason: String?

    public init(
        path: FieldPath,
        before: Value?,
        after: Value?,
        isSensitive: Bool = false,
        origin: ChangeOrigin,
        impact: Impact,
        reason: String? = nil
    ) {
        self.path = path
        self.before = before
        self.after = after
        self.isSensitive = isSensitive
        self.origin = origin
        self.impact = impact
        self.reason = reason
    }
}
