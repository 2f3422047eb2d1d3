public import FoundationEssentials

/// One schedule a policy declares: which run it starts and when it next fires on its own time zone's wall clock.
public struct BackupSchedule: Sendable {
    public var kind: BackupRun.Kind
    /// The cron text as declared (`0 1 * * 0`), for logs and the run's trigger.
    public var cron: String
    public var timeZone: String
    /// The first instant strictly after the given one at which the schedule fires (nil: never again).
    public var next: @Sendable (Date) -> Date?

    public init(kind: BackupRun.Kind, cron: String, timeZone: String, next: @escaping @Sendable (Date) -> Date?) {
        self.kind = kind
        self.cron = cron
        self.timeZone = timeZone
        self.next = next
    }
}

/// A gauge sample for the controller's `/metrics`: name, help, labels (in order) and value.
public struct GaugeSample: Sendable, Hashable {
    public var name: String
    public var help: String
    public var labels: [String: String]
    public var value: Double

    public init(_ name: String, help: String, labels: [String: String], value: Double) {
        self.name = name
        self.help = help
        self.labels = labels
        self.value = value
    }
}

/// What a policy's system says now: the gauges to export, and when the newest backup of each type finished according
/// to the repository itself (which may hold backups no recorded run made).
public struct BackupReading: Sendable {
    public var gauges: [GaugeSample]
    public var newestBackup: [BackupRun.Kind: Date]
    /// Why the system could not be read, when it could not (the gauges then say what is still known).
    public var problem: String?

    public init(gauges: [GaugeSample], newestBackup: [BackupRun.Kind: Date], problem: String? = nil) {
        self.gauges = gauges
        self.newestBackup = newestBackup
        self.problem = problem
    }
}

/// Providers whose resources run work on a schedule — a BackupPolicy's backups, logical dumps and restore drills. The
/// controller's leader starts each run when it is due and records it; the provider only knows how to make one.
public protocol BackupScheduling: Sendable {
    /// The kind whose resources have schedules.
    var scheduledKind: ResourceKind { get }
    /// The schedules a resource declares (none when it declares none).
    func schedules(of resource: Resource) -> [BackupSchedule]
    /// The lock domains a run occupies: no action in them is applied while it runs, and it does not start while one is.
    func domains(of resource: Resource) -> [String]
    /// Makes one run now. A failed backup or drill is a run that says so; throws only when none could start (the
    /// resource's settings do not resolve).
    func run(
        _ kind: BackupRun.Kind,
        of resource: Resource,
        targetTime: String?,
        trigger: String,
        in context: ProviderContext
    )
        async throws -> BackupRun
    /// What is wrong with a drill's target time as given (nil when it is one), so a request is refused before it starts.
    func problem(targetTime: String) -> String?
    /// Reads the system for the metrics, given the resource's recorded runs (newest first). Read-only.
    func reading(of resource: Resource, runs: [BackupRun], in context: ProviderContext) async -> BackupReading
}
