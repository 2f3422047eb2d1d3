import Foundation
import SetpointCore
import SetpointPG

/// A `PostgresCluster` spec with its defaults filled in and its secrets resolved: what observing and applying work from.
struct ClusterSettings: Sendable {
    struct Member: Sendable, Equatable {
        var name: String
        /// The Host its tools run on and its files are (nil: this machine).
        var runsOn: String? = nil
        var host: String?
        var port: Int
        var conninfo: String?
        var dataDirectory: String?
        var synchronous: Bool

        /// `host:port` for messages (a conninfo member shows as such, never the string: it may hold a password).
        var endpoint: String { host.map { "\($0):\(port)" } ?? "(conninfo)" }

        /// Its tools (`pg_ctl`, `pg_basebackup`) and data directory can be reached: on its Host over SSH, or here.
        var canControl: Bool { runsOn != nil || isLocal }

        /// Without `runsOn`, whether its address is this machine's (then its tools run here).
        var isLocal: Bool {
            guard let host else { return false }
            return ["127.0.0.1", "::1", "localhost"].contains(host) || host.hasPrefix("/")
                || host == ProcessInfo.processInfo.hostName
        }
    }

    var name: String
    var version: Int?
    var primary: String
    var members: [Member]
    var user: String
    var password: String?
    var database: String
    var sslmode: String
    var connectTimeoutSeconds: Int
    var replicationUser: String
    var replicationPassword: String?
    var synchronousCount: Int
    var useSlots: Bool
    /// Whether Setpoint keeps its marked block in the pg_hba.conf of members on Hosts.
    var managesHba: Bool
    var maxSwitchoverLag: Int64
    var parameters: [String: String]
    var binDirectoryOverride: String?
    var osUser: String

    /// - Parameter hostAddress: a declared Host's address, for members that give `runsOn` and no `host`.
    init(
        _ resource: Resource,
        secrets: any SecretResolver,
        hostAddress: (String) -> String? = { _ in nil }
    ) throws {
        let spec = try resource.decodeSpec(PostgresClusterSpec.self)
        try self.init(name: resource.id.name, spec: spec, secrets: secrets, hostAddress: hostAddress)
    }

    init(
        name: String,
        spec: PostgresClusterSpec,
        secrets: any SecretResolver,
        hostAddress: (String) -> String? = { _ in nil }
    ) throws {
        self.name = name
        version = spec.version
        primary = spec.primary
        members = spec.members.map {
            Member(
                name: $0.name,
                runsOn: $0.runsOn,
                host: $0.host ?? $0.runsOn.flatMap(hostAddress),
                port: $0.port ?? 5432,
                conninfo: $0.conninfo,
                dataDirectory: $0.dataDirectory,
                synchronous: $0.synchronous ?? false
            )
        }
        user = spec.connection?.user ?? "postgres"
        database = spec.connection?.database ?? "postgres"
        sslmode = spec.connection?.sslmode ?? "prefer"
        connectTimeoutSeconds = max(1, Int(((spec.connection?.connectTimeout?.milliseconds ?? 5_000) + 999) / 1000))
        replicationUser = spec.replication?.user ?? "replicator"
        synchronousCount = spec.replication?.synchronousCount ?? 0
        useSlots = spec.replication?.slots ?? true
        managesHba = spec.replication?.pgHba ?? true
        maxSwitchoverLag = spec.replication?.maxSwitchoverLag?.bytes ?? 16 << 20
        parameters = spec.parameters ?? [:]
        binDirectoryOverride = spec.binDirectory
        osUser = spec.osUser ?? "postgres"
        password = try spec.connection?.password.map { ref in
            do { return try secrets.resolve(ref) } catch {
                throw SetpointError(
                    .secretUnavailable,
                    "spec.connection.password (\(ref.origin)): \(error)",
                    resource: ResourceID(kind: .postgresCluster, name: name)
                )
            }
        }
        replicationPassword = try spec.replication?.password.map { ref in
            do { return try secrets.resolve(ref) } catch {
                throw SetpointError(
                    .secretUnavailable,
                    "spec.replication.password (\(ref.origin)): \(error)",
                    resource: ResourceID(kind: .postgresCluster, name: name)
                )
            }
        }
    }

    func member(_ name: String) -> Member? { members.first { $0.name == name } }

    /// Where the PostgreSQL tools are, for the server's major version.
    func binDirectory(major: Int?) -> String {
        binDirectoryOverride ?? "/usr/lib/postgresql/\(major ?? version ?? 15)/bin"
    }

    /// Members whose Host is behind a jump host: the folder of the forward Setpoint's own connections go through.
    var forwarded: [String: String] = [:]

    /// How Setpoint connects to a member: straight to it, or through the forward on its Host's connection.
    func connection(to member: Member) -> PGConfig {
        var config = serverConnection(to: member)
        if let folder = forwarded[member.name] { config.host = folder }
        return config
    }

    /// How a member is reached from the hosts (what pg_rewind on another member dials): its own address.
    func serverConnection(to member: Member) -> PGConfig {
        PGConfig(
            host: member.host,
            port: member.conninfo == nil ? member.port : nil,
            user: user,
            password: password,
            database: database,
            sslmode: sslmode,
            connectTimeoutSeconds: connectTimeoutSeconds,
            applicationName: "setpoint",
            conninfo: member.conninfo
        )
    }

    /// The synchronous standby candidates when `primary` leads: marked members, the primary excluded.
    func synchronousCandidates(primary: String) -> [String] {
        members.filter { $0.synchronous && $0.name != primary }.map(\.name)
    }

    /// The `synchronous_standby_names` this spec wants with `primary` leading (application names are member names).
    func synchronousStandbyNames(primary: String) -> String {
        ParameterValues.synchronousStandbyNames(
            count: synchronousCount,
            standbys: synchronousCandidates(primary: primary)
        )
    }

    /// A member as the manifest has it, with settings from a decoded spec (removed members come from the last apply).
    static func members(of spec: Value?, hostAddress: (String) -> String? = { _ in nil }) -> [Member] {
        guard case .list(let list)? = spec?["members"] else { return [] }
        return list.compactMap { m in
            guard let name = m["name"]?.stringValue else { return nil }
            let runsOn = m["runsOn"]?.stringValue
            return Member(
                name: name,
                runsOn: runsOn,
                host: m["host"]?.stringValue ?? runsOn.flatMap(hostAddress),
                port: m["port"]?.intValue.map { Int($0) } ?? 5432,
                conninfo: m["conninfo"]?.stringValue,
                dataDirectory: m["dataDirectory"]?.stringValue,
                synchronous: m["synchronous"] == .bool(true)
            )
        }
    }
}
