public import SetpointCore

/// Progress of an apply, in the order things happen (Terraform's hooks as values). The CLI prints them as live
/// lines; the controller turns them into logs and metrics.
public enum ApplyEvent: Sendable, Equatable {
    case started(Action)
    case succeeded(Action, Duration)
    case failed(Action, String)
    case skipped(Action, SkipReason)
    /// SIGINT/SIGTERM: in-flight actions finish, nothing new starts.
    case interrupted(inFlight: [ActionID])
    case finished(ApplyReport)
}

/// Why an action did not run.
public enum SkipReason: Sendable, Hashable, CustomStringConvertible {
    /// A risky action without approval.
    case awaitingApproval
    /// An action it depends on failed or was skipped.
    case dependency(ActionID)
    /// The apply was interrupted before it started.
    case interrupted

    public var description: String {
        switch self {
        case .awaitingApproval: "awaiting approval"
        case .dependency(let id): "depends on \(id), which did not succeed"
        case .interrupted: "not started: interrupted"
        }
    }
}

/// The outcome of an apply.
public struct ApplyReport: Sendable, Equatable {
    public var succeeded: [ActionID] = []
    public var failed: [ActionID: String] = [:]
    /// Failed actions whose error says a retry cannot help until something changes (`SetpointError.isTerminal`).
    public var terminal: Set<ActionID> = []
    public var skipped: [ActionID: SkipReason] = [:]
    public var wasInterrupted = false

    public init() {}

    public var awaitingApproval: [ActionID] { skipped.filter { $0.value == .awaitingApproval }.map(\.key).sorted() }
    public var notStarted: [ActionID] { skipped.filter { $0.value == .interrupted }.map(\.key).sorted() }
    public var isSuccess: Bool { failed.isEmpty && !wasInterrupted }
}
