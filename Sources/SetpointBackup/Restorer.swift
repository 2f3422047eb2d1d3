import Foundation
import SetpointCore
import SetpointExec
import SetpointPG
import SetpointRemote

/// What `setpoint restore` made: a running, promoted copy of the cluster.
public struct RestoreReport: Sendable, Codable {
    public var policy: String
    public var directory: String
    public var port: Int
    /// The backup set pgBackRest restored.
    public var label: String?
    /// `latest` or the UTC target.
    public var target: String
    public var restoreSeconds: Double
    public var startSeconds: Double
    /// How to stop the copy (as the cluster's OS user: pg_ctl refuses root).
    public var stopCommand: String
    /// The Host the copy runs on (nil: this machine).
    public var host: String?
}

/// Restores the latest backup, or a point in time, into a directory of its own and starts it on a loopback port:
/// `archive_mode` off (a restored copy must never push its new timeline into the repository), its own socket directory,
/// no synchronous standbys to wait for.
struct Restorer: Sendable {
    let hosts: BackupHosts
    /// Where the copy is made and runs.
    let host: HostAccess
    let clock: any SetpointClock

    var settings: BackupSettings { hosts.settings }
    var runner: any CommandRunner { host.runner }

    func fail(_ message: String) -> SetpointError {
        SetpointError(.applyFailed, host.isLocal ? message : "\(host.name): \(message)", resource: settings.id)
    }

    func scratch(_ directory: String, port: Int) -> ScratchServer {
        ScratchServer(
            directory: directory,
            port: port,
            bin: settings.cluster.binDirectory(major: nil),
            osUser: settings.osUser,
            access: host,
            connection: settings.cluster.connection,
            clock: clock
        )
    }

    /// Refuses a directory that holds anything, a port something listens on, and the cluster's own data directory.
    func preflight(_ directory: String, port: Int, emptying: Bool) async throws {
        guard directory.hasPrefix("/") else { throw fail("--to must be an absolute path, not \(directory)") }
        let norm = (directory as NSString).standardizingPath
        let onPrimary = host.host == hosts.primary.host
        if onPrimary, norm == (settings.cluster.dataDirectory as NSString).standardizingPath {
            throw fail(
                "\(directory) is the data directory of \(settings.cluster.primary): restore into a directory of its own"
            )
        }
        if onPrimary, port == settings.cluster.port {
            throw fail("port \(port) is the port of \(settings.cluster.primary): choose a free one")
        }
        let files = host.files.acting(as: settings.osUser)
        let contents = try await files.list(directory) ?? []
        if !contents.isEmpty {
            guard emptying else {
                throw fail(
                    "\(directory) is not empty (\(contents.count) entries): restore into an empty or new directory"
                )
            }
            let old = scratch(directory, port: port)
            await old.stop()
            let out = try await runner.run(
                Command(
                    "/bin/sh",
                    ["-c", "cd -- \"$1\" && exec rm -rf -- * .[!.]* ..?*", "sh", directory],
                    user: settings.osUser,
                    timeout: .seconds(600)
                ),
                allowFailure: true
            )
            guard out.status == 0 else {
                throw fail("cannot empty \(directory): \(out.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
        }
        if try await listening(port) {
            throw fail("something already listens on 127.0.0.1:\(port): choose a free port")
        }
        if host.isLocal {
            try OwnedPaths.directory((directory as NSString).deletingLastPathComponent, user: nil, mode: 0o755)
        }
        try await BackupFolders.ensure(host, directory, user: settings.osUser, mode: 0o700)
    }

    /// Whether something listens on the port of the host's loopback (`ss` there; nothing known without it).
    func listening(_ port: Int) async throws -> Bool {
        if host.isLocal { return Self.isListening(port) }
        let out = try await runner.run(
            Command(
                "/bin/sh",
                ["-c", "command -v ss >/dev/null || exit 0; ss -Hltn \"sport = :$1\"", "sh", String(port)],
                timeout: .seconds(30)
            ),
            allowFailure: true
        )
        return out.status == 0 && !out.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
    }

    static func isListening(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return r == 0
    }

    /// `pgbackrest restore` into `directory`, then start and wait for promotion.
    func restore(
        to directory: String,
        port: Int,
        target: RecoveryTarget?,
        emptying: Bool = false,
        timeout: Duration = .seconds(3600)
    ) async throws -> RestoreReport {
        // On another Host the restore is a job there (RemoteJob, its folder beside DIR): a dropped connection or a
        // Setpoint killed during it leaves it running, and the next restore into DIR attaches instead of starting over.
        let job =
            host.isLocal ? nil : RemoteJob(access: host, folder: directory + ".setpoint-job", user: settings.osUser)
        // Only a restore still running is attached to; what an earlier one left (finished, failed, lost) is cleared and
        // the directory checked as for any restore (a drill empties it), so a new target or backup is never mistaken
        // for an old one's.
        var attaching = false
        if let job {
            switch try await job.state() {
            case .none: break
            case .running: attaching = true
            default: try await job.clear()
            }
        }
        if let target, !attaching { try await archivePast(target) }
        if !attaching { try await preflight(directory, port: port, emptying: emptying) }
        if let place = hosts.place(for: host), place.role == .client {
            // The TLS-server layout: this host's configuration and certificates, to reach the repository's server.
            _ = try await PlacedFiles(place: place, settings: settings, hosts: hosts).write(socketDirectory: nil)
        }
        let resets = hosts.place(for: host)?.role == .repository ? settings.resetsOfMemberHosts : []
        var options = ["--pg1-path=\(directory)"] + resets
        if let target {
            options += ["--type=time", "--target=\(target.pgBackRest)", "--target-action=promote"]
        }
        for (k, v) in [
            ("port", String(port)), ("listen_addresses", "127.0.0.1"), ("archive_mode", "off"),
            ("unix_socket_directories", directory),
            ("synchronous_standby_names", ""),
            ("restore_command", settings.restoreCommand(pgPath: directory, extra: resets)),
        ] {
            options.append("--recovery-option=\(k)=\(v)")
        }
        let tool = PgBackRest(runner: runner, settings: settings)
        let began = clock.elapsed
        let out: String
        do {
            if let job {
                let command = tool.command("restore", options, timeout: timeout)
                out = try await job.run(command, deadline: timeout).stdout
                try await job.clear()
            } else {
                out = try await tool.run("restore", options, timeout: timeout)
            }
        } catch let failure as CommandFailure {
            // The reason names the host and the job.
            throw SetpointError(
                .applyFailed,
                "pgbackrest restore \(failure.reason): " + PgBackRest.errorText(stderr: "", stdout: failure.output),
                resource: settings.id
            )
        } catch {
            throw fail("\(error)")
        }
        let restored = clock.elapsed
        let label = BackupRunner.value(after: "restore backup set ", in: out).map { String($0.prefix { $0 != "," }) }
        let server = scratch(directory, port: port)
        do {
            try await server.startAndPromote(timeout: timeout)
        } catch {
            throw fail("\(error)")
        }
        return RestoreReport(
            policy: settings.id.name,
            directory: directory,
            port: port,
            label: label,
            target: target?.pgBackRest ?? "latest",
            restoreSeconds: (restored - began).inSeconds,
            startSeconds: (clock.elapsed - restored).inSeconds,
            stopCommand: (host.isLocal ? "" : "on \(host.name): ")
                + "su \(settings.osUser) -c '\(settings.cluster.binDirectory(major: nil))/pg_ctl -D \(directory) -m fast stop'",
            host: host.host
        )
    }

    /// A drill: restore, start, verify, time it, and remove the copy whatever happened.
    func drill(target: RecoveryTarget?, trigger: String) async -> BackupRun {
        let started = clock.now
        let drillBegan = clock.elapsed
        func run(_ outcome: BackupRun.Outcome, label: String?, message: String) -> BackupRun {
            BackupRun(
                id: BackupRunner.runID(settings.id.name, .drill, started),
                policy: settings.id.name,
                kind: .drill,
                startedAt: BackupCompliance.iso(started),
                finishedAt: BackupCompliance.iso(clock.now),
                seconds: (clock.elapsed - drillBegan).inSeconds,
                outcome: outcome,
                label: label,
                message: message,
                trigger: trigger
            )
        }
        guard let drill = settings.spec.drill else {
            return run(
                .failed,
                label: nil,
                message: "the policy declares no drill (spec.drill: schedule, port, directory, checks)"
            )
        }
        let timeout = Duration.milliseconds(drill.timeout?.milliseconds ?? 3_600_000)
        let server = scratch(drill.directory, port: drill.port)
        var result: BackupRun
        do {
            let report = try await restore(
                to: drill.directory,
                port: drill.port,
                target: target,
                emptying: true,
                timeout: timeout
            )
            var failures: [String] = []
            var passed = 0
            for (i, check) in (drill.checks ?? []).enumerated() {
                let database = check.database ?? "postgres"
                do {
                    let db = try await PGConnection.connect(try await server.config(database: database))
                    defer { db.close() }
                    let got = try await db.query(check.sql).first?.values.first ?? nil
                    if got == check.expect {
                        passed += 1
                    } else {
                        failures.append(
                            "check \(i + 1) (\(check.sql)) in \(database) returned \(got.map { "'\($0)'" } ?? "no row"), expected '\(check.expect)'"
                        )
                    }
                } catch {
                    failures.append("check \(i + 1) (\(check.sql)) in \(database) failed: \(error)")
                }
            }
            let what = target.map { "point in time \($0.pgBackRest)" } ?? "latest"
            let timing = String(
                format: "restore %.1f s, start and recovery %.1f s",
                report.restoreSeconds,
                report.startSeconds
            )
            if failures.isEmpty {
                result = run(
                    .succeeded,
                    label: report.label,
                    message: "restored \(report.label ?? "?") (\(what)): \(timing); "
                        + "\(passed) check\(passed == 1 ? "" : "s") passed"
                )
            } else {
                result = run(
                    .failed,
                    label: report.label,
                    message: "restored \(report.label ?? "?") (\(what)): \(timing); " + failures.joined(separator: "; ")
                )
            }
            let sizes = try? await PgBackRest(runner: hosts.repository.runner, settings: settings).info().backups.first
            {
                $0.label == report.label
            }
            result.sizeBytes = sizes?.databaseBytes
        } catch {
            result = run(.failed, label: nil, message: "\(error)")
        }
        await server.remove()
        return result
    }
}
