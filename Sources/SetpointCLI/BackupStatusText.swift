import Foundation
import SetpointBackup
import SetpointCore
import SetpointState

/// `backup status` as text: one block per policy, violations last and loudest.
enum BackupStatusText {
    static func seconds(_ s: Double?) -> String {
        guard let s else { return "—" }
        if s < 120 { return String(format: "%.1f s", s) }
        if s < 7200 { return String(format: "%.1f min", s / 60) }
        return String(format: "%.1f h", s / 3600)
    }

    static func objective(_ name: String, _ o: BackupStatusReport.Objective) -> String {
        let verdict =
            o.met.map { $0 ? "met" : "NOT MET" } ?? (o.objectiveSeconds == nil ? "no objective" : "not measured")
        return "  \(name): actual \(seconds(o.actualSeconds)), objective \(seconds(o.objectiveSeconds)) — \(verdict)\n"
    }

    static func render(_ r: BackupStatusReport) -> String {
        var t =
            "BackupPolicy/\(r.policy) (stanza \(r.stanza), PostgresCluster/\(r.cluster)): \(r.compliant ? "compliant" : "NOT COMPLIANT")\n"
        t += "  repository: \(r.repository) — \(r.repositoryStatus)\(r.cipher.map { ", cipher \($0)" } ?? "")\n"
        if r.backups.isEmpty {
            t += "  backups: none\n"
        } else {
            t += "  backups (\(r.backups.count)):\n"
            for b in r.backups {
                t +=
                    "    \(b.label)  \(b.type)  \(b.finishedAt)  " + String(format: "%.1f s", b.seconds)
                    + "  database \(BackupOperation.bytes(b.databaseBytes)), repository +\(BackupOperation.bytes(b.repositoryBytes))\n"
            }
        }
        if let a = r.archive {
            t +=
                "  archiving: archive_mode \(a.mode), \(a.ours ? "this policy's archive_command" : "archive_command NOT this policy's")"
            t +=
                a.failing
                ? ", FAILING since \(a.lastFailedAt ?? "?") (\(a.lastFailedWAL ?? "?"))"
                : ", last archived \(a.lastArchivedWAL ?? "none") at \(a.lastArchivedAt ?? "—")"
            t += ", \(a.waitingSegments) segment(s) waiting, archive_timeout \(a.timeoutSeconds) s\n"
        }
        t += objective("RPO", r.rpo)
        t += objective("RTO", r.rto)
        if let d = r.lastDrill {
            t +=
                "  last drill: \(d.outcome.rawValue) at \(d.startedAt) in " + String(format: "%.1f s", d.seconds)
                + (d.message.map { ": \($0)" } ?? "") + "\n"
        }
        for w in r.warnings { t += "  warning: \(w)\n" }
        for v in r.violations { t += "  VIOLATION: \(v)\n" }
        return t + "\n"
    }
}
