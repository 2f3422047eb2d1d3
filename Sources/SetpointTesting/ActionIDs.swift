public import SetpointCore

/// An action id from its text, for tests (`"VirtualMachine/a:create"`); traps on text that is not one.
public func actionID(_ text: String) -> ActionID {
    guard let id = ActionID(parsing: text) else { preconditionFailure("not an action id: \(text)") }
    return id
}

/// Action ids written as literals in tests (`report.succeeded == ["VirtualMachine/a:create"]`). Only tests import
/// SetpointTesting; code reads action ids from text with `ActionID(parsing:)`, which refuses what is not one.
extension ActionID: ExpressibleByStringLiteral {
    public init(stringLiteral text: String) { self = actionID(text) }
}
