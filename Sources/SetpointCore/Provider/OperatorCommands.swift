/// A command an operator gives by hand about one declared resource — `postgres failover`, `postgres reinit` — as the
/// CLI runs it under the state's lease, or the leading controller under its own when one runs.
public struct OperatorCommand: Sendable, Hashable, Codable {
    /// `failover`, `reinit`.
    public var name: String
    public var resource: ResourceID
    /// The command's own arguments (`to`, `member`).
    public var arguments: [String: String]

    public init(name: String, resource: ResourceID, arguments: [String: String] = [:]) {
        self.name = name
        self.resource = resource
        self.arguments = arguments
    }
}

/// What a command did: lines for the person who asked, and the detail its audit record keeps.
public struct OperatorCommandReport: Sendable, Codable, Equatable {
    public var lines: [String]
    public var detail: [String: Value]

    public init(lines: [String], detail: [String: Value]) {
        self.lines = lines
        self.detail = detail
    }
}

/// Providers whose kinds take operator commands.
public protocol OperatorCommands: Sendable {
    /// The commands a kind takes, with the audit event each is recorded as.
    func commands(for kind: ResourceKind) -> [String: AuditEvent]
    /// What is wrong with a command's arguments (nil: nothing), before anything is done.
    func problem(with command: OperatorCommand) -> String?
    /// The lock domains the command occupies while it runs (no action in them is applied meanwhile).
    func domains(of command: OperatorCommand) -> [String]
    /// Carries the command out on the declared resource.
    func run(
        _ command: OperatorCommand,
        on resource: Resource,
        in context: ProviderContext
    ) async throws
        -> OperatorCommandReport
}
