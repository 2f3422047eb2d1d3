import SetpointCore
public import SetpointState

extension AuditTrail {
    /// Records a backup, dump or drill in the state store and the audit log (`backup` or `backup-drill`, with the run
    /// as detail): the one path the CLI and the controller share.
    public func record(_ run: BackupRun, in store: any BackupRunStore) async throws {
        try await store.recordBackupRun(run)
        try await record(
            run.kind == .drill ? .backupDrill : .backup,
            resource: ResourceID(kind: .backupPolicy, name: run.policy),
            result: run.outcome.rawValue,
            detail: run.auditDetail
        )
    }
}
