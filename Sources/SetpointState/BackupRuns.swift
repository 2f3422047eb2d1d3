public import SetpointCore

/// Where backup runs and drills are kept.
public protocol BackupRunStore: Sendable {
    /// Records a finished run (replacing one with the same id).
    func recordBackupRun(_ run: BackupRun) async throws
    /// Runs of a policy (every policy when nil), newest first, at most `limit`.
    func backupRuns(policy: String?, limit: Int) async throws -> [BackupRun]
}
