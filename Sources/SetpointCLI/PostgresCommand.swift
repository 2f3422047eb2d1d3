import ArgumentParser
import Foundation
import SetpointCore
import SetpointEngine
import SetpointManifest
import SetpointPostgres
import SetpointState

/// `setpoint postgres …`: operations on a PostgresCluster that are not a plan (the day the primary is gone).
struct PostgresCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "postgres",
        abstract: "PostgreSQL operations outside a plan: failover, re-initialising a replica.",
        subcommands: [FailoverCommand.self, ReinitCommand.self]
    )
}

/// `setpoint postgres failover CLUSTER --to MEMBER PATH…`
struct FailoverCommand: ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "failover",
        abstract: "Promote a replica when the primary is gone: fence the old primary, promote, re-point, audit.",
        discussion: """
            For the day the primary is lost or must be taken out now. Unlike a switchover (change `primary:` in the manifest and \
            apply), nothing waits for the old primary: if it still runs on this machine it is stopped first (fenced), so that it \
            can never take writes again; then MEMBER is promoted (pg_promote), the other replicas are re-pointed at it \
            (primary_conninfo by ALTER SYSTEM and a reload), and synchronous_standby_names names only standbys that stream, so \
            commits do not hang. The failover is written to the audit log.

            Afterwards set `primary: MEMBER` in the manifest: until then, plans report that the manifest names another primary \
            and change nothing. The old primary stays stopped; apply brings it back as a replica (pg_rewind) once the manifest \
            names the new primary.

            While a controller runs on the state it holds the lease: give --controller URL (or set SETPOINT_CONTROLLER) \
            and an admin token, and the leading controller fails over under its lease, audited under your token's identity.

            Examples:
              setpoint postgres failover main-db --to pg-2 manifests/postgres/
              setpoint postgres failover main-db --to pg-2 --controller https://ops-1:9797 --token-file ~/.setpoint-token

            Exit codes: 0 promoted; 1 refused or failed (the message says what was done).
            """
    )

    @Argument(help: ArgumentHelp("The PostgresCluster's name.", valueName: "CLUSTER"))
    var cluster: String

    @Option(name: .customLong("to"), help: ArgumentHelp("The replica to promote.", valueName: "MEMBER"))
    var target: String

    @Argument(help: "Manifest files or folders that declare the cluster (none through a controller).")
    var paths: [String] = []

    @OptionGroup var client: ControllerClientOptions

    @OptionGroup var stateOptions: StateOptions

    @Option(name: .customLong("as"), help: ArgumentHelp("Identity recorded in the audit log.", valueName: "IDENTITY"))
    var identity: String?

    func execute(_ console: Console) async throws -> Int32 {
        try await ClusterOperation(
            console: console,
            paths: paths,
            command: OperatorCommand(
                name: "failover",
                resource: ResourceID(kind: .postgresCluster, name: cluster),
                arguments: ["to": target]
            ),
            state: stateOptions,
            client: client,
            identity: identity,
            what: "failover of PostgresCluster/\(cluster) to \(target)"
        ).run()
    }
}

/// `setpoint postgres reinit CLUSTER MEMBER PATH… --yes`
struct ReinitCommand: ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "reinit",
        abstract: "Re-make a replica from the primary; its old data directory is moved aside, never deleted.",
        discussion: """
            For a replica that can no longer follow its primary (a timeline pg_rewind cannot mend, WAL the primary no longer \
            has). The member is stopped, its data directory is moved to DIR.setpoint-reinit-TIMESTAMP (delete it yourself once \
            you are sure), its slot is dropped, and it is made again with pg_basebackup; done when it streams. The primary is \
            refused. Because the member's own data is abandoned this needs --yes, and it is written to the audit log.

            With --controller URL (or SETPOINT_CONTROLLER) and an admin token the leading controller does it.

            Examples:
              setpoint postgres reinit main-db pg-3 manifests/postgres/ --yes
              setpoint postgres reinit main-db pg-3 --yes --controller https://ops-1:9797 --token-file ~/.setpoint-token

            Exit codes: 0 the member streams again; 1 refused or failed (the message says what was done).
            """
    )

    @Argument(help: ArgumentHelp("The PostgresCluster's name.", valueName: "CLUSTER"))
    var cluster: String

    @Argument(help: ArgumentHelp("The replica to re-make.", valueName: "MEMBER"))
    var member: String

    @Argument(help: "Manifest files or folders that declare the cluster (none through a controller).")
    var paths: [String] = []

    @OptionGroup var client: ControllerClientOptions

    @Flag(name: .long, help: "Confirm: the member's current data is moved aside and replaced by a copy of the primary.")
    var yes = false

    @OptionGroup var stateOptions: StateOptions

    @Option(name: .customLong("as"), help: ArgumentHelp("Identity recorded in the audit log.", valueName: "IDENTITY"))
    var identity: String?

    func execute(_ console: Console) async throws -> Int32 {
        guard yes else {
            console.err(
                "error: re-initialising \(member) replaces its data with a copy of the primary's (the old directory is kept aside): "
                    + "run again with --yes\n"
            )
            return 1
        }
        return try await ClusterOperation(
            console: console,
            paths: paths,
            command: OperatorCommand(
                name: "reinit",
                resource: ResourceID(kind: .postgresCluster, name: cluster),
                arguments: ["member": member]
            ),
            state: stateOptions,
            client: client,
            identity: identity,
            what: "reinit of \(member) in PostgresCluster/\(cluster)"
        ).run()
    }
}

/// What `postgres failover` and `postgres reinit` share. With a controller configured (`--controller URL`, or
/// SETPOINT_CONTROLLER) the leading controller carries the command out under its lease and fencing epoch, audited
/// under the token's identity, and this waits for it; else the declared cluster, the PostgreSQL provider, the state's
/// lease held while the command runs, and an audit record of how it ended (`succeeded` with its detail, or `failed`
/// with the error).
struct ClusterOperation {
    let console: Console
    let paths: [String]
    let command: OperatorCommand
    let state: StateOptions
    let client: ControllerClientOptions
    let identity: String?
    /// For the error line: `failover of PostgresCluster/main to pg-2`.
    let what: String

    func run() async throws -> Int32 {
        if client.isConfigured(console) {
            return await OperatorRemoteRun(console: console, client: client).run(command, what: what)
        }
        guard !paths.isEmpty else {
            console.err(
                "error: give the manifest files or folders that declare \(command.resource), or --controller URL\n"
            )
            return 1
        }
        let runtime = CLIRuntime.current ?? .shipped
        let session = PlanSession(console: console, runtime: runtime, paths: paths)
        guard let set = await session.load() else { return 1 }
        let id = command.resource
        guard let declared = set.resource(id) else {
            console.err(
                "error: \(id) is not declared in \(paths.joined(separator: ", ")): declare it, or give the folder that does\n"
            )
            return 1
        }
        guard
            let provider = runtime.providers.lazy.compactMap({ $0 as? any OperatorCommands }).first(where: {
                $0.commands(for: id.kind)[command.name] != nil
            }), let event = provider.commands(for: id.kind)[command.name]
        else {
            console.err("error: this build has no provider that takes \(command.name) for \(id.kind)\n")
            return 1
        }
        let store: any StateStore
        do { store = try await state.open(console) } catch {
            console.err("error: \(error)\n")
            return 1
        }
        var recorded: [String: Value] = command.arguments.mapValues(Value.string)
        recorded["resource"] = .string(id.description)
        do {
            _ = try await AuditedOperation.run(
                store: store,
                event: event,
                actor: identity ?? AuditTrail.defaultActor,
                clock: CLIRuntime.clock,
                detail: recorded,
                whenHeld:
                    "if a controller runs on this state, it holds the lease: give --controller URL to ask it, or stop it"
            ) {
                let report = try await provider.run(
                    command,
                    on: declared,
                    in: session.context(set, store: store, actor: identity)
                )
                for line in report.lines { console.out(line + "\n") }
                return report.detail
            }
            return 0
        } catch let failed as AuditedOperation.Failed {
            console.err("error: \(what): \(failed)\n")
            return 1
        } catch {
            console.err("error: \(error)\n")
            return 1
        }
    }
}
