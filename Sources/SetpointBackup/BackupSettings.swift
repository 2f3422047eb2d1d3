import Foundation
import SetpointCore
import SetpointPG

/// The PostgresCluster a policy backs up, as far as backups need it: how to connect to its primary, where the
/// primary's data directory is, which tools and OS user run it. Read from the declared cluster's manifest.
struct ClusterTarget: Sendable {
    /// A member as pgBackRest needs it: where it runs, the address the repository host's pgBackRest dials (its TLS
    /// server), its port and data directory.
    struct Member: Sendable, Equatable {
        var name: String
        var runsOn: String?
        /// The member's address: its `host`, else its Host's address, else this machine (127.0.0.1).
        var address: String
        var port: Int
        var dataDirectory: String?
        /// Whether `address` came from the manifest (its `host`, or its Host's), not the 127.0.0.1 stand-in.
        var hasAddress: Bool = true
    }

    var name: String
    var primary: String
    var host: String?
    var port: Int
    var dataDirectory: String
    var version: Int?
    var binDirectoryOverride: String?
    var osUser: String
    var connection: PGConfig
    /// Every member, the declared primary first: pgBackRest's pg1…pgN in the TLS-server layout (it finds which one is
    /// the primary itself, so a switchover needs no new configuration).
    var members: [Member]
    /// The Host the declared primary runs on (nil: this machine).
    var primaryRunsOn: String?

    func binDirectory(major: Int?) -> String {
        binDirectoryOverride ?? "/usr/lib/postgresql/\(major ?? version ?? 15)/bin"
    }

    init(_ resource: Resource, policy: ResourceID, declared: [ResourceID: Resource], secrets: any SecretResolver) throws
    {
        let spec = try resource.decodeSpec(PostgresClusterSpec.self)
        name = resource.id.name
        primary = spec.primary
        guard let member = spec.members.first(where: { $0.name == spec.primary }) else {
            throw SetpointError(
                .applyFailed,
                "\(resource.id) names primary \(spec.primary), which is not one of its members",
                resource: policy
            )
        }
        guard let directory = member.dataDirectory else {
            throw SetpointError(
                .applyFailed,
                "\(resource.id) declares no dataDirectory for its primary \(spec.primary): pgBackRest needs it (pg1-path); "
                    + "add 'dataDirectory:' to member \(spec.primary)",
                resource: policy
            )
        }
        func hostAddress(_ runsOn: String?) -> String? {
            runsOn.flatMap { HostSpec.named($0, in: declared)?.address }
        }
        let ordered = [member] + spec.members.filter { $0.name != spec.primary }
        members = ordered.map { m in
            Member(
                name: m.name,
                runsOn: m.runsOn,
                address: m.host ?? hostAddress(m.runsOn) ?? "127.0.0.1",
                port: m.port ?? 5432,
                dataDirectory: m.dataDirectory,
                hasAddress: m.host != nil || hostAddress(m.runsOn) != nil
            )
        }
        primaryRunsOn = member.runsOn
        host = member.host ?? hostAddress(member.runsOn)
        port = member.port ?? 5432
        dataDirectory = directory
        version = spec.version
        binDirectoryOverride = spec.binDirectory
        osUser = spec.osUser ?? "postgres"
        let password = try spec.connection?.password.map { ref in
            do { return try secrets.resolve(ref) } catch {
                throw SetpointError(
                    .secretUnavailable,
                    "\(resource.id) spec.connection.password (\(ref.origin)): \(error)",
                    resource: policy
                )
            }
        }
        let seconds = max(1, Int(((spec.connection?.connectTimeout?.milliseconds ?? 5_000) + 999) / 1000))
        connection = PGConfig(
            host: host,
            port: member.conninfo == nil ? port : nil,
            user: spec.connection?.user ?? "postgres",
            password: password,
            database: spec.connection?.database ?? "postgres",
            sslmode: spec.connection?.sslmode ?? "prefer",
            connectTimeoutSeconds: seconds,
            applicationName: "setpoint-backup",
            conninfo: member.conninfo
        )
    }
}

/// A `BackupPolicy` with its defaults filled in, its cluster read and its secrets resolved.
struct BackupSettings: Sendable {
    var id: ResourceID
    var spec: BackupPolicySpec
    var stanza: String
    var configDirectory: String
    var logDirectory: String
    var cluster: ClusterTarget
    /// `repo1-cipher-pass`, never written anywhere but the 0600 include file.
    var passphrase: String?
    var s3KeyID: String?
    var s3Key: String?
    /// The TLS-server layout's certificates (nil: everything on this machine, no servers).
    var tls: TLSMaterial?

    struct TLSMaterial: Sendable {
        var ca: String
        var certificate: String
        var key: String
        var port: Int
        var clientName: String
    }

    var configFile: String { "\(configDirectory)/\(stanza).conf" }
    var includeDirectory: String { "\(configDirectory)/\(stanza).d" }
    var secretFile: String { "\(includeDirectory)/secret.conf" }
    var osUser: String { cluster.osUser }
    /// The folder of the TLS-server layout's certificates and the server's PID file (0700, the OS user's).
    var tlsDirectory: String { "\(configDirectory)/\(stanza).tls" }
    /// Whether anything runs on another Host: then every host reaches the repository through pgBackRest's TLS server.
    var isSpread: Bool {
        spec.repository.runsOn != nil || spec.drill?.runsOn != nil || cluster.members.contains { $0.runsOn != nil }
    }

    init(_ resource: Resource, declared: [ResourceID: Resource], secrets: any SecretResolver) throws {
        id = resource.id
        spec = try resource.decodeSpec(BackupPolicySpec.self)
        stanza = spec.stanza ?? resource.id.name
        configDirectory = spec.configDirectory ?? "/etc/setpoint/pgbackrest"
        logDirectory = spec.logDirectory ?? "/var/log/pgbackrest"
        let clusterID = ResourceID(kind: .postgresCluster, name: spec.cluster)
        guard let declaredCluster = declared[clusterID] else {
            throw SetpointError(
                .applyFailed,
                "spec.cluster names \(clusterID), which no manifest given declares: give the folder that declares it",
                resource: resource.id
            )
        }
        cluster = try ClusterTarget(declaredCluster, policy: resource.id, declared: declared, secrets: secrets)
        func resolve(_ ref: SecretReference?, _ field: String) throws -> String? {
            guard let ref else { return nil }
            do { return try secrets.resolve(ref) } catch {
                throw SetpointError(
                    .secretUnavailable,
                    "spec.\(field) (\(ref.origin)): \(error)",
                    resource: resource.id
                )
            }
        }
        passphrase = try resolve(spec.encryption?.passphrase, "encryption.passphrase")
        s3KeyID = try resolve(spec.repository.s3?.keyId, "repository.s3.keyId")
        s3Key = try resolve(spec.repository.s3?.key, "repository.s3.key")
        if let t = spec.tls {
            tls = TLSMaterial(
                ca: try resolve(t.ca, "tls.ca") ?? "",
                certificate: try resolve(t.certificate, "tls.certificate") ?? "",
                key: try resolve(t.key, "tls.key") ?? "",
                port: t.port ?? 8432,
                clientName: t.clientName ?? "pgbackrest-client"
            )
        }
        if isSpread, tls == nil {
            let where_ =
                spec.repository.runsOn.map { "the repository runs on Host/\($0)" }
                ?? cluster.members.first { $0.runsOn != nil }.map {
                    "member \($0.name) of PostgresCluster/\(cluster.name) runs on Host/\($0.runsOn!)"
                } ?? "the drill runs on Host/\(spec.drill?.runsOn ?? "")"
            throw SetpointError(
                .applyFailed,
                "\(where_): the hosts reach the repository through pgBackRest's TLS server, which needs spec.tls "
                    + "(ca, certificate and key by reference; docs/backups.md says how to make them)",
                resource: resource.id
            )
        }
    }

    /// The `archive_command` this policy sets: pgBackRest with this stanza's configuration and secrets.
    var archiveCommand: String {
        "pgbackrest --config=\(Self.quoted(configFile)) --config-include-path=\(Self.quoted(includeDirectory)) --stanza=\(stanza) archive-push %p"
    }

    /// The `restore_command` of a copy restored into `pgPath`: pgBackRest's own omits the include path (so an
    /// encrypted repository's WAL could not be read), and archive-get insists on the copy's pg1-path.
    /// `extra`: options for where the copy runs (the repository's host resets its `pgN-host`s: the copy is local there).
    func restoreCommand(pgPath: String, extra: [String] = []) -> String {
        "pgbackrest --config=\(Self.quoted(configFile)) --config-include-path=\(Self.quoted(includeDirectory)) "
            + "--pg1-path=\(Self.quoted(pgPath)) " + extra.map { $0 + " " }.joined()
            + "--stanza=\(stanza) archive-get %f \"%p\""
    }

    /// On the repository's host its configuration names each member's host (`pgN-host`); a restore there, and the
    /// copy's archive-get, act on a local directory, so those are reset (`--reset-pgN-host`).
    var resetsOfMemberHosts: [String] {
        let n = cluster.members.filter { $0.dataDirectory != nil }.count
        return n == 0 ? [] : (1...n).map { "--reset-pg\($0)-host" }
    }

    /// A path as the shell PostgreSQL runs archive_command through reads it: bare when safe, else single-quoted.
    static func quoted(_ path: String) -> String {
        let safe = path.allSatisfy { $0.isLetter || $0.isNumber || "/._-+:@".contains($0) }
        return safe ? path : "'" + path.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Retention in days for a time-based window (validation keeps windows to whole days).
    var retentionDays: Int? {
        spec.retention.window.map { Int(($0.milliseconds + 86_399_999) / 86_400_000) }
    }
}
