/// A resource's identity: `Kind/name`, unique across a manifest set.
public struct ResourceID: Sendable, Hashable, TextIdentifier, Comparable {
    public var kind: ResourceKind
    public var name: String

    public init(kind: ResourceKind, name: String) {
        self.kind = kind
        self.name = name
    }

    /// Parses `Kind/name`; nil when there is no single `/` with text on both sides.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        self.init(kind: ResourceKind(String(parts[0])), name: String(parts[1]))
    }

    public var description: String { "\(kind.rawValue)/\(name)" }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        lhs.kind == rhs.kind ? lhs.name < rhs.name : lhs.kind < rhs.kind
    }

    public static let textForm = "Kind/name"
}
