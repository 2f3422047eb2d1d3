import Foundation
import SetpointCore
import SetpointExec
import SetpointPG
import SetpointRemote

/// Converges a policy: the pgBackRest configuration Setpoint owns, the stanza, the cluster's archive settings, and
/// `pgbackrest check` as the postcondition once archiving is live.
struct BackupApplier: Sendable {
    let hosts: BackupHosts
    let context: ProviderContext

    var settings: BackupSettings { hosts.settings }
    /// pgBackRest's repository commands run on the repository's host.
    var tool: PgBackRest { PgBackRest(runner: hosts.repository.runner, settings: settings) }

    func fail(_ message: String) -> SetpointError { SetpointError(.applyFailed, message, resource: settings.id) }

    func step(_ text: String) {
        context.log.log(.info, text, metadata: ["resource": settings.id.description])
    }

    /// Writes the configuration and its include file, creates the repository and log directories (the OS user's).
    func writeConfiguration(socketDirectory: String?) async throws {
        guard hosts.places.isEmpty else {
            // The TLS-server layout: each host's files, then its server (restarted when they changed).
            for place in hosts.places {
                let placed = PlacedFiles(place: place, settings: settings, hosts: hosts)
                do {
                    for path in try await placed.write(socketDirectory: socketDirectory) {
                        step("wrote \(path) on \(place.access.name)")
                    }
                } catch let error as SetpointError {
                    throw error
                } catch {
                    // The failure names the host (HostFileFailure, or the folder's own message).
                    throw fail("\(error)")
                }
                if place.runsServer,
                    let did = try await BackupServer(place: place, settings: settings, clock: context.clock)
                        .ensure(digest: placed.digest(socketDirectory: socketDirectory))
                {
                    step(did)
                }
            }
            return
        }
        let user = settings.osUser
        do {
            try OwnedPaths.directory(settings.configDirectory, user: nil, mode: 0o755)
            try OwnedPaths.directory(settings.includeDirectory, user: user, mode: 0o700)
            try OwnedPaths.directory(settings.logDirectory, user: user, mode: 0o750)
            if (settings.spec.repository.type ?? "posix") == "posix" {
                try OwnedPaths.directory(settings.spec.repository.path, user: user, mode: 0o750)
            }
            let text = PgBackRestConfig.render(settings, socketDirectory: socketDirectory)
            if (try? String(contentsOfFile: settings.configFile, encoding: .utf8)) != text {
                try AtomicFile.write(text, to: settings.configFile, mode: 0o640)
                try OwnedPaths.chownFile(settings.configFile, user: user, mode: 0o640)
                step("wrote \(settings.configFile)")
            }
            if let secrets = PgBackRestConfig.renderSecrets(settings) {
                if (try? String(contentsOfFile: settings.secretFile, encoding: .utf8)) != secrets {
                    try AtomicFile.write(secrets, to: settings.secretFile, mode: 0o600, private: true)
                    try OwnedPaths.chownFile(settings.secretFile, user: user, mode: 0o600)
                    step("wrote the secrets include file \(settings.secretFile) (0600, \(user))")
                }
            } else if FileManager.default.fileExists(atPath: settings.secretFile) {
                unlink(settings.secretFile)
            }
        } catch {
            throw fail("\(error)")
        }
    }

    func converge() async throws {
        let db: PGConnection
        do { db = try await BackupFacts.connect(hosts) } catch {
            throw fail(
                "cannot connect to \(settings.cluster.primary) of PostgresCluster/\(settings.cluster.name): \(error)"
            )
        }
        defer { db.close() }
        let probe = try await ArchiveProbe.read(db)
        try await writeConfiguration(socketDirectory: probe.socketDirectory)
        do {
            let out = try await tool.run("stanza-create", timeout: .seconds(300))
            step(
                out.contains("already exists")
                    ? "stanza \(settings.stanza) already exists and is valid" : "created stanza \(settings.stanza)"
            )
        } catch {
            throw fail("\(error)")
        }
        var changed = false
        func set(_ name: String, _ value: String) async throws {
            _ = try await db.query("ALTER SYSTEM SET \(name) = \(try PGQuote.literal(value))")
            step("ALTER SYSTEM SET \(name) = '\(value)'")
            changed = true
        }
        if probe.configuredCommand != settings.archiveCommand {
            try await set("archive_command", settings.archiveCommand)
        }
        let timeout = Int((settings.spec.archiveTimeout?.milliseconds ?? 60_000) / 1000)
        if probe.timeoutSeconds != timeout { try await set("archive_timeout", "\(timeout)s") }
        if !["on", "always"].contains(probe.configuredMode ?? probe.mode) { try await set("archive_mode", "on") }
        if changed {
            _ = try await db.query("SELECT pg_reload_conf()")
            step("reloaded the configuration of \(settings.cluster.primary)")
        }
        if probe.archivingLive {
            try await check()
        } else {
            step(
                "archive_mode = on waits for a restart of \(settings.cluster.primary): the plan's restart action makes it live"
            )
        }
    }

    /// `pgbackrest check`: archiving reaches the repository and the stanza matches the cluster.
    func check() async throws {
        // The archiver waits after three failures; a reload (done by the caller when settings change) wakes it.
        let seconds = max(10, Int((settings.spec.archiveTimeout?.milliseconds ?? 60_000) / 1000))
        do {
            try await tool.run("check", ["--archive-timeout=\(seconds)"], timeout: .seconds(seconds + 120))
            step("pgbackrest check passed: WAL reaches the repository")
        } catch {
            throw fail("\(error) — the cause is in \(settings.cluster.primary)'s server log (archive command failed …)")
        }
    }

    /// Restarts the primary to make a staged archive_mode live (`pg_ctl restart -m fast` as the OS user), then checks.
    func restart() async throws {
        let db = try await BackupFacts.connect(hosts)
        let probe = try await ArchiveProbe.read(db)
        let streaming = try await Self.streamingReplicas(db)
        db.close()
        if !probe.archivingLive {
            let bin = settings.cluster.binDirectory(major: probe.majorVersion)
            let data = settings.cluster.dataDirectory
            let log = "\(data)/setpoint-pg_ctl.log"
            let command = Command(
                "\(bin)/pg_ctl",
                ["-D", data, "-l", log, "-m", "fast", "-w", "-t", "120", "restart"],
                user: settings.osUser,
                timeout: .seconds(150)
            )
            let primary = hosts.primary
            let out = try await primary.runner.run(command, allowFailure: true)
            guard out.status == 0 else {
                let tail =
                    ((try? await primary.files.acting(as: settings.osUser).read(log)) ?? nil).map {
                        $0.split(separator: "\n").suffix(8).joined(separator: "\n")
                    } ?? ""
                throw fail("\(command) on \(primary.name) exited \(out.status): \(out.stdout)\(out.stderr)\n\(tail)")
            }
            step(
                "restarted \(settings.cluster.primary) on \(primary.name) (pg_ctl restart -m fast): archive_mode is live"
            )
            try await awaitReplicas(streaming)
        }
        try await check()
    }

    static func streamingReplicas(_ db: PGConnection) async throws -> Int {
        Int(
            try await db.query("SELECT count(*) AS n FROM pg_stat_replication WHERE state = 'streaming'").first?["n"]
                ?? "0"
        ) ?? 0
    }

    /// Waits (up to 30 s) until as many replicas stream from the restarted primary as before: they reconnect by
    /// themselves within seconds, and until they do the cluster reads as drifted.
    func awaitReplicas(_ before: Int) async throws {
        guard before > 0 else { return }
        var now = 0
        for _ in 0..<60 {
            if let db = try? await BackupFacts.connect(hosts) {
                now = (try? await Self.streamingReplicas(db)) ?? 0
                db.close()
                if now >= before {
                    step("\(now) replica(s) stream from \(settings.cluster.primary) again")
                    return
                }
            }
            try await context.clock.sleep(for: .milliseconds(500))
        }
        context.log.log(
            .warning,
            "\(now) of \(before) replica(s) stream from \(settings.cluster.primary) 30 s after its restart: "
                + "check their logs",
            metadata: ["resource": settings.id.description]
        )
    }
}
