import ArgumentParser
import Foundation
import SetpointBackup
import SetpointCore
import SetpointEngine
import SetpointManifest
import SetpointState

/// `setpoint backup …`: running backups and drills, and measuring a BackupPolicy's objectives.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Run backups and restore drills; show a BackupPolicy's objectives against what is measured.",
        subcommands: [
            BackupRunCommand.self, BackupStatusCommand.self, BackupDrillCommand.self, BackupAlertsCommand.self,
        ]
    )
}

extension BackupRun.Kind: ExpressibleByArgument {}

/// `setpoint backup run POLICY PATH… [--type full|diff|incr|logical]`
struct BackupRunCommand: ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Take a backup now (pgBackRest full, diff or incr; or the policy's logical dumps).",
        discussion: """
            Runs pgBackRest's backup for the policy's stanza (expire runs after it, applying the retention), holding the state's \
            lease so that two backups never meet on pgBackRest's lock. The run — outcome, duration, size, label — is recorded in \
            the state store and the audit log, failed runs too, with pgBackRest's message.
            With a controller configured (--controller URL, or SETPOINT_CONTROLLER) the leading controller makes the run — it \
            holds the lease and runs the schedules — and this waits for its outcome; the manifests are the controller's, so \
            no PATH is needed. The token (--token-file or SETPOINT_TOKEN_FILE) needs the approver role.

            Examples:
              setpoint backup run main-backups manifests/ --type full
              setpoint backup run main-backups manifests/ --type logical
              setpoint backup run main-backups --type full --controller http://127.0.0.1:9797 --token-file ~/.setpoint-token

            Exit codes: 0 the backup succeeded; 1 it failed (recorded) or could not start.
            """
    )

    @Argument(help: ArgumentHelp("The BackupPolicy's name.", valueName: "POLICY"))
    var policy: String

    @Argument(
        help: "Manifest files or folders that declare the policy and its PostgresCluster (none through a controller)."
    )
    var paths: [String] = []

    @Option(name: .customLong("type"), help: "full, diff, incr (a full when there is none yet) or logical.")
    var type: BackupRun.Kind = .incr

    @OptionGroup var stateOptions: StateOptions

    @OptionGroup var client: ControllerClientOptions

    @Option(name: .customLong("as"), help: ArgumentHelp("Identity recorded in the audit log.", valueName: "IDENTITY"))
    var identity: String?

    func validate() throws {
        guard type != .drill else { throw ValidationError("a drill is `setpoint backup drill`") }
    }

    func execute(_ console: Console) async throws -> Int32 {
        if client.isConfigured(console) {
            return await BackupRemoteRun(console: console, client: client).run(policy, kind: type, targetTime: nil)
        }
        guard !paths.isEmpty else {
            throw ValidationError(
                "give the manifest files or folders that declare BackupPolicy/\(policy), or --controller URL"
            )
        }
        let op = BackupOperation(console: console, paths: paths, state: stateOptions)
        return await op.recordedRun(policy, what: "backup", identity: identity) { l, resource, trigger in
            try await l.provider.backup(resource, type: type, trigger: trigger, in: l.context)
        }
    }
}

/// `setpoint backup drill POLICY PATH… [--target-time T]`
struct BackupDrillCommand: ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill",
        abstract: "Restore into the policy's scratch directory and port, run its checks, record the RTO, tear down.",
        discussion: """
            Restores the latest backup (or the point in time --target-time) into spec.drill.directory (emptied first), starts \
            it on 127.0.0.1:spec.drill.port with archive_mode off, waits for recovery to end, runs spec.drill.checks, and \
            records the time from the start of the restore to the last check: the measured RTO. The copy is stopped and its \
            directory removed whatever happened. Drills are recorded in the state store and the audit log. With a controller \
            configured (--controller URL, or SETPOINT_CONTROLLER) the leading controller runs the drill and this waits for it.

            Examples:
              setpoint backup drill main-backups manifests/
              setpoint backup drill main-backups manifests/ --target-time '2026-12-06 10:15:00'

            Exit codes: 0 the drill passed; 1 it failed (recorded, with the failing checks).
            """
    )

    @Argument(help: ArgumentHelp("The BackupPolicy's name.", valueName: "POLICY"))
    var policy: String

    @Argument(
        help: "Manifest files or folders that declare the policy and its PostgresCluster (none through a controller)."
    )
    var paths: [String] = []

    @Option(
        name: .customLong("target-time"),
        help: ArgumentHelp("Recover to this time: \(RecoveryTarget.help).", valueName: "T")
    )
    var targetTime: String?

    @OptionGroup var stateOptions: StateOptions

    @OptionGroup var client: ControllerClientOptions

    @Option(name: .customLong("as"), help: ArgumentHelp("Identity recorded in the audit log.", valueName: "IDENTITY"))
    var identity: String?

    func validate() throws {
        if let t = targetTime, RecoveryTarget(t) == nil {
            throw ValidationError("--target-time \(t): expected \(RecoveryTarget.help)")
        }
    }

    func execute(_ console: Console) async throws -> Int32 {
        if client.isConfigured(console) {
            return await BackupRemoteRun(console: console, client: client).run(
                policy,
                kind: .drill,
                targetTime: targetTime
            )
        }
        guard !paths.isEmpty else {
            throw ValidationError(
                "give the manifest files or folders that declare BackupPolicy/\(policy), or --controller URL"
            )
        }
        let op = BackupOperation(console: console, paths: paths, state: stateOptions)
        return await op.recordedRun(policy, what: "drill", identity: identity) { l, resource, trigger in
            try await l.provider.drill(
                resource,
                target: targetTime.flatMap(RecoveryTarget.init),
                trigger: trigger,
                in: l.context
            )
        }
    }
}

/// `setpoint backup status [POLICY] PATH… [--output json]`
struct BackupStatusCommand: ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Objectives against actuals: backups held, archive wait (actual RPO), last drill (actual RTO).",
        discussion: """
            For each policy (or the one named): what pgBackRest's repository holds, whether WAL archiving works and how long the \
            oldest WAL not yet archived has waited (the actual RPO; 0 when everything written is archived, bounded by \
            archive_timeout for the open segment), whether the newest backup is as recent as the schedules promise, and the \
            last drill's outcome and duration (the actual RTO). Read-only: takes no lease.

            Examples:
              setpoint backup status manifests/
              setpoint backup status main-backups manifests/ --output json

            Exit codes: 0 every objective is met; 3 a policy is not compliant (the violations are listed); 1 an error.
            """
    )

    @Argument(help: ArgumentHelp("[POLICY] then the manifest files or folders.", valueName: "POLICY|PATH"))
    var arguments: [String]

    @Option(name: .long, help: "text or json.")
    var output: OutputFormat = .text

    @OptionGroup var stateOptions: StateOptions

    func validate() throws {
        guard !BackupOperation.split(arguments).paths.isEmpty else {
            throw ValidationError("give the manifest files or folders that declare the policies")
        }
    }

    func execute(_ console: Console) async throws -> Int32 {
        let (name, paths) = BackupOperation.split(arguments)
        let op = BackupOperation(console: console, paths: paths, state: stateOptions)
        guard let l = await op.load(readOnly: true) else { return 1 }
        var policies = l.set.resources.filter { $0.id.kind == .backupPolicy }
        if let name {
            guard let one = op.policy(name, in: l.set) else { return 1 }
            policies = [one]
        }
        guard !policies.isEmpty else {
            console.err("error: no BackupPolicy is declared in \(paths.joined(separator: ", "))\n")
            return 1
        }
        var reports: [BackupStatusReport] = []
        for p in policies {
            do {
                let runs = try await l.store?.backupRuns(policy: p.id.name, limit: 50) ?? []
                reports.append(try await l.provider.status(p, runs: runs, in: l.context))
            } catch {
                console.err("error: \(p.id): \(error)\n")
                return 1
            }
        }
        if output == .json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            console.out(String(decoding: try encoder.encode(reports), as: UTF8.self) + "\n")
        } else {
            for r in reports { console.out(BackupStatusText.render(r)) }
        }
        return reports.allSatisfy(\.compliant) ? 0 : 3
    }
}

/// `setpoint backup alerts POLICY PATH…`
struct BackupAlertsCommand: ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "Print an AlertRuleGroup manifest for the policy's objectives (backup age, archiving, drills).",
        discussion: """
            The rules read the metrics a Setpoint controller exports for the policy (setpoint_backup_*), so add the manifest to \
            the ones the controller applies, beside a Prometheus that scrapes the controller.

            Examples:
              setpoint backup alerts main-backups manifests/ > manifests/alerts/main-backups.yaml
            """
    )

    @Argument(help: ArgumentHelp("The BackupPolicy's name.", valueName: "POLICY"))
    var policy: String

    @Argument(help: "Manifest files or folders that declare the policy.")
    var paths: [String]

    @Option(name: .long, help: "The PrometheusServer the rule group targets (when one is declared).")
    var server: String?

    func validate() throws {
        guard !paths.isEmpty else {
            throw ValidationError("give the manifest files or folders that declare BackupPolicy/\(policy)")
        }
    }

    func execute(_ console: Console) async throws -> Int32 {
        let runtime = CLIRuntime.current ?? .shipped
        let session = PlanSession(console: console, runtime: runtime, paths: paths)
        guard let set = await session.load() else { return 1 }
        let op = BackupOperation(console: console, paths: paths, state: StateOptions())
        guard let resource = op.policy(policy, in: set) else { return 1 }
        let servers = set.resources.filter { $0.id.kind == .prometheusServer }.map(\.id.name)
        do {
            console.out(
                try BackupAlerts.manifest(
                    resource,
                    server: server ?? servers.first,
                    now: (CLIRuntime.current ?? .shipped).clock.now
                )
            )
            return 0
        } catch {
            console.err("error: \(error)\n")
            return 1
        }
    }
}
