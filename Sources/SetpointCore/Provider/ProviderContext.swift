/// What a provider gets: secrets, a clock, a log, and — while it applies an action — that action's journal.
public struct ProviderContext: Sendable {
    /// Resolves a secret reference to its value. Values are never logged or stored.
    public var secrets: any SecretResolver
    /// The one clock (wall-clock `now`, monotonic `elapsed` and `sleep(for:)`): a provider reads no other.
    public var clock: any SetpointClock
    public var log: any ProviderLog
    /// The journal of the action being applied (`NoJournal` when observing).
    public var journal: any ActionJournal
    /// Every declared resource, so a provider can read the ones a resource references (a VirtualMachine's
    /// ProxmoxCluster: endpoints, token, TLS).
    public var declared: [ResourceID: Resource]

    public init(
        secrets: any SecretResolver,
        clock: any SetpointClock = SystemClock(),
        log: any ProviderLog = SilentLog(),
        journal: any ActionJournal = NoJournal(),
        declared: [ResourceID: Resource] = [:]
    ) {
        self.secrets = secrets
        self.clock = clock
        self.log = log
        self.journal = journal
        self.declared = declared
    }
}

/// Turns a `SecretReference` into its value.
public protocol SecretResolver: Sendable {
    func resolve(_ reference: SecretReference) throws -> String
}

/// A provider's log, adapted to swift-log by the engine (Core depends on no logging library).
public protocol ProviderLog: Sendable {
    func log(_ level: ProviderLogLevel, _ message: String, metadata: [String: String])
}

public enum ProviderLogLevel: String, Sendable {
    case debug, info, notice, warning, error
}

/// A log that drops everything.
public struct SilentLog: ProviderLog {
    public init() {}
    public func log(_ level: ProviderLogLevel, _ message: String, metadata: [String: String]) {}
}
