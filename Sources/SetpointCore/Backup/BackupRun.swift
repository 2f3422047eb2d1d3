/// One backup, logical dump or restore drill a `BackupPolicy` ran: what `setpoint backup status` and the controller's
/// metrics read back. Never holds a secret.
public struct BackupRun: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        case full, diff, incr, drill, logical
    }

    public enum Outcome: String, Sendable, Hashable, Codable {
        case succeeded, failed
    }

    /// Unique per run (`POLICY:KIND:STARTED`).
    public var id: String
    /// The policy's name.
    public var policy: String
    public var kind: Kind
    /// UTC, ISO 8601.
    public var startedAt: String
    public var finishedAt: String
    public var seconds: Double
    public var outcome: Outcome
    /// pgBackRest's backup label (the backup made, or the one a drill restored).
    public var label: String?
    /// Bytes of the database (backups), or restored (drills).
    public var sizeBytes: Int64?
    /// Bytes the run added to the repository.
    public var repositoryBytes: Int64?
    /// What went wrong, quoting the tool; or a summary of a drill's checks.
    public var message: String?
    /// Who or what started it: `schedule`, `cli user@host`, `api TOKEN-NAME`.
    public var trigger: String

    public init(
        id: String,
        policy: String,
        kind: Kind,
        startedAt: String,
        finishedAt: String,
        seconds: Double,
        outcome: Outcome,
        label: String? = nil,
        sizeBytes: Int64? = nil,
        repositoryBytes: Int64? = nil,
        message: String? = nil,
        trigger: String
    ) {
        self.id = id
        self.policy = policy
        self.kind = kind
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.seconds = seconds
        self.outcome = outcome
        self.label = label
        self.sizeBytes = sizeBytes
        self.repositoryBytes = repositoryBytes
        self.message = message
        self.trigger = trigger
    }

    /// The run as an audit record's detail.
    public var auditDetail: Value {
        var m: [String: Value] = [
            "policy": .string(policy), "kind": .string(kind.rawValue), "startedAt": .string(startedAt),
            "finishedAt": .string(finishedAt),
            "seconds": .double(seconds), "outcome": .string(outcome.rawValue), "trigger": .string(trigger),
        ]
        if let label { m["label"] = .string(label) }
        if let sizeBytes { m["sizeBytes"] = .int(sizeBytes) }
        if let repositoryBytes { m["repositoryBytes"] = .int(repositoryBytes) }
        if let message { m["message"] = .string(message) }
        return .map(m)
    }
}
