import ArgumentParser
import Foundation
import SetpointBackup
import SetpointCore
import SetpointEngine

/// `setpoint restore POLICY PATH… --to DIR --port P [--target-time T]`
struct RestoreCommand: ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a BackupPolicy's backups into a new directory and start the copy on a loopback port.",
        discussion: """
            Restores the latest backup with all archived WAL (or up to --target-time) into DIR, which must be empty or new, and \
            starts the copy on 127.0.0.1:PORT with archive_mode off (it never pushes into the repository) and its socket in DIR. \
            With --on HOST, DIR and the port are on that Host: it reaches the repository through pgBackRest's TLS server. \
            Returns once recovery has ended and the copy takes writes. The cluster itself is not touched: to replace a primary, \
            stop it, move its data directory aside, restore into its path and start it (docs/runbooks/backup-recovery.md).

            For a point in time, WAL after the target must be archived: a target later than the newest archived commit cannot be \
            reached, and the copy refuses to start ("recovery ended before configured recovery target was reached").

            Examples:
              setpoint restore main-backups manifests/ --to /srv/restore/main --port 25432
              setpoint restore main-backups manifests/ --to /srv/restore/main --port 25432 --target-time '2026-12-06 10:15:00'
              setpoint restore main-backups manifests/ --to /srv/restore/main --port 25432 --on restore-1
            Stop the copy afterwards with: pg_ctl -D DIR stop

            Exit codes: 0 the copy runs; 1 refused or failed (pgBackRest's or PostgreSQL's message is quoted).
            """
    )

    @Argument(help: ArgumentHelp("The BackupPolicy's name.", valueName: "POLICY"))
    var policy: String

    @Argument(help: "Manifest files or folders that declare the policy and its PostgresCluster.")
    var paths: [String]

    @Option(
        name: .customLong("to"),
        help: ArgumentHelp("An empty or new directory for the restored copy.", valueName: "DIR")
    )
    var directory: String

    @Option(name: .long, help: ArgumentHelp("The loopback port the copy listens on.", valueName: "P"))
    var port: Int

    @Option(
        name: .customLong("on"),
        help: ArgumentHelp(
            "The Host to restore on (a declared Host; the policy needs spec.repository.runsOn and spec.tls). Default: this machine.",
            valueName: "HOST"
        )
    )
    var host: String?

    @Option(
        name: .customLong("target-time"),
        help: ArgumentHelp("Recover to this time: \(RecoveryTarget.help).", valueName: "T")
    )
    var targetTime: String?

    @OptionGroup var stateOptions: StateOptions

    @Option(name: .customLong("as"), help: ArgumentHelp("Identity recorded in the audit log.", valueName: "IDENTITY"))
    var identity: String?

    func validate() throws {
        if let t = targetTime, RecoveryTarget(t) == nil {
            throw ValidationError("--target-time \(t): expected \(RecoveryTarget.help)")
        }
        guard (1...65535).contains(port) else { throw ValidationError("--port \(port) is not a TCP port") }
        guard !paths.isEmpty else {
            throw ValidationError("give the manifest files or folders that declare BackupPolicy/\(policy)")
        }
    }

    func execute(_ console: Console) async throws -> Int32 {
        let op = BackupOperation(console: console, paths: paths, state: stateOptions)
        guard let l = await op.load(actor: identity), let store = l.store, let resource = op.policy(policy, in: l.set)
        else {
            return 1
        }
        let audit = AuditTrail(log: store, actor: identity ?? AuditTrail.defaultActor, clock: CLIRuntime.clock)
        var detail: [String: Value] = [
            "resource": .string(resource.id.description), "directory": .string(directory), "port": .int(Int64(port)),
            "target": .string(targetTime.flatMap(RecoveryTarget.init)?.pgBackRest ?? "latest"),
        ]
        if let host { detail["host"] = .string("Host/\(host)") }
        do {
            let report = try await op.leased(store) {
                try await l.provider.restore(
                    resource,
                    to: directory,
                    port: port,
                    target: targetTime.flatMap(RecoveryTarget.init),
                    on: host,
                    in: l.context
                )
            }
            detail["label"] = report.label.map(Value.string) ?? .null
            detail["seconds"] = .double(report.restoreSeconds + report.startSeconds)
            try await audit.record(
                .restore,
                resource: resource.id,
                result: "succeeded",
                detail: .map(detail)
            )
            console.out(
                String(
                    format:
                        "restored %@ (%@) into %@%@: restore %.1f s, start and recovery %.1f s; it runs on 127.0.0.1:%d\n",
                    report.label ?? "?",
                    report.target,
                    directory,
                    report.host.map { " on Host/\($0)" } ?? "",
                    report.restoreSeconds,
                    report.startSeconds,
                    port
                )
            )
            console.out("Stop it with: \(report.stopCommand)\n")
            return 0
        } catch {
            detail["error"] = .string("\(error)")
            _ = try? await audit.record(
                .restore,
                resource: resource.id,
                result: "failed",
                detail: .map(detail)
            )
            console.err("error: restore of BackupPolicy/\(policy): \(error)\n")
            return 1
        }
    }
}
