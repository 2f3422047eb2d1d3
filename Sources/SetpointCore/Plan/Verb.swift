/// What an action does. The basic verbs plus typed operations a provider plans (`restart`, `migrate` …).
public struct Verb: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    public static let create = Verb(rawValue: "create")
    public static let update = Verb(rawValue: "update")
    public static let replace = Verb(rawValue: "replace")
    public static let delete = Verb(rawValue: "delete")
    public static let noop = Verb(rawValue: "noop")
    /// Make staged (pending) changes live by restarting. Risky: it interrupts service.
    public static let restart = Verb(rawValue: "restart")
    /// Move to another node (a live migration where possible).
    public static let migrate = Verb(rawValue: "migrate")
    /// Grow a volume.
    public static let resize = Verb(rawValue: "resize")
    /// Promote a replica.
    public static let promote = Verb(rawValue: "promote")

    /// The symbol the text plan shows: `+` create, `~` update and typed operations, `-/+` replace, `-` delete.
    public var symbol: String {
        switch self {
        case .create: "+"
        case .delete: "-"
        case .replace: "-/+"
        case .noop: " "
        default: "~"
        }
    }
}
