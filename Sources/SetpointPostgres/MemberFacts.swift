import SetpointPG

/// What one PostgreSQL member says about itself, in PostgreSQL's own terms: the raw facts the PostgresCluster
/// provider plans from (roles, replication, slots, parameters).
public struct MemberFacts: Sendable {
    /// A server parameter as `pg_settings` has it, with the value the config files want when it waits for a restart.
    public struct Setting: Sendable, Equatable {
        public var setting: String
        public var unit: String?
        /// `postmaster` (restart), `sighup` (reload), `superuser`, `user`, …
        public var context: String
        public var pendingRestart: Bool
        /// The value in the configuration files (`postgresql.auto.conf` included) when it differs from the running one.
        public var fileValue: String?
        /// The file that last sets it (`…/postgresql.auto.conf` when ALTER SYSTEM did).
        public var fileSource: String?
    }

    /// A standby as the primary sees it (`pg_stat_replication`).
    public struct Standby: Sendable, Equatable {
        public var applicationName: String
        public var clientAddress: String?
        /// `streaming`, `catchup`, `startup`, `backup` …
        public var state: String
        /// `async`, `potential`, `sync`, `quorum`.
        public var syncState: String
        /// Bytes of WAL not yet replayed by the standby.
        public var replayLag: Int64?
    }

    /// A replication slot (`pg_replication_slots`).
    public struct Slot: Sendable, Equatable {
        public var name: String
        public var type: String
        public var active: Bool
        /// WAL the slot holds back, bytes.
        public var retainedBytes: Int64?
    }

    /// What a standby's WAL receiver says (`pg_stat_wal_receiver`).
    public struct Receiver: Sendable, Equatable {
        public var status: String
        public var senderHost: String?
        public var senderPort: Int?
        public var slotName: String?
    }

    public var endpoint: String
    public var serverVersion: Int
    /// `pg_control_system().system_identifier`: members of one cluster share it.
    public var systemIdentifier: String
    public var inRecovery: Bool
    public var timeline: Int
    public var dataDirectory: String?
    public var standbys: [Standby]
    public var slots: [Slot]
    public var receiver: Receiver?
    public var settings: [String: Setting]

    /// The major version (15 for 150018).
    public var majorVersion: Int { serverVersion / 10000 }
}

/// Reads a member's facts over one connection.
public enum MemberProbe {
    /// - Parameter parameters: the settings to read (the manifest's, plus what the provider always needs).
    public static func probe(_ db: PGConnection, parameters: [String]) async throws -> MemberFacts {
        let basics = try await db.query(
            """
            SELECT pg_is_in_recovery() AS recovery, (pg_control_system()).system_identifier::text AS sysid,
                   -- A primary's current timeline is in its WAL file name (the checkpoint's lags after a promotion).
                   CASE WHEN pg_is_in_recovery() THEN (pg_control_checkpoint()).timeline_id
                        ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END AS timeline,
                   current_setting('data_directory') AS datadir
            """
        )
        let row = basics.first
        var facts = MemberFacts(
            endpoint: db.endpoint,
            serverVersion: db.serverVersion,
            systemIdentifier: row?["sysid"] ?? "",
            inRecovery: row?.bool("recovery") ?? false,
            timeline: row?.int("timeline") ?? 0,
            dataDirectory: row?["datadir"],
            standbys: [],
            slots: [],
            receiver: nil,
            settings: [:]
        )
        let wanted = Array(
            Set(
                parameters + [
                    "synchronous_standby_names", "wal_log_hints", "data_checksums", "max_connections",
                    "max_wal_senders", "max_replication_slots", "port", "primary_conninfo", "primary_slot_name",
                ]
            )
        ).sorted()
        let settings = try await db.query(
            """
            SELECT s.name, s.setting, s.unit, s.context, s.pending_restart,
                   (SELECT f.setting FROM pg_file_settings f WHERE f.name = s.name
                    ORDER BY f.seqno DESC LIMIT 1) AS file_value,
                   (SELECT f.sourcefile FROM pg_file_settings f WHERE f.name = s.name
                    ORDER BY f.seqno DESC LIMIT 1) AS file_source
            FROM pg_settings s WHERE s.name = ANY($1::text[])
            """,
            ["{" + wanted.map { "\"\($0)\"" }.joined(separator: ",") + "}"]
        )
        for r in settings.records {
            guard let name = r["name"] else { continue }
            facts.settings[name] = MemberFacts.Setting(
                setting: r["setting"] ?? "",
                unit: r["unit"],
                context: r["context"] ?? "",
                pendingRestart: r.bool("pending_restart") ?? false,
                fileValue: r["file_value"],
                fileSource: r["file_source"]
            )
        }
        if facts.inRecovery {
            let receiver = try await db.query(
                "SELECT status, sender_host, sender_port, slot_name FROM pg_stat_wal_receiver"
            )
            facts.receiver = receiver.first.map {
                MemberFacts.Receiver(
                    status: $0["status"] ?? "",
                    senderHost: $0["sender_host"],
                    senderPort: $0.int("sender_port"),
                    slotName: $0["slot_name"]
                )
            }
        } else {
            let standbys = try await db.query(
                """
                SELECT application_name, client_addr::text AS addr, state, sync_state,
                       pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint AS replay_lag
                FROM pg_stat_replication ORDER BY application_name
                """
            )
            facts.standbys = standbys.records.map {
                MemberFacts.Standby(
                    applicationName: $0["application_name"] ?? "",
                    clientAddress: $0["addr"],
                    state: $0["state"] ?? "",
                    syncState: $0["sync_state"] ?? "",
                    replayLag: $0.int64("replay_lag")
                )
            }
        }
        let slots = try await db.query(
            """
            SELECT slot_name, slot_type, active,
                   CASE WHEN restart_lsn IS NULL THEN NULL
                        ELSE pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END,
                                             restart_lsn)::bigint END AS retained
            FROM pg_replication_slots ORDER BY slot_name
            """
        )
        facts.slots = slots.records.map {
            MemberFacts.Slot(
                name: $0["slot_name"] ?? "",
                type: $0["slot_type"] ?? "",
                active: $0.bool("active") ?? false,
                retainedBytes: $0.int64("retained")
            )
        }
        return facts
    }
}
