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
    /// The connections this run keeps to the Hosts it reaches (one SSH master per host), made by whoever runs the
    /// providers and closed when a CLI run ends; the controller keeps them across passes. `nil`: this run reaches no
    /// other host (a resource naming one with `runsOn` fails, saying so).
    public var hosts: (any HostSessions)?
    /// The host keys trusted on first use (a Host with `ssh.trustOnFirstUse`), kept in the state store; `nil` where
    /// there is no state (nothing is trusted, and a Host with no pinned key is refused).
    public var hostKeys: (any HostKeyTrust)?

    public init(
        secrets: any SecretResolver,
        clock: any SetpointClock = SystemClock(),
        log: any ProviderLog = SilentLog(),
        journal: any ActionJournal = NoJournal(),
        declared: [ResourceID: Resource] = [:],
        hosts: (any HostSessions)? = nil,
        hostKeys: (any HostKeyTrust)? = nil
    ) {
        self.secrets = secrets
        self.clock = clock
        self.log = log
        self.journal = journal
        self.declared = declared
        self.hosts = hosts
        self.hostKeys = hostKeys
    }
}

/// Host keys trusted on first use: what the first login to a Host with `ssh.trustOnFirstUse` and no pinned key
/// accepted, kept so every later login checks against it, and written to the audit log when accepted.
public protocol HostKeyTrust: Sendable {
    /// Whether this run may trust a new key (false for a read-only state: `plan`, `doctor` never trust one).
    var canTrust: Bool { get }
    /// The keys (`TYPE BASE64`) trusted for `host` at `endpoint` (`ADDRESS:PORT`); a key trusted at another address
    /// is not trusted here.
    func trusted(host: String, endpoint: String) async throws -> [String]
    /// Records keys accepted on a first login (each with its `TYPE SHA256:…` fingerprint) and writes them to the audit
    /// log.
    func trust(host: String, endpoint: String, keys: [String], fingerprints: [String]) async throws
}

/// The sessions a run holds to the Hosts it reaches. Core knows only that they exist and end; `SetpointRemote` makes
/// them (SSH masters, their folders) and hands providers a host's commands and files.
public protocol HostSessions: AnyObject, Sendable {
    /// Forgets hosts that failed and masters that died, so the next use connects afresh (the controller, per pass).
    func refresh() async
    /// Ends every session and removes what it wrote (keys, pins, sockets).
    func close() async
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
