/// An action's identity within a plan: a verb on a resource, written `VirtualMachine/api-1:update` in plans, the
/// audit log, journals, approvals and the API. The text is read back in one place, `init?(parsing:)`.
///
/// ```swift
/// let id = ActionID(ResourceID(kind: .virtualMachine, name: "api-1"), .update)
/// id.description                                   // "VirtualMachine/api-1:update"
/// ActionID(parsing: "VirtualMachine/api-1:update") == id
/// ```
public struct ActionID: Sendable, Hashable, Comparable, TextIdentifier {
    public var resource: ResourceID
    public var verb: Verb

    public init(_ resource: ResourceID, _ verb: Verb) {
        self.resource = resource
        self.verb = verb
    }

    /// Parses `Kind/name:verb`; nil when the text is not a resource id, a colon and a verb.
    public init?(parsing text: String) {
        guard let colon = text.lastIndex(of: ":"), colon != text.startIndex,
            let resource = ResourceID(parsing: String(text[..<colon]))
        else { return nil }
        let verb = text[text.index(after: colon)...]
        guard !verb.isEmpty else { return nil }
        self.init(resource, Verb(rawValue: String(verb)))
    }

    public var description: String { "\(resource):\(verb)" }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.description < rhs.description }

    public static let textForm = "an action id (Kind/name:verb)"
}
