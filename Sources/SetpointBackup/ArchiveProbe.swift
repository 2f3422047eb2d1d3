import Foundation
import SetpointCore
import SetpointPG

/// What the primary says about WAL archiving: the archive settings live and staged, and how far the archiver is behind.
struct ArchiveProbe: Sendable, Equatable {
    /// `archive_mode` as it runs (`off`, `on`, `always`).
    var mode: String
    /// `archive_mode` as written (postgresql.auto.conf and friends): differs from `mode` until a restart.
    var configuredMode: String?
    /// `archive_command` as written (pg_settings shows `(disabled)` while archive_mode is off).
    var configuredCommand: String?
    var liveCommand: String
    /// archive_timeout in seconds (0 = never forced).
    var timeoutSeconds: Int
    var socketDirectory: String?
    var majorVersion: Int?

    var lastArchivedWAL: String?
    var lastArchivedAt: Double?
    var lastFailedWAL: String?
    var lastFailedAt: Double?
    var failedCount: Int
    /// The last attempt failed and nothing was archived after it.
    var failing: Bool
    /// Completed segments waiting to be archived (`.ready` files).
    var readyCount: Int
    /// Age of the oldest of them, in seconds (whole-second resolution).
    var oldestReadySeconds: Double
    /// Seconds since the last successful archive.
    var sinceArchivedSeconds: Double?
    /// Bytes written into the current, unfinished segment (not archivable until it switches).
    var openSegmentBytes: Int64

    var archivingLive: Bool { mode == "on" || mode == "always" }

    static let settingsSQL = """
        SELECT name, setting, pending_restart::text AS pending FROM pg_settings
        WHERE name IN ('archive_mode', 'archive_command', 'archive_timeout', 'unix_socket_directories', 'server_version_num')
        """
    static let archiverSQL = #"""
        SELECT a.last_archived_wal, extract(epoch FROM a.last_archived_time)::float8 AS archived_at, a.last_failed_wal,
               extract(epoch FROM a.last_failed_time)::float8 AS failed_at, a.failed_count,
               coalesce(a.last_failed_time > coalesce(a.last_archived_time, '-infinity'), false)::text AS failing,
               (SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name ~ '\.ready$') AS ready,
               coalesce(extract(epoch FROM now() - (SELECT min(modification) FROM pg_ls_archive_statusdir() WHERE name ~ '\.ready$')), 0)::float8 AS wait,
               extract(epoch FROM now() - a.last_archived_time)::float8 AS since,
               CASE WHEN pg_is_in_recovery() THEN 0 ELSE (pg_walfile_name_offset(pg_current_wal_insert_lsn())).file_offset END AS open_bytes
        FROM pg_stat_archiver a
        """#

    static func read(_ db: PGConnection) async throws -> ArchiveProbe {
        var settings: [String: String] = [:]
        for r in try await db.query(settingsSQL).records { settings[r["name"] ?? ""] = r["setting"] ?? "" }
        var written: [String: String] = [:]
        for r in try await db.query(
            "SELECT name, setting FROM pg_file_settings WHERE name IN ('archive_mode', 'archive_command') ORDER BY seqno"
        ).records {
            written[r["name"] ?? ""] = r["setting"] ?? ""
        }
        let a = try await db.query(archiverSQL).first
        let mode = settings["archive_mode"] ?? "off"
        let live = settings["archive_command"] ?? ""
        return ArchiveProbe(
            mode: mode,
            configuredMode: written["archive_mode"] ?? mode,
            configuredCommand: written["archive_command"] ?? (live == "(disabled)" ? nil : live),
            liveCommand: live,
            timeoutSeconds: Int(settings["archive_timeout"] ?? "0") ?? 0,
            socketDirectory: settings["unix_socket_directories"]?.split(separator: ",").first.map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            .flatMap { $0.hasPrefix("/") ? $0 : nil },
            majorVersion: Int(settings["server_version_num"] ?? "").map { $0 / 10000 },
            lastArchivedWAL: a?["last_archived_wal"],
            lastArchivedAt: a?["archived_at"].flatMap(Double.init),
            lastFailedWAL: a?["last_failed_wal"],
            lastFailedAt: a?["failed_at"].flatMap(Double.init),
            failedCount: a?.int("failed_count") ?? 0,
            failing: a?["failing"] == "true",
            readyCount: a?.int("ready") ?? 0,
            oldestReadySeconds: a?["wait"].flatMap(Double.init) ?? 0,
            sinceArchivedSeconds: a?["since"].flatMap(Double.init),
            openSegmentBytes: a?.int64("open_bytes") ?? 0
        )
    }

    /// The newest restorable point's age, as an upper bound: the oldest segment still waiting to be archived, or —
    /// when everything completed is archived — the writes in the open segment, which `archive_timeout` bounds.
    var actualRPOSeconds: Double {
        var exposure = 0.0
        if openSegmentBytes > 0 {
            let since = sinceArchivedSeconds ?? Double(timeoutSeconds)
            exposure = timeoutSeconds > 0 ? min(since, Double(timeoutSeconds)) : since
        }
        return max(readyCount > 0 ? oldestReadySeconds : 0, exposure)
    }
}
