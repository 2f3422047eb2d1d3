import Foundation
import SetpointCore

/// The metrics a controller exports per policy, and an `AlertRuleGroup` manifest over them for the policy's objectives.
public enum BackupAlerts {
    public static let lastSuccess = "setpoint_backup_last_success_timestamp_seconds"
    public static let archiveWait = "setpoint_backup_archive_wait_seconds"
    public static let archiveFailing = "setpoint_backup_archive_failing"
    public static let drillSeconds = "setpoint_backup_drill_last_seconds"
    public static let drillSucceeded = "setpoint_backup_drill_last_success"
    public static let compliant = "setpoint_backup_compliant"

    /// The longest the policy's schedules leave between two backups, plus an hour's grace.
    static func allowedBackupAge(_ spec: BackupPolicySpec, now: Date) -> TimeInterval? {
        let schedules = [spec.schedules.full, spec.schedules.diff, spec.schedules.incr].compactMap { $0 }.compactMap(
            CronSchedule.init
        )
        guard !schedules.isEmpty, let calendar = ScheduleCalendar(timeZone: spec.timezone ?? "UTC") else { return nil }
        return calendar.longestGap(schedules, from: now) + 3600
    }

    static func duration(_ seconds: Double) -> String {
        DurationValue(milliseconds: Int64((seconds * 1000).rounded(.up))).description
    }

    /// The policy's alert rules as an AlertRuleGroup manifest; the longest gap between backups is measured from `now`.
    public static func manifest(_ policy: Resource, server: String?, now: Date) throws -> String {
        let spec = try policy.decodeSpec(BackupPolicySpec.self)
        let name = policy.id.name
        let sel = "{policy=\"\(name)\"}"
        func quoted(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }
        var rules: [String] = []
        func rule(_ alert: String, _ expr: String, for wait: String?, severity: String, summary: String) {
            var r = "    - alert: \(alert)\n      expr: \(quoted(expr))\n"
            if let wait { r += "      for: \(wait)\n" }
            r += "      labels: {severity: \(severity), policy: \(name)}\n"
            r +=
                "      annotations:\n        summary: \(quoted(summary))\n        runbook_url: docs/runbooks/backup-recovery.md\n"
            rules.append(r)
        }
        if let age = allowedBackupAge(spec, now: now) {
            rule(
                "BackupTooOld",
                "time() - max(\(lastSuccess)\(sel)) > \(Int(age))",
                for: "5m",
                severity: "critical",
                summary:
                    "BackupPolicy \(name): the newest successful backup is older than the schedules allow (\(duration(age)))"
            )
            rule(
                "BackupNeverSucceeded",
                "absent(\(lastSuccess)\(sel))",
                for: "\(duration(age))",
                severity: "critical",
                summary: "BackupPolicy \(name): no successful backup is known"
            )
        }
        rule(
            "WALArchivingFailing",
            "max(\(archiveFailing)\(sel)) == 1",
            for: "5m",
            severity: "critical",
            summary: "BackupPolicy \(name): WAL archiving fails; WAL piles up on the primary and the RPO grows"
        )
        if let rpo = spec.objectives?.rpo {
            rule(
                "BackupRPOBreached",
                "max(\(archiveWait)\(sel)) > \(Double(rpo.milliseconds) / 1000)",
                for: "1m",
                severity: "critical",
                summary:
                    "BackupPolicy \(name): WAL has waited longer than the RPO objective (\(duration(Double(rpo.milliseconds) / 1000))) to be archived"
            )
        }
        if spec.drill != nil {
            rule(
                "BackupDrillFailed",
                "min(\(drillSucceeded)\(sel)) == 0",
                for: nil,
                severity: "warning",
                summary:
                    "BackupPolicy \(name): the last restore drill failed: `setpoint backup status \(name)` says why"
            )
        }
        if let rto = spec.objectives?.rto {
            rule(
                "BackupDrillSlowerThanRTO",
                "max(\(drillSeconds)\(sel)) > \(Double(rto.milliseconds) / 1000)",
                for: nil,
                severity: "warning",
                summary:
                    "BackupPolicy \(name): the last drill took longer than the RTO objective (\(duration(Double(rto.milliseconds) / 1000)))"
            )
        }
        rule(
            "BackupPolicyNotCompliant",
            "min(\(compliant)\(sel)) == 0",
            for: "15m",
            severity: "warning",
            summary: "BackupPolicy \(name) is not compliant: `setpoint backup status \(name)` lists the violations"
        )
        var text = "# Alerts for the objectives of BackupPolicy/\(name), written by `setpoint backup alerts`.\n"
        if server == nil {
            text +=
                "# No PrometheusServer is declared beside the policy: set spec.prometheus to the one that scrapes the controller.\n"
        }
        text += """
            apiVersion: setpoint/v1
            kind: AlertRuleGroup
            metadata: {name: \(name)-backup-objectives}
            spec:
              prometheus: \(server ?? "prometheus")
              rules:

            """
        return text + rules.joined()
    }
}
