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
            spec[BackupPolicyRules.restartKey] = .string(settings.cluster.primary)
        } else if !ours && !probe.archivingLive && (probe.configuredCommand ?? "").isEmpty {
            spec["cluster"] = .string("\(name) (archive_mode \(probe.mode), no archive_command)")
            spec[BackupPolicyRules.restartKey] = .string(settings.cluster.primary)
        } else if !ours {
            spec["cluster"] = .string("\(name) (archive_command is not this policy's)")
            if !probe.archivingLive { spec[BackupPolicyRules.restartKey] = .string(settings.cluster.primary) }
        } else {
            spec["cluster"] = .string("\(name) (archive_mode \(probe.mode))")
            spec[BackupPolicyRules.restartKey] = .string(settings.cluster.primary)
        }
        spec["archiveTimeout"] = .int(Int64(probe.timeoutSeconds) * 1000)
        let expected = PgBackRestConfig.render(settings, socketDirectory: probe.socketDirectory)
        if let text = facts.configText, let config = facts.config {
            let global = config["global"] ?? [:]
            var repository: [String: Value] = [:]
            if let path = global["repo1-path"] { repository["path"] = .string(path) }
            repository["type"] = .string(global["repo1-type"] ?? "posix")
            if let bucket = global["repo1-s3-bucket"] {
                var s3: [String: Value] = ["bucket": .string(bucket)]
                if let e = global["repo1-s3-endpoint"] { s3["endpoint"] = .string(e) }
                if let r = global["repo1-s3-region"] { s3["region"] = .string(r) }
                repository["s3"] = .map(s3)
            }
            spec["repository"] = .map(repository)
            let count = Int64(global["repo1-retention-full"] ?? "")
            if global["repo1-retention-full-type"] == "time", let days = count {
                spec["retention"] = .map(["window": .int(days * 86_400_000)])
            } else if let count {
                spec["retention"] = .map(["full": .int(count)])
            }
            spec["compression"] = .string(global["compress-type"] ?? "gz")
            if let info = facts.info, info.stanzaExists {
                spec["encryption"] = .map(["cipher": .string(info.cipher ?? global["repo1-cipher-type"] ?? "none")])
                spec["stanza"] = .string(settings.stanza)
            } else {
                if let cipher = global["repo1-cipher-type"] { spec["encryption"] = .map(["cipher": .string(cipher)]) }
                let why = facts.info.map { "\($0.statusMessage)" } ?? facts.infoError ?? "unknown"
                spec["stanza"] = .string("\(settings.stanza) (not in the repository: \(why))")
            }
            spec["configDirectory"] = .string(
                text == expected
                    ? settings.configDirectory
                    : "\(settings.configDirectory) (\(settings.stanza).conf differs from what Setpoint writes)"
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
