import Foundation
import SetpointCore

/// What the controller needs to run a policy's schedules and export its metrics; the runs are the CLI's own.
extension BackupProvider: BackupScheduling {
    public var scheduledKind: ResourceKind { .backupPolicy }

    public func schedules(of resource: Resource) -> [BackupSchedule] {
        guard !resource.isOrphan, let spec = try? resource.decodeSpec(BackupPolicySpec.self) else { return [] }
        let zone = spec.timezone ?? "UTC"
        guard let calendar = ScheduleCalendar(timeZone: zone) else { return [] }
        let declared: [(BackupRun.Kind, String?)] = [
            (.full, spec.schedules.full), (.diff, spec.schedules.diff), (.incr, spec.schedules.incr),
            (.logical, spec.logical?.schedule), (.drill, spec.drill?.schedule),
        ]
        return declared.compactMap { kind, text in
            guard let text, let cron = CronSchedule(text) else { return nil }
            return BackupSchedule(kind: kind, cron: text, timeZone: zone) { calendar.next(cron, after: $0) }
        }
    }

    public func domains(of resource: Resource) -> [String] {
        guard let cluster = resource.spec["cluster"]?.stringValue else { return [] }
        return ["pg:\(cluster)"]
    }

    public func run(
        _ kind: BackupRun.Kind,
        of resource: Resource,
        targetTime: String?,
        trigger: String,
        in context: ProviderContext
    )
        async throws -> BackupRun
    {
        guard kind == .drill else { return try await backup(resource, type: kind, trigger: trigger, in: context) }
        var target: RecoveryTarget?
        if let targetTime {
            guard let t = RecoveryTarget(targetTime) else {
                throw SetpointError(
                    .planRefused,
                    "target time \(targetTime): expected \(RecoveryTarget.help)",
                    resource: resource.id
                )
            }
            target = t
        }
        return try await drill(resource, target: target, trigger: trigger, in: context)
    }

    public func problem(targetTime: String) -> String? {
        RecoveryTarget(targetTime) == nil ? "target time \(targetTime): expected \(RecoveryTarget.help)" : nil
    }

    public func reading(of resource: Resource, runs: [BackupRun], in context: ProviderContext) async -> BackupReading {
        let name = resource.id.name
        var newest: [BackupRun.Kind: Date] = [:]
        for run in runs where run.outcome == .succeeded && run.kind == .logical {
            if let d = Timestamp.parse(run.finishedAt) { newest[.logical] = max(newest[.logical] ?? d, d) }
        }
        let report: BackupStatusReport
        do { report = try await status(resource, runs: runs, in: context) } catch {
            return BackupReading(gauges: [], newestBackup: newest, problem: "\(error)")
        }
        for b in report.backups {
            guard let kind = BackupRun.Kind(rawValue: b.type), let d = Timestamp.parse(b.finishedAt) else { continue }
            newest[kind] = max(newest[kind] ?? d, d)
        }
        return BackupReading(gauges: BackupAlerts.gauges(report, policy: name, newest: newest), newestBackup: newest)
    }
}

extension BackupAlerts {
    /// The gauges the alert rules read, from a status report.
    static func gauges(_ report: BackupStatusReport, policy: String, newest: [BackupRun.Kind: Date]) -> [GaugeSample] {
        var out: [GaugeSample] = []
        for kind in newest.keys.sorted(by: { $0.rawValue < $1.rawValue }) {
            out.append(
                GaugeSample(
                    lastSuccess,
                    help:
                        "When the newest successful backup of this type finished (from the repository; logical: the last dump).",
                    labels: ["policy": policy, "type": kind.rawValue],
                    value: newest[kind]!.timeIntervalSince1970
                )
            )
        }
        if let archive = report.archive {
            out.append(
                GaugeSample(
                    archiveFailing,
                    help: "1 when WAL archiving fails (a segment failed and nothing was archived since).",
                    labels: ["policy": policy],
                    value: archive.failing ? 1 : 0
                )
            )
        }
        // Without working archiving to this stanza the actual RPO is unbounded: the compliance gauge and
        // WALArchivingFailing say so; a made-up number here would only mislead.
        if let wait = report.rpo.actualSeconds {
            out.append(
                GaugeSample(
                    archiveWait,
                    help: "How long the oldest WAL not yet archived has waited, in seconds (the actual RPO).",
                    labels: ["policy": policy],
                    value: wait
                )
            )
        }
        if let drill = report.lastDrill {
            out.append(
                GaugeSample(
                    drillSeconds,
                    help:
                        "How long the last restore drill took, in seconds (restore + start + checks: the measured RTO).",
                    labels: ["policy": policy],
                    value: drill.seconds
                )
            )
            out.append(
                GaugeSample(
                    drillSucceeded,
                    help: "1 when the last restore drill passed its checks.",
                    labels: ["policy": policy],
                    value: drill.outcome == .succeeded ? 1 : 0
                )
            )
        }
        out.append(
            GaugeSample(
                compliant,
                help: "1 when every objective of the policy is met (setpoint backup status exits 0).",
                labels: ["policy": policy],
                value: report.compliant ? 1 : 0
            )
        )
        return out
    }
}
