import Foundation
import SetpointCore
import SetpointPG
import SetpointRemote

extension Restorer {
    /// Makes sure the repository holds WAL past a recovery target, so recovery can stop there: PostgreSQL ends a
    /// recovery that runs out of WAL before its target with `FATAL: recovery ended before configured recovery target
    /// was reached`. While the primary answers and has archived nothing since the target, a commit is written (so one
    /// lies after the target) and the segment switched; the archiver then has `timeout` to take it. With the primary
    /// down, the repository is all there is: the restore goes ahead with it.
    func archivePast(_ target: RecoveryTarget, timeout: Duration = .seconds(60)) async throws {
        guard target.date <= clock.now else {
            throw fail("the target time \(target) is in the future: recovery cannot stop at a time no WAL reaches yet")
        }
        guard let db = try? await BackupFacts.connect(settings) else { return }
        defer { db.close() }
        let past =
            "SELECT coalesce(last_archived_time > '\(target.pgBackRest)'::timestamptz, false) AS past FROM pg_stat_archiver"
        if try await db.query(past).first?["past"] == "t" { return }
        _ = try await db.query("SELECT pg_current_xact_id()")
        _ = try await db.query("SELECT pg_switch_wal()")
        let deadline = clock.elapsed + timeout
        while clock.elapsed < deadline {
            if try await db.query(past).first?["past"] == "t" { return }
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
