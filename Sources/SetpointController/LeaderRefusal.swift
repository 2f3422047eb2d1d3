public import HTTPTypes

/// Why work asked of the controller — a backup run, an operator command — was not started, and the HTTP status the
/// API and the page answer it with.
public struct LeaderRefusal: Error, CustomStringConvertible, Sendable {
    public enum Reason: Sendable { case notDeclared, notLeading, busy, invalid }
    public var reason: Reason
    public var description: String

    public init(reason: Reason, description: String) {
        self.reason = reason
        self.description = description
    }

    /// 404 not declared, 503 this controller follows (the message names the leader), 409 busy, 400 invalid.
    public var status: HTTPResponse.Status {
        switch reason {
        case .notDeclared: .notFound
        case .notLeading: .serviceUnavailable
        case .busy: .conflict
        case .invalid: .badRequest
        }
    }
}
