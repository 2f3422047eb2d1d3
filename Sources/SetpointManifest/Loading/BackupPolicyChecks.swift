import Foundation
import SetpointCore

/// A `BackupPolicy` that cannot keep its promises is refused at the manifest position: a drill that verifies
/// nothing, a retention window shorter than the gap between full backups, an RPO the archive timeout cannot bound.
extension KindChecks {
    static func backupObjectives(_ spec: Value, _ root: SourceNode, _ v: inout SchemaValidator) {
        let rpo = spec["objectives"]?["rpo"]?.intValue
        let archiveTimeout = spec["archiveTimeout"]?.intValue ?? 60_000
        if archiveTimeout < 1000 || archiveTimeout % 1000 != 0 {
            v.report(
                .invalidValue,
                "spec.archiveTimeout must be whole seconds, at least 1s (PostgreSQL's archive_timeout)",
                hint: "write it as 30s, 1m …",
                at: root.node(at: ["spec", "archiveTimeout"])
            )
        }
        if let rpo, archiveTimeout > rpo {
            v.report(
                .invalidValue,
                "spec.objectives.rpo (\(seconds(rpo))) cannot be met: WAL written just after a segment switch waits up to "
                    + "archiveTimeout (\(seconds(archiveTimeout))) before it is archived",
                hint:
                    "set archiveTimeout at or below the RPO (each forced switch archives a 16 MB segment, mostly compressible), "
                    + "or relax the RPO",
                at: root.node(at: ["spec", "objectives", "rpo"])
            )
        }
        if let window = spec["retention"]?["window"]?.intValue {
            if window % 86_400_000 != 0 {
                v.report(
                    .invalidValue,
                    "spec.retention.window must be whole days (pgBackRest's time-based retention counts days)",
                    hint: "write it as 30d",
                    at: root.node(at: ["spec", "retention", "window"])
                )
            }
            if let full = spec["schedules"]?["full"]?.stringValue.flatMap(CronSchedule.init),
                let gap = CronSchedule.longestGapMinutes([full], startDay: 20_454, horizonDays: 400),
                Int64(gap) * 60_000 > window
            {
                v.report(
                    .invalidValue,
                    "spec.retention.window (\(seconds(window))) is shorter than the gap between full backups "
                        + "(\(seconds(Int64(gap) * 60_000)), schedule '\(full)'): point-in-time recovery would not reach back as far as declared",
                    hint: "make the window at least the full-backup interval, or run full backups more often",
                    at: root.node(at: ["spec", "retention", "window"])
                )
            }
        }
        if let zone = spec["timezone"]?.stringValue, TimeZone(identifier: zone) == nil {
            v.report(
                .invalidValue,
                "spec.timezone: '\(zone)' is not a time zone this machine knows",
                hint: "use an IANA name such as UTC, Europe/Berlin, America/New_York",
                at: root.node(at: ["spec", "timezone"])
            )
        }
        if spec["drill"] != nil {
            let checks: [Value] = { if case .list(let l)? = spec["drill"]?["checks"] { return l } else { return [] } }()
            if checks.isEmpty {
                v.report(
                    .missingField,
                    "spec.drill has no verification query: a drill that checks nothing proves only that PostgreSQL starts",
                    hint:
                        "add 'checks:' with sql and expect, e.g. {sql: \"SELECT count(*) > 0 FROM orders\", expect: \"t\"}",
                    at: root.node(at: ["spec", "drill"])
                )
            }
        }
    }

    static func seconds(_ ms: Int64) -> String { DurationValue(milliseconds: ms).description }
}

extension SetChecks {
    /// A BackupPolicy owns its cluster's archive_mode and archive_command: the cluster may not declare them too.
    static func archiveOwnership(_ resources: [Resource]) -> [Diagnostic] {
        var out: [Diagnostic] = []
        let clusters = Dictionary(
            resources.filter { $0.id.kind == .postgresCluster }.map { ($0.id.name, $0) },
            uniquingKeysWith: { a, _ in a }
        )
        for policy in resources where policy.id.kind == .backupPolicy {
            guard let name = policy.spec["cluster"]?.stringValue, let cluster = clusters[name],
                case .map(let parameters)? = cluster.spec["parameters"]
            else { continue }
            for key in ["archive_mode", "archive_command", "archive_library"] where parameters[key] != nil {
                out.append(
                    Diagnostic(
                        .error,
                        .conflictingFields,
                        "spec.parameters.\(key) is owned by \(policy.id) (\(policy.location)), which archives this cluster's WAL",
                        hint: "remove \(key) from the PostgresCluster's parameters: the BackupPolicy sets it",
                        at: cluster.location(of: ["spec", "parameters", key]),
                        resource: cluster.id
                    )
                )
            }
        }
        return out
    }
}
