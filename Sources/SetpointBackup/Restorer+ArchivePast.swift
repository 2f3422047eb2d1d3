import Foundation
import SetpointCore
import SetpointPG
import SetpointRemote

extension Restorer {
    /// Makes sure the repository holds WAL past a recovery target, so recovery can stop there: PostgreSQL ends a
    /// recovery that runs out of WAL before its target with `FATAL: recovery ended before configured recovery target
    /// was reached`. While the primary answers, a commit is written (so one lies after the target) and its segment
    /// switched out; the archiver then has `timeout` to take it. With the primary down, the repository is all there
    /// is: the restore goes ahead with it.
    func archivePast(_ target: RecoveryTarget, timeout: Duration = .seconds(60)) async throws {
        guard target.date <= clock.now else {
            throw fail("the target time \(target) is in the future: recovery cannot stop at a time no WAL reaches yet")
        }
        guard let db = try? await BackupFacts.connect(settings) else { return }
        defer { db.close() }
        // A commit now (after the target, which is not in the future), and the segment holding it switched out: once
        // the archiver has taken that segment, the repository holds WAL past the target. (Something archived after
        // the target time says nothing: archive_timeout archives segments of older writes too.)
        _ = try await db.query("SELECT pg_current_xact_id()")
        guard
            let segment = try await db.query("SELECT pg_walfile_name(pg_switch_wal() - 1) AS segment").first?[
                "segment"
            ]
        else { return }
        let archived = "SELECT coalesce(last_archived_wal >= $1, false)::text AS done FROM pg_stat_archiver"
        let deadline = clock.elapsed + timeout
        while clock.elapsed < deadline {
            if try await db.query(archived, [segment]).first?["done"] == "true" { return }
            try await clock.sleep(for: .milliseconds(250))
        }
        let archiver = try await db.query(
            "SELECT coalesce(last_failed_wal, '') AS wal, coalesce(last_failed_time::text, '') AS at FROM pg_stat_archiver"
        ).first
        let failed =
            (archiver?["wal"]).flatMap {
                $0.isEmpty ? nil : "; the archiver last failed on \($0) at \(archiver?["at"] ?? "?")"
            } ?? ""
        throw fail(
            "the WAL past \(target) did not reach the repository within \(Int(timeout.inSeconds)) s of a segment switch on "
                + "\(settings.cluster.primary)\(failed): see `setpoint backup status \(settings.id.name)` and the runbook's archiving section"
        )
    }
}
