import Foundation
import SetpointCore

/// A `BackupPolicy` as observed, in its manifest's shape: what the written configuration and the primary's archive
/// settings say, with the compliance verdict as warnings. The policy is `present` whenever its cluster answers, so
/// the first plan shows what it will change rather than a bare create.
enum BackupObservation {
    static func observe(_ settings: BackupSettings, facts: BackupFacts, now: Date) -> Observation {
        guard let probe = facts.probe else {
            return .failed("cannot read the archive settings: \(facts.probeError ?? "no answer")")
        }
        if let e = facts.configError {
            return .failed("cannot read the pgBackRest configuration \(settings.configFile): \(e)")
        }
        var spec: [String: Value] = [:]
        var pending: [String: Value] = [:]
        let name = settings.cluster.name
        let ours = probe.configuredCommand == settings.archiveCommand
        let writtenOn = ["on", "always"].contains(probe.configuredMode ?? probe.mode)
        if probe.archivingLive && ours {
            spec["cluster"] = .string(name)
        } else if writtenOn && ours {
            // Written, waiting for the restart: the desired value is pending, and the plan's restart action makes it live.
            spec["cluster"] = .string("\(name) (archive_mode on waits for a restart)")
            pending["cluster"] = .string(name)
            spec[BackupFields.restartKey] = .string(settings.cluster.primary)
        } else if !ours && !probe.archivingLive && (probe.configuredCommand ?? "").isEmpty {
            spec["cluster"] = .string("\(name) (archive_mode \(probe.mode), no archive_command)")
            spec[BackupFields.restartKey] = .string(settings.cluster.primary)
        } else if !ours {
            spec["cluster"] = .string("\(name) (archive_command is not this policy's)")
            if !probe.archivingLive { spec[BackupFields.restartKey] = .string(settings.cluster.primary) }
        } else {
            spec["cluster"] = .string("\(name) (archive_mode \(probe.mode))")
            spec[BackupFields.restartKey] = .string(settings.cluster.primary)
        }
        spec["archiveTimeout"] = .int(Int64(probe.timeoutSeconds) * 1000)
        let expected = facts.expectedConfig ?? PgBackRestConfig.render(settings, socketDirectory: probe.socketDirectory)
        if let text = facts.configText, let config = facts.config {
            let global = config["global"] ?? [:]
            spec.merge(BackupFields.observed(global: global)) { _, new in new }
            if let info = facts.info, info.stanzaExists {
                // The repository's own cipher, whatever the file says: it is fixed when the stanza is created.
                spec["encryption"] = .map(["cipher": .string(info.cipher ?? global["repo1-cipher-type"] ?? "none")])
                spec["stanza"] = .string(settings.stanza)
            } else {
                let why = facts.info.map { "\($0.statusMessage)" } ?? facts.infoError ?? "unknown"
                spec["stanza"] = .string("\(settings.stanza) (not in the repository: \(why))")
            }
            spec["configDirectory"] = .string(
                text != expected
                    ? "\(settings.configDirectory) (\(settings.stanza).conf differs from what Setpoint writes)"
                    : facts.hostDrift.isEmpty
                        ? settings.configDirectory
                        : "\(settings.configDirectory) (\(facts.hostDrift.joined(separator: "; ")))"
            )
        } else {
            // Nothing written yet: every configured field differs from the manifest, and the plan says so.
            spec["repository"] = .map(["path": .string("(not configured: no \(settings.configFile))")])
            spec["stanza"] = .string("\(settings.stanza) (not created)")
            spec["configDirectory"] = .string("\(settings.configDirectory) (no \(settings.stanza).conf)")
            spec["retention"] = .map([:])
            spec["compression"] = .string("(not configured)")
        }
        var warnings: [String] = []
        if facts.configText != nil {
            let report = BackupCompliance(settings: settings, info: facts.info, probe: probe, runs: [], now: now)
                .report()
            warnings = report.violations.map { "not compliant: \($0)" }
            if let e = facts.infoError { warnings.append("pgbackrest info failed: \(e)") }
        }
        return .present(
            ObservedResource(
                spec: .map(spec),
                providerID: settings.stanza,
                pending: pending.isEmpty ? nil : .map(pending),
                warnings: warnings.isEmpty ? nil : warnings
            )
        )
    }
}
