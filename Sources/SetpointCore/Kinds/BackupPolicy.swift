/// `BackupPolicy` (managed): pgBackRest backups of a PostgresCluster with objectives and restore drills.
public enum BackupPolicyKind {
    static let s3 = ObjectSchema([
        Field("bucket", .string(.nonEmpty), required: true, "Bucket."),
        Field("endpoint", .string(.nonEmpty), required: true, "Endpoint host."),
        Field("region", .string(.nonEmpty), required: true, "Region."),
        Field("keyId", .secret, required: true, "Access key id, by reference."),
        Field("key", .secret, required: true, "Secret access key, by reference."),
    ])

    static let repository = ObjectSchema([
        Field("path", .string(.absolutePath), required: true, "Repository path (repo1-path)."),
        Field("type", .enumeration(["posix", "s3"]), default: .string("posix"), "Repository type."),
        Field("s3", .object(s3), "S3-compatible options (passed through to pgBackRest)."),
        Field(
            "runsOn",
            .reference(.host),
            "The Host the repository is on (a posix repository's folder, or the host that reaches S3): backups, stanza-create, check and info run there, and the cluster's hosts reach it through pgBackRest's TLS server (spec.tls). Absent: the machine Setpoint runs on."
        ),
    ])

    static let tls = ObjectSchema([
        Field(
            "ca",
            .secret,
            required: true,
            "The CA certificate (PEM) every host's certificate is signed by, by reference."
        ),
        Field(
            "certificate",
            .secret,
            required: true,
            "The certificate (PEM) each host's `pgbackrest server` presents and connects with: its subjectAltName names every host's address, its CN is clientName."
        ),
        Field("key", .secret, required: true, "Its private key (PEM, no passphrase), by reference."),
        Field(
            "port",
            .integer(min: 1, max: 65535),
            default: .int(8432),
            "The port `pgbackrest server` listens on, on every host."
        ),
        Field(
            "clientName",
            .string(.nonEmpty),
            default: .string("pgbackrest-client"),
            "The certificate's CN, which each server lets reach this stanza (tls-server-auth)."
        ),
    ])

    static let schedules = ObjectSchema([
        Field("full", .string(.cron), required: true, "Cron schedule of full backups."),
        Field("diff", .string(.cron), "Cron schedule of differential backups."),
        Field("incr", .string(.cron), "Cron schedule of incremental backups."),
    ])

    static let retention = ObjectSchema(
        [
            Field("full", .integer(min: 1, max: 9_999_999), "Keep this many full backups (count-based)."),
            Field("window", .duration, "Keep backups for this long, e.g. 30d (time-based)."),
        ],
        exactlyOneOf: [["full", "window"]]
    )

    static let encryption = ObjectSchema([
        Field("cipher", .enumeration(["aes-256-cbc"]), required: true, "Repository cipher."),
        Field("passphrase", .secret, required: true, "Cipher passphrase, by reference."),
    ])

    static let objectives = ObjectSchema([
        Field("rpo", .duration, "Most data the service may lose: newest restorable point no older than this."),
        Field("rto", .duration, "Longest a restore may take, measured by drills."),
    ])

    static let check = ObjectSchema([
        Field("sql", .string(.nonEmpty), required: true, "A query run on the restored copy."),
        Field(
            "expect",
            .string,
            required: true,
            "The first column of the first row it must return, as PostgreSQL prints it (quote it: \"t\", \"42\")."
        ),
        Field("database", .string(.nonEmpty), default: .string("postgres"), "Database to run it in."),
    ])

    static let drill = ObjectSchema([
        Field("schedule", .string(.cron), required: true, "Cron schedule of restore drills."),
        Field("port", .integer(min: 1, max: 65535), required: true, "Scratch port the restored copy listens on."),
        Field(
            "directory",
            .string(.absolutePath),
            required: true,
            "Scratch data directory (emptied before each drill)."
        ),
        Field("checks", .list(.object(check)), "Verification queries with expected results."),
        Field("timeout", .duration, default: .int(3_600_000), "Give up on a drill after this long."),
        Field(
            "runsOn",
            .reference(.host),
            "The Host drills restore on (it reaches the repository through spec.tls). Absent: the machine Setpoint runs on."
        ),
    ])

    static let logical = ObjectSchema([
        Field("schedule", .string(.cron), required: true, "Cron schedule of pg_dump runs."),
        Field(
            "databases",
            .list(.string(.nonEmpty), minItems: 1, uniqueItems: true),
            required: true,
            "Databases to dump (-Fc)."
        ),
        Field("directory", .string(.absolutePath), required: true, "Where dumps are written."),
        Field("retain", .integer(min: 1, max: 10_000), default: .int(7), "Dumps kept per database."),
    ])

    public static let spec = ObjectSchema([
        Field("cluster", .reference(.postgresCluster), required: true, "The PostgresCluster to back up."),
        Field("stanza", .string(.dnsLabel), "pgBackRest stanza (the policy name when absent)."),
        Field("repository", .object(repository), required: true, "Where backups are stored."),
        Field("schedules", .object(schedules), required: true, "When backups run."),
        Field("timezone", .string(.nonEmpty), default: .string("UTC"), "Time zone of the schedules."),
        Field("retention", .object(retention), required: true, "How long backups are kept."),
        Field(
            "compression",
            .enumeration(["lz4", "zst", "gz", "bz2", "none"]),
            default: .string("lz4"),
            "Compression."
        ),
        Field("encryption", .object(encryption), "Repository encryption."),
        Field(
            "tls",
            .object(tls),
            "pgBackRest's TLS-server layout, needed when the repository, a member or the drill runs on another Host: the certificates each host's `pgbackrest server` uses."
        ),
        Field(
            "archiveTimeout",
            .duration,
            default: .int(60_000),
            "Force a WAL segment switch at least this often (bounds RPO)."
        ),
        Field("objectives", .object(objectives), "RPO and RTO to measure against."),
        Field("drill", .object(drill), "Scheduled restore drills."),
        Field("logical", .object(logical), "Logical dumps besides physical backups."),
        Field(
            "configDirectory",
            .string(.absolutePath),
            default: .string("/etc/setpoint/pgbackrest"),
            "Where Setpoint writes the stanza's pgBackRest configuration (STANZA.conf, and STANZA.d/ for its secrets)."
        ),
        Field(
            "logDirectory",
            .string(.absolutePath),
            default: .string("/var/log/pgbackrest"),
            "pgBackRest's log-path."
        ),
    ])

    public static let definition = KindDefinition(
        BackupPolicySpec.self,
        isManaged: true,
        summary:
            "pgBackRest backups of a PostgresCluster: schedules, retention, encryption, RPO/RTO objectives and restore drills.",
        spec: spec,
        uniqueKeys: [
            UniqueKey(
                scope: "backup-cluster",
                paths: [["cluster"]],
                reason: "one BackupPolicy per PostgresCluster: it owns the cluster's archive_mode and archive_command"
            )
        ]
    )
}

public struct BackupPolicySpec: ResourceSpec {
    public static let kind = ResourceKind.backupPolicy
    public var cluster: String
    public var stanza: String?
    public var repository: Repository
    public var schedules: Schedules
    public var timezone: String?
    public var retention: Retention
    public var compression: String?
    public var encryption: Encryption?
    public var tls: TLS?
    public var archiveTimeout: DurationValue?
    public var objectives: Objectives?
    public var drill: Drill?
    public var logical: Logical?
    public var configDirectory: String?
    public var logDirectory: String?

    public struct Repository: Codable, Sendable, Equatable {
        public var path: String
        public var type: String?
        public var s3: S3?
        public var runsOn: String?
    }

    public struct TLS: Codable, Sendable, Equatable {
        public var ca: SecretReference
        public var certificate: SecretReference
        public var key: SecretReference
        public var port: Int?
        public var clientName: String?
    }

    public struct S3: Codable, Sendable, Equatable {
        public var bucket: String
        public var endpoint: String
        public var region: String
        public var keyId: SecretReference
        public var key: SecretReference
    }

    public struct Schedules: Codable, Sendable, Equatable {
        public var full: String
        public var diff: String?
        public var incr: String?
    }

    public struct Retention: Codable, Sendable, Equatable {
        public var full: Int?
        public var window: DurationValue?
    }

    public struct Encryption: Codable, Sendable, Equatable {
        public var cipher: String
        public var passphrase: SecretReference
    }

    public struct Objectives: Codable, Sendable, Equatable {
        public var rpo: DurationValue?
        public var rto: DurationValue?
    }

    public struct Check: Codable, Sendable, Equatable {
        public var sql: String
        public var expect: String
        public var database: String?
    }

    public struct Drill: Codable, Sendable, Equatable {
        public var schedule: String
        public var port: Int
        public var directory: String
        public var checks: [Check]?
        public var timeout: DurationValue?
        public var runsOn: String?
    }

    public struct Logical: Codable, Sendable, Equatable {
        public var schedule: String
        public var databases: [String]
        public var directory: String
        public var retain: Int?
    }
}
