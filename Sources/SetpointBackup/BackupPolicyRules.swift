import SetpointCore

/// How a `BackupPolicy`'s fields compare and what changing each does.
///
/// The observed `cluster` says whether the cluster archives into this policy (`main`), or what is missing
/// (`main (archive_mode off)`): the one change that can need a restart, staged by the update and made live by the
/// policy's own `restart` action.
enum BackupPolicyRules {
    static let restartKey = "(archive-restart)"

    static func make() -> FieldPolicy {
        var p = FieldPolicy()
        p.stagesRestarts = true
        p.rule(
            "cluster",
            impact: .hot,
            reason: "archive_command set to this policy's pgbackrest archive-push, by ALTER SYSTEM and a reload"
        )
        p.rule("stanza", impact: .hot, reason: "pgbackrest stanza-create (idempotent), then check")
        p.rule(
            "repository",
            impact: .hot,
            reason: "the pgBackRest configuration is rewritten; the stanza is created in the new repository"
        )
        p.rule(
            "retention",
            impact: .hot,
            reason: "repo1-retention-full in the configuration: the next backup's expire applies it"
        )
        p.rule(
            "compression",
            impact: .hot,
            reason: "compress-type in the configuration: new backups and archived WAL use it"
        )
        p.rule("archiveTimeout", impact: .hot, reason: "archive_timeout by ALTER SYSTEM and a reload")
        p.rule(
            "configDirectory",
            impact: .hot,
            reason: "the stanza's configuration is written again as Setpoint renders it"
        )
        p.rule(
            "encryption",
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
        )
        for ignored in [
            "schedules", "timezone", "objectives", "drill", "logical", "logDirectory", "encryption.passphrase",
            "repository.s3.keyId", "repository.s3.key",
        ] {
            p.rule(ignored, comparison: .ignore)
        }
        p.dynamicImpact = { path, observed, after in
            guard path.components.first == .key("cluster"), path.components.count == 1 else { return nil }
            if let primary = observed?[restartKey]?.stringValue {
                return (
                    .restart,
                    "archive_mode = on (a postmaster parameter) and this policy's archive_command are written with ALTER SYSTEM "
                        + "now; archiving goes live when the policy's restart action restarts \(primary) (pg_ctl restart -m fast: "
                        + "connections drop for a few seconds)"
                )
            }
            return nil
        }
        return p
    }
}
