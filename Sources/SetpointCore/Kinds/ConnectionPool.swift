/// `ConnectionPool` (managed; the PgBouncer instance is a referenced part): databases routed to a cluster.
public enum ConnectionPoolKind {
    static let poolMode = SchemaType.enumeration(["session", "transaction", "statement"])

    static let pgbouncer = ObjectSchema([
        Field(
            "runsOn",
            .reference(.host),
            "The Host PgBouncer runs on: its include file is written there. Absent: the machine Setpoint runs on."
        ),
        Field("host", .string(.host), "Address of the admin console (the runsOn Host's address, else 127.0.0.1)."),
        Field("port", .integer(min: 1, max: 65535), required: true, "PgBouncer's listen port."),
        Field("adminUser", .string(.nonEmpty), default: .string("pgbouncer"), "A user listed in admin_users."),
        Field("adminPassword", .secret, "Its password, by reference."),
        Field("iniFile", .string(.absolutePath), required: true, "PgBouncer's ini file (read, never rewritten)."),
        Field(
            "databasesFile",
            .string(.absolutePath),
            required: true,
            "The [databases] file the ini %includes; Setpoint owns and rewrites it."
        ),
    ])

    static let database = ObjectSchema([
        Field("cluster", .reference(.postgresCluster), required: true, "The PostgresCluster to route to."),
        Field(
            "target",
            .enumeration(["primary", "replicas"]),
            default: .string("primary"),
            "Route to the primary or the replicas."
        ),
        Field("dbname", .string(.nonEmpty), "Database on the server (the entry's name when absent)."),
        Field("user", .string(.nonEmpty), "Force this server user."),
        Field("poolSize", .integer(min: 1, max: 10_000), "Server connections for this database's pools."),
        Field("reservePool", .integer(min: 0, max: 10_000), "Extra connections when clients wait."),
        Field("maxDbConnections", .integer(min: 0, max: 100_000), "Cap on server connections to this database."),
        Field("poolMode", poolMode, "Pool mode for this database."),
    ])

    public static let spec = ObjectSchema([
        Field("pgbouncer", .object(pgbouncer), required: true, "The PgBouncer instance (referenced)."),
        Field(
            "databases",
            .map(keys: .nonEmpty, values: .object(database)),
            required: true,
            "Client-facing database names and their routes."
        ),
        Field("poolMode", poolMode, default: .string("transaction"), "Default pool mode."),
        Field(
            "defaultPoolSize",
            .integer(min: 1, max: 10_000),
            default: .int(20),
            "Default server connections per user/database pair."
        ),
        Field("maxClientConn", .integer(min: 1, max: 1_000_000), default: .int(100), "Client connections accepted."),
        Field(
            "reservePoolSize",
            .integer(min: 0, max: 10_000),
            default: .int(0),
            "Extra connections when clients wait."
        ),
        Field("serverIdleTimeout", .duration, default: .int(600_000), "Close server connections idle this long."),
    ])

    public static let definition = KindDefinition(
        ConnectionPoolSpec.self,
        isManaged: true,
        summary: "PgBouncer databases routed to a PostgresCluster's primary or replicas, with pool modes and sizes.",
        spec: spec,
        uniqueKeys: [
            UniqueKey(
                scope: "pgbouncer-databases-file",
                paths: [["pgbouncer", "databasesFile"]],
                reason: "a [databases] file has one owner"
            )
        ]
    )
}

public struct ConnectionPoolSpec: ResourceSpec {
    public static let kind = ResourceKind.connectionPool
    public var pgbouncer: PgBouncer
    public var databases: [String: Database]
    public var poolMode: String?
    public var defaultPoolSize: Int?
    public var maxClientConn: Int?
    public var reservePoolSize: Int?
    public var serverIdleTimeout: DurationValue?

    public struct PgBouncer: Codable, Sendable, Equatable {
        public var runsOn: String?
        public var host: String?
        public var port: Int
        public var adminUser: String?
        public var adminPassword: SecretReference?
        public var iniFile: String
        public var databasesFile: String
    }

    public struct Database: Codable, Sendable, Equatable {
        public var cluster: String
        public var target: String?
        public var dbname: String?
        public var user: String?
        public var poolSize: Int?
        public var reservePool: Int?
        public var maxDbConnections: Int?
        public var poolMode: String?
    }
}
