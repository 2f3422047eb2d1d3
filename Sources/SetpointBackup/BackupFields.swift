import SetpointCore

/// `BackupPolicy`'s fields in one table: where each lives (a pgBackRest option of the stanza's configuration, a secret
/// of its 0600 include file, the cluster's archive settings, or only the controller's schedules and drills), how it
/// compares and what changing it does. The configuration written, the options read back and the field policy are all
/// read from the rows.
///
/// The observed `cluster` says whether the cluster archives into this policy (`main`), or what is missing
/// (`main (archive_mode off)`): the one change that can need a restart, staged by the update and made live by the
/// policy's own `restart` action.
enum BackupFields {
    enum Mapping: Sendable {
        /// An object whose fields have rows of their own.
        case group
        /// Run by the controller (schedules, drills, dumps, objectives), not a setting of any system: not compared.
        case controller
        /// The cluster's archive_mode and archive_command (the archive probe says whether archiving into this policy
        /// is live).
        case archiving
        /// A PostgreSQL parameter set by ALTER SYSTEM and a reload.
        case parameter(String)
        /// pgBackRest options of the configuration's `[global]` section: the `key=value` lines the manifest writes, in
        /// order, and the manifest value the written section reads back as (nil: not written).
        case options(
            write: @Sendable (BackupSettings) -> [(String, String)],
            read: @Sendable (_ global: [String: String]) -> Value?
        )
        /// A secret in the stanza's include file: its pgBackRest option and value (never compared, never in a plan).
        case secret(String, @Sendable (BackupSettings) -> String?)
        /// Compared with what exists: the stanza in the repository, the configuration file as Setpoint writes it.
        case derived
    }

    /// The observed key naming the primary whose restart makes archiving live (no manifest field).
    static let restartKey = "(archive-restart)"

    static let rewritten = "the pgBackRest configuration is rewritten"

    /// One option with the same text in the manifest and the file.
    static func option(
        _ key: String,
        absent: String? = nil,
        _ value: @escaping @Sendable (BackupSettings) -> String?
    ) -> Mapping {
        .options(
            write: { s in value(s).map { [(key, $0)] } ?? [] },
            read: { global in (global[key] ?? absent).map(Value.string) }
        )
    }

    /// An S3 option, read back only beside the bucket (the repository is S3 only with one).
    static func s3Option(_ key: String, _ value: @escaping @Sendable (BackupSettings) -> String?) -> Mapping {
        .options(
            write: { s in value(s).map { [(key, $0)] } ?? [] },
            read: { global in global["repo1-s3-bucket"] == nil ? nil : global[key].map(Value.string) }
        )
    }

    static let table = FieldTable<Mapping>(
        defaultImpact: .hot,
        stagesRestarts: true,
        rows: [
            .init(
                "cluster",
                .archiving,
                impact: .hot,
                reason: "archive_command set to this policy's pgbackrest archive-push, by ALTER SYSTEM and a reload",
                dynamicImpact: { q in
                    guard let primary = q.observed?[restartKey]?.stringValue else { return nil }
                    return (
                        .restart,
                        "archive_mode = on (a postmaster parameter) and this policy's archive_command are written with ALTER SYSTEM "
                            + "now; archiving goes live when the policy's restart action restarts \(primary) (pg_ctl restart -m fast: "
                            + "connections drop for a few seconds)"
                    )
                }
            ),
            .init("stanza", .derived, impact: .hot, reason: "pgbackrest stanza-create (idempotent), then check"),
            .init(
                "repository",
                .group,
                impact: .hot,
                reason: "the pgBackRest configuration is rewritten; the stanza is created in the new repository"
            ),
            .init("repository.path", option("repo1-path") { $0.spec.repository.path }),
            .init("repository.type", option("repo1-type", absent: "posix") { $0.spec.repository.type ?? "posix" }),
            .init("repository.s3", .group),
            // Where the repository is: its host's configuration and server, compared under configDirectory.
            .init("repository.runsOn", .derived, comparison: .ignore),
            .init("repository.s3.bucket", option("repo1-s3-bucket") { s3($0)?.bucket }),
            .init("repository.s3.endpoint", s3Option("repo1-s3-endpoint") { s3($0)?.endpoint }),
            .init("repository.s3.region", s3Option("repo1-s3-region") { s3($0)?.region }),
            .init(
                "retention",
                .group,
                impact: .hot,
                reason: "repo1-retention-full in the configuration: the next backup's expire applies it"
            ),
            .init(
                "retention.full",
                .options(
                    write: { s in
                        s.retentionDays != nil
                            ? []
                            : [
                                ("repo1-retention-full-type", "count"),
                                ("repo1-retention-full", String(s.spec.retention.full ?? 2)),
                            ]
                    },
                    read: { g in
                        g["repo1-retention-full-type"] == "time"
                            ? nil : g["repo1-retention-full"].flatMap(Int64.init).map(Value.int)
                    }
                )
            ),
            .init(
                "retention.window",
                .options(
                    write: { s in
                        s.retentionDays.map {
                            [("repo1-retention-full-type", "time"), ("repo1-retention-full", String($0))]
                        } ?? []
                    },
                    read: { g in
                        g["repo1-retention-full-type"] != "time"
                            ? nil : g["repo1-retention-full"].flatMap(Int64.init).map { .int($0 * 86_400_000) }
                    }
                )
            ),
            .init(
                "encryption",
                .group,
                impact: .hot,
                reason: "repo1-cipher-type in the configuration, the passphrase in its 0600 include file",
                check: { c in
                    // A repository's cipher is fixed when its stanza is created: pgBackRest cannot encrypt or re-key one in place.
                    guard let before = c.before?["cipher"]?.stringValue else { return nil }
                    let after = c.after?["cipher"]?.stringValue ?? "none"
                    guard before != after else { return nil }
                    return
                        "the repository's stanza exists with cipher \(before); pgBackRest cannot change a repository's encryption in place. "
                        + "Point repository.path (or stanza) at a new, empty location to start an \(after == "none" ? "unencrypted" : "encrypted") "
                        + "repository, and keep the old one until its backups expire"
                }
            ),
            // The repository's own cipher (pgbackrest info) is observed once its stanza exists: see BackupObservation.
            .init("encryption.cipher", option("repo1-cipher-type") { $0.spec.encryption?.cipher }),
            .init(
                "compression",
                // pgBackRest's own default is gz; Setpoint writes lz4 when the manifest names none.
                option("compress-type", absent: "gz") { $0.spec.compression ?? "lz4" },
                impact: .hot,
                reason: "compress-type in the configuration: new backups and archived WAL use it"
            ),
            // Written (log-path), neither read back nor compared: where logs go is no state of the backups.
            .init(
                "logDirectory",
                .options(write: { [("log-path", $0.logDirectory)] }, read: { _ in nil }),
                comparison: .ignore
            ),
            .init("encryption.passphrase", .secret("repo1-cipher-pass") { $0.passphrase }, comparison: .ignore),
            .init("repository.s3.keyId", .secret("repo1-s3-key") { $0.s3KeyID }, comparison: .ignore),
            .init("repository.s3.key", .secret("repo1-s3-key-secret") { $0.s3Key }, comparison: .ignore),
            // The TLS-server layout's certificates and port: each host's files and server, compared under configDirectory
            // (`host.crt differs`, `pgbackrest server is not running`). Secrets are never shown.
            .init("tls", .derived, comparison: .ignore, coversFields: true),
            .init(
                "archiveTimeout",
                .parameter("archive_timeout"),
                impact: .hot,
                reason: "archive_timeout by ALTER SYSTEM and a reload"
            ),
            .init(
                "configDirectory",
                .derived,
                impact: .hot,
                reason:
                    "the stanza's configuration (and, across hosts, each host's configuration and certificates) is written "
                    + "again as Setpoint renders it; a host's pgbackrest server whose files changed is restarted"
            ),
            .init("schedules", .controller, comparison: .ignore, coversFields: true),
            .init("timezone", .controller, comparison: .ignore),
            .init("objectives", .controller, comparison: .ignore, coversFields: true),
            .init("drill", .controller, comparison: .ignore, coversFields: true),
            .init("logical", .controller, comparison: .ignore, coversFields: true),
        ]
    )

    static func s3(_ s: BackupSettings) -> BackupPolicySpec.S3? {
        (s.spec.repository.type ?? "posix") == "s3" ? s.spec.repository.s3 : nil
    }

    /// The `[global]` options the manifest writes, in the table's order.
    static func globalOptions(_ s: BackupSettings) -> [(String, String)] {
        table.rows.flatMap { row -> [(String, String)] in
            if case .options(let write, _) = row.mapping { return write(s) }
            return []
        }
    }

    /// The include file's secrets, in the table's order.
    static func secrets(_ s: BackupSettings) -> [(String, String)] {
        table.rows.compactMap { row -> (String, String)? in
            if case .secret(let key, let value) = row.mapping { return value(s).map { (key, $0) } }
            return nil
        }
    }

    /// The manifest fields the written `[global]` section says, as one spec map.
    static func observed(global: [String: String]) -> [String: Value] {
        var spec = Value.map([:])
        for row in table.rows {
            guard case .options(_, let read) = row.mapping, let value = read(global) else { continue }
            spec = spec.setting(row.pattern, to: value)
        }
        if case .map(let m) = spec { return m }
        return [:]
    }
}

extension BackupFields {
    /// The field policy the planner diffs `BackupPolicy` with.
    static let policy = table.policy()
}
