import Foundation
import SetpointCore

/// `setpoint backup status`: what the repository holds, how far archiving is behind, what the last drill measured,
/// and whether the policy's objectives hold. Never holds a secret.
public struct BackupStatusReport: Sendable, Codable {
    public struct Backup: Sendable, Codable {
        public var label: String
        public var type: String
        public var startedAt: String
        public var finishedAt: String
        public var seconds: Double
        public var databaseBytes: Int64
        public var repositoryBytes: Int64
    }

    public struct Archive: Sendable, Codable {
        public var mode: String
        public var ours: Bool
        public var failing: Bool
        public var lastArchivedWAL: String?
        public var lastArchivedAt: String?
        public var lastFailedWAL: String?
        public var lastFailedAt: String?
        public var waitingSegments: Int
        public var oldestWaitingSeconds: Double
        public var timeoutSeconds: Int
    }

    public struct Objective: Sendable, Codable {
        public var objectiveSeconds: Double?
        public var actualSeconds: Double?
        public var met: Bool?
    }

    public var policy: String
    public var stanza: String
    public var cluster: String
    public var repository: String
    /// pgBackRest's stanza status (`ok`, `no valid backups`, `missing stanza path`, …).
    public var repositoryStatus: String
    public var cipher: String?
    public var backups: [Backup]
    public var archive: Archive?
    /// Newest restorable point's age: WAL waiting to be archived (or the open segment, bounded by archive_timeout).
    public var rpo: Objective
    /// Duration of the last successful drill.
    public var rto: Objective
    public var lastDrill: BackupRun?
    public var recentRuns: [BackupRun]
    /// Objectives not met, archiving failing, no recent backup, a failed drill: `backup status` exits 3.
    public var violations: [String]
    /// Worth knowing, not a violation (RTO never measured).
    public var warnings: [String]
    public var compliant: Bool { violations.isEmpty }
    public var checkedAt: String
}

/// Judges a policy against what was observed. Pure: the caller gathers the facts.
struct BackupCompliance {
    let settings: BackupSettings
    let info: StanzaInfo?
    let probe: ArchiveProbe?
    let runs: [BackupRun]
    let now: Date

    static func iso(_ epoch: Double) -> String { iso(Date(timeIntervalSince1970: epoch)) }
    static func iso(_ date: Date) -> String { Timestamp.seconds(date) }

    /// The longest a policy's schedules leave between backups, plus an hour's grace for a backup that runs long.
    var allowedBackupAge: TimeInterval? { BackupAlerts.allowedBackupAge(settings.spec, now: now) }

    func report() -> BackupStatusReport {
        var violations: [String] = []
        var warnings: [String] = []
        let ours = probe.map { $0.configuredCommand == settings.archiveCommand } ?? false
        if let info {
            switch info.statusCode {
            case 0: break
            case 2:
                violations.append(
                    "the repository holds no valid backup of stanza \(settings.stanza): run `setpoint backup run \(settings.id.name)`"
                )
            case 1, 3:
                violations.append(
                    "stanza \(settings.stanza) is missing from the repository (\(info.statusMessage)): apply the policy"
                )
            default:
                violations.append(
                    "pgBackRest cannot read the repository: \(info.statusMessage) (a wrong encryption passphrase reads as 'other')"
                )
            }
        }
        if let probe {
            if !probe.archivingLive {
                violations.append(
                    "WAL archiving is off on \(settings.cluster.primary) (archive_mode = \(probe.mode))"
                        + (probe.configuredMode != probe.mode
                            ? ": \(probe.configuredMode ?? "?") is written and waits for a restart" : "")
                )
            } else if !ours {
                violations.append(
                    "archive_command on \(settings.cluster.primary) is not this policy's: WAL does not reach stanza \(settings.stanza)"
                )
            }
            if probe.failing {
                violations.append(
                    "WAL archiving is failing on \(settings.cluster.primary): \(probe.lastFailedWAL ?? "a segment") failed at "
                        + "\(probe.lastFailedAt.map(Self.iso) ?? "?") and nothing was archived since; \(probe.readyCount) segment(s) wait, the oldest "
                        + String(format: "%.0f s", probe.oldestReadySeconds)
                        + " (the PostgreSQL log has archive-push's error)"
                )
            }
        }
        let rpoObjective = settings.spec.objectives?.rpo.map { Double($0.milliseconds) / 1000 }
        let actualRPO = probe.flatMap { $0.archivingLive && ours ? $0.actualRPOSeconds : nil }
        var rpo = BackupStatusReport.Objective(objectiveSeconds: rpoObjective, actualSeconds: actualRPO, met: nil)
        if let objective = rpoObjective {
            if let actual = actualRPO {
                rpo.met = actual <= objective
                if actual > objective {
                    violations.append(
                        String(
                            format: "RPO objective %@ not met: the newest restorable point is %.0f s old",
                            Self.seconds(objective),
                            actual
                        )
                    )
                }
            } else {
                rpo.met = false
                violations.append(
                    "RPO objective \(Self.seconds(objective)) cannot be met: WAL is not archived to this stanza"
                )
            }
        }
        let good = (info?.backups ?? []).filter { !$0.error }
        if let newest = good.map(\.stopped).max(), let allowed = allowedBackupAge {
            let age = now.timeIntervalSince1970 - newest
            if age > allowed {
                violations.append(
                    "the newest backup finished \(Self.seconds(age)) ago; the schedules allow \(Self.seconds(allowed)): "
                        + "scheduled backups are not running (is the controller up?)"
                )
            }
        }
        let drills = runs.filter { $0.kind == .drill }
        let lastDrill = drills.first
        let lastGoodDrill = drills.first { $0.outcome == .succeeded }
        let rtoObjective = settings.spec.objectives?.rto.map { Double($0.milliseconds) / 1000 }
        var rto = BackupStatusReport.Objective(
            objectiveSeconds: rtoObjective,
            actualSeconds: lastGoodDrill?.seconds,
            met: nil
        )
        if let last = lastDrill, last.outcome == .failed {
            violations.append("the last restore drill (\(last.startedAt)) failed: \(last.message ?? "no message")")
        }
        if let objective = rtoObjective {
            if let measured = lastGoodDrill?.seconds {
                rto.met = measured <= objective
                if measured > objective {
                    violations.append(
                        String(
                            format: "RTO objective %@ not met: the last successful drill took %.1f s",
                            Self.seconds(objective),
                            measured
                        )
                    )
                }
            } else {
                warnings.append(
                    "RTO objective \(Self.seconds(objective)) is not measured yet: run `setpoint backup drill \(settings.id.name)`"
                )
            }
        }
        let archive = probe.map { p in
            BackupStatusReport.Archive(
                mode: p.mode,
                ours: ours,
                failing: p.failing,
                lastArchivedWAL: p.lastArchivedWAL,
                lastArchivedAt: p.lastArchivedAt.map(Self.iso),
                lastFailedWAL: p.lastFailedWAL,
                lastFailedAt: p.lastFailedAt.map(Self.iso),
                waitingSegments: p.readyCount,
                oldestWaitingSeconds: p.oldestReadySeconds,
                timeoutSeconds: p.timeoutSeconds
            )
        }
        return BackupStatusReport(
            policy: settings.id.name,
            stanza: settings.stanza,
            cluster: settings.cluster.name,
            repository: settings.spec.repository.path,
            repositoryStatus: info?.statusMessage ?? "unknown",
            cipher: info?.cipher,
            backups: (info?.backups ?? []).map { b in
                BackupStatusReport.Backup(
                    label: b.label,
                    type: b.type,
                    startedAt: Self.iso(b.started),
                    finishedAt: Self.iso(b.stopped),
                    seconds: b.stopped - b.started,
                    databaseBytes: b.databaseBytes,
                    repositoryBytes: b.repositoryDeltaBytes
                )
            },
            archive: archive,
            rpo: rpo,
            rto: rto,
            lastDrill: lastDrill,
            recentRuns: Array(runs.prefix(10)),
            violations: violations,
            warnings: warnings,
            checkedAt: Self.iso(now)
        )
    }

    /// `90 s`, `15 min`, `2 h 5 min`, `3 d`.
    static func seconds(_ s: Double) -> String {
        if s < 120 { return String(format: "%.0f s", s) }
        if s < 7200 { return String(format: "%.0f min", s / 60) }
        if s < 172_800 { return String(format: "%.1f h", s / 3600) }
        return String(format: "%.1f d", s / 86_400)
    }
}
