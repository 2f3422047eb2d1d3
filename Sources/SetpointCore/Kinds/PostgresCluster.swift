/// `PostgresCluster` (managed; its existing primary is a referenced part): a primary with streaming replicas.
public enum PostgresClusterKind {
    static let member = ObjectSchema(
        [
            Field("name", .string(.dnsLabel), required: true, "Member name; also its application_name and slot name."),
            Field(
                "runsOn",
                .reference(.host),
                "The Host the member runs on: its tools (pg_ctl, pg_basebackup, pg_rewind) run there over SSH, its files are read and written there. Absent: the machine Setpoint runs on."
            ),
            Field("host", .string(.host), "Address libpq dials (the runsOn Host's address when absent)."),
            Field("port", .integer(min: 1, max: 65535), default: .int(5432), "Port."),
            Field(
                "conninfo",
                .string(.nonEmpty),
                "A libpq conninfo string or URI instead of host/port (no password: use the cluster's credentials)."
            ),
            Field(
                "dataDirectory",
                .string(.absolutePath),
                "Data directory (needed to create, start or rewind the member)."
            ),
            Field("synchronous", .boolean, default: .bool(false), "A candidate for synchronous replication."),
            Field(
                "guest",
                .reference(.virtualMachine),
                "The VirtualMachine the member runs on, so it is created first."
            ),
        ],
        atMostOneOf: [["host", "conninfo"]]
    )

    static let replication = ObjectSchema([
        Field("user", .string(.pgIdentifier), default: .string("replicator"), "Role the replicas connect as."),
        Field("password", .secret, "That role's password, by reference."),
        Field(
            "synchronousCount",
            .integer(min: 0, max: 32),
            default: .int(0),
            "How many synchronous standbys (ANY n)."
        ),
        Field("slots", .boolean, default: .bool(true), "Use a physical replication slot per replica."),
        Field(
            "pgHba",
            .boolean,
            default: .bool(true),
            "Keep a marked block at the top of the pg_hba.conf of each member that runs on a Host, letting every member's address replicate (the replication user) and pg_rewind from it (the connection user), scram-sha-256; the rest of the file is left as it is. false: you keep pg_hba.conf yourself."
        ),
        Field(
            "maxSwitchoverLag",
            .quantity(.bytes),
            default: .int(16 << 20),
            "Largest replay lag at which a switchover may start."
        ),
    ])

    static let connection = ObjectSchema([
        Field("user", .string(.pgIdentifier), default: .string("postgres"), "Role Setpoint connects as."),
        Field("password", .secret, "That role's password, by reference (or use .pgpass)."),
        Field("database", .string(.nonEmpty), default: .string("postgres"), "Database Setpoint connects to."),
        Field(
            "sslmode",
            .enumeration(["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]),
            default: .string("prefer"),
            "libpq sslmode."
        ),
        Field("connectTimeout", .duration, default: .int(5_000), "Connect timeout."),
    ])

    public static let spec = ObjectSchema([
        Field("version", .integer(min: 12, max: 18), "Major PostgreSQL version expected on every member."),
        Field(
            "primary",
            .string(.dnsLabel),
            required: true,
            "Name of the member that is the primary; changing it is a switchover."
        ),
        Field(
            "members",
            .list(.object(member), minItems: 1, uniqueItems: false),
            required: true,
            "The primary and its replicas."
        ),
        Field("connection", .object(connection), "How Setpoint connects to members."),
        Field("replication", .object(replication), "Streaming replication settings."),
        Field(
            "parameters",
            .map(keys: .pgParameter, values: .scalarText),
            "Server parameters (ALTER SYSTEM); postmaster ones need a restart."
        ),
        Field(
            "binDirectory",
            .string(.absolutePath),
            "Where pg_basebackup, pg_ctl and pg_rewind are (default /usr/lib/postgresql/VERSION/bin, Debian's layout)."
        ),
        Field(
            "osUser",
            .string(.nonEmpty),
            default: .string("postgres"),
            "The OS user that owns the data directories and runs the tools."
        ),
    ])

    public static let definition = KindDefinition(
        PostgresClusterSpec.self,
        isManaged: true,
        summary: "A PostgreSQL primary (referenced: adopted with import) and its streaming replicas (managed).",
        spec: spec
    )
}

public struct PostgresClusterSpec: ResourceSpec {
    public static let kind = ResourceKind.postgresCluster
    public var version: Int?
    public var primary: String
    public var members: [Member]
    public var connection: Connection?
    public var replication: Replication?
    public var parameters: [String: String]?
    public var binDirectory: String?
    public var osUser: String?

    public struct Member: Codable, Sendable, Equatable {
        public var name: String
        public var runsOn: String?
        public var host: String?
        public var port: Int?
        public var conninfo: String?
        public var dataDirectory: String?
        public var synchronous: Bool?
        public var guest: String?
    }

    public struct Connection: Codable, Sendable, Equatable {
        public var user: String?
        public var password: SecretReference?
        public var database: String?
        public var sslmode: String?
        public var connectTimeout: DurationValue?
    }

    public struct Replication: Codable, Sendable, Equatable {
        public var user: String?
        public var password: SecretReference?
        public var synchronousCount: Int?
        public var slots: Bool?
        public var pgHba: Bool?
        public var maxSwitchoverLag: Quantity?
    }
}
