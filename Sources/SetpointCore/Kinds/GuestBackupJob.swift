/// `GuestBackupJob` (managed): a Proxmox vzdump job.
public enum GuestBackupJobKind {
    static let retention = ObjectSchema([
        Field("keepLast", .integer(min: 0), "Keep the last N backups."),
        Field("keepHourly", .integer(min: 0), "Keep one per hour for N hours."),
        Field("keepDaily", .integer(min: 0), "Keep one per day for N days."),
        Field("keepWeekly", .integer(min: 0), "Keep one per week for N weeks."),
        Field("keepMonthly", .integer(min: 0), "Keep one per month for N months."),
        Field("keepYearly", .integer(min: 0), "Keep one per year for N years."),
    ])

    public static let spec = ObjectSchema(
        [
            Field("cluster", .reference(.proxmoxCluster), required: true, "The ProxmoxCluster the job runs on."),
            Field(
                "schedule",
                .string(.calendarEvent),
                required: true,
                "Proxmox calendar event, e.g. '02:00' or 'sat 03:00'."
            ),
            Field("storage", .string(.pveStorage), required: true, "Backup storage."),
            Field("pool", .reference(.resourcePool), "Back up the guests of this ResourcePool."),
            Field("vmids", .list(GuestSchemas.vmid, minItems: 1, uniqueItems: true), "Back up these VMIDs."),
            Field("all", .boolean, "Back up every guest."),
            Field("node", .string(.pveNode), "Only run on this node."),
            Field("mode", .enumeration(["snapshot", "suspend", "stop"]), default: .string("snapshot"), "Backup mode."),
            Field("compress", .enumeration(["zstd", "lzo", "gzip", "none"]), default: .string("zstd"), "Compression."),
            Field("retention", .object(retention), "prune-backups retention."),
            Field("enabled", .boolean, default: .bool(true), "Whether the job runs."),
            Field("mailTo", .list(.string(.nonEmpty)), "Notification addresses."),
            Field(
                "mailNotification",
                .enumeration(["always", "failure"]),
                default: .string("always"),
                "When to send mail."
            ),
            Field("notesTemplate", .string, "Notes template, e.g. '{{guestname}}'."),
            Field("comment", .string, "Job comment."),
        ],
        exactlyOneOf: [["pool", "vmids", "all"]]
    )

    public static let definition = KindDefinition(
        GuestBackupJobSpec.self,
        isManaged: true,
        summary: "A Proxmox VE backup (vzdump) job: guests by pool or ids, schedule, storage, mode and retention.",
        spec: spec
    )
}

public struct GuestBackupJobSpec: ResourceSpec {
    public static let kind = ResourceKind.guestBackupJob
    public var cluster: String
    public var schedule: String
    public var storage: String
    public var pool: String?
    public var vmids: [Int]?
    public var all: Bool?
    public var node: String?
    public var mode: String?
    public var compress: String?
    public var retention: Retention?
    public var enabled: Bool?
    public var mailTo: [String]?
    public var mailNotification: String?
    public var notesTemplate: String?
    public var comment: String?

    public struct Retention: Codable, Sendable, Equatable {
        public var keepLast: Int?
        public var keepHourly: Int?
        public var keepDaily: Int?
        public var keepWeekly: Int?
        public var keepMonthly: Int?
        public var keepYearly: Int?
    }
}
