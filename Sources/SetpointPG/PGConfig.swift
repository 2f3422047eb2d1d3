/// Where and how to connect: the parts of a libpq conninfo string Setpoint sets. Anything left nil falls back to
/// libpq's own sources — `PG*` environment variables, `~/.pgpass` (or `PGPASSFILE`), service files.
public struct PGConfig: Sendable, Hashable {
    /// One host, or several for failover with `targetSessionAttrs` (`host1,host2`); a path is a socket directory.
    public var host: String?
    public var port: Int?
    public var user: String?
    /// Resolved from a secret reference just before connecting; never printed.
    public var password: String?
    public var database: String?
    /// `disable`, `allow`, `prefer`, `require`, `verify-ca`, `verify-full`.
    public var sslmode: String?
    public var connectTimeoutSeconds: Int?
    /// `any`, `read-write`, `read-only`, `primary`, `standby`, `prefer-standby`.
    public var targetSessionAttrs: String?
    public var applicationName: String?
    /// Extra `key=value` settings, or a full conninfo string / URI given by the user (merged before the fields above).
    public var conninfo: String?
    /// Extra parameters (e.g. `replication=database`); keys are libpq keywords.
    public var options: [String: String]

    public init(
        host: String? = nil,
        port: Int? = nil,
        user: String? = nil,
        password: String? = nil,
        database: String? = nil,
        sslmode: String? = nil,
        connectTimeoutSeconds: Int? = nil,
        targetSessionAttrs: String? = nil,
        applicationName: String? = nil,
        conninfo: String? = nil,
        options: [String: String] = [:]
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.sslmode = sslmode
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.targetSessionAttrs = targetSessionAttrs
        self.applicationName = applicationName
        self.conninfo = conninfo
        self.options = options
    }

    /// A libpq conninfo string for a tool's command line or a settings file (`primary_conninfo`, `pg_dump -d`): each
    /// value single-quoted, `'` and `\` escaped, as libpq reads them.
    public static func conninfoString(_ pairs: [(String, String)]) -> String {
        pairs.map { key, value in
            var quoted = ""
            for c in value {
                if c == "\\" || c == "'" { quoted.append("\\") }
                quoted.append(c)
            }
            return "\(key)='\(quoted)'"
        }.joined(separator: " ")
    }

    /// libpq keywords and values (`PQconnectdbParams`): no string is assembled, so no value needs quoting.
    /// A user-given conninfo or URI goes in as `dbname` with `expand_dbname`, as libpq documents.
    var keywords: [(String, String)] {
        var k: [(String, String)] = []
        if let conninfo { k.append(("dbname", conninfo)) }
        if let host { k.append(("host", host)) }
        if let port { k.append(("port", String(port))) }
        if let user { k.append(("user", user)) }
        if let password { k.append(("password", password)) }
        if let database { k.append((conninfo == nil ? "dbname" : "dbname", database)) }
        if let sslmode { k.append(("sslmode", sslmode)) }
        if let connectTimeoutSeconds { k.append(("connect_timeout", String(connectTimeoutSeconds))) }
        if let targetSessionAttrs { k.append(("target_session_attrs", targetSessionAttrs)) }
        if let applicationName { k.append(("application_name", applicationName)) }
        for (key, value) in options.sorted(by: { $0.key < $1.key }) { k.append((key, value)) }
        return k
    }

    /// `host:port` for messages (never the user's conninfo, which may hold a password).
    public var endpoint: String {
        "\(host ?? "(default host)"):\(port.map(String.init) ?? "(default port)")"
    }
}
