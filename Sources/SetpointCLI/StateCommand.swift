import ArgumentParser
import Foundation
import SetpointCore
import SetpointState

/// `setpoint state migrate`: move a state between SQLite and PostgreSQL.
struct StateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "Move the state between SQLite and PostgreSQL.",
        subcommands: [StateMigrateCommand.self]
    )
}

struct StateMigrateCommand: ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Copy the whole state to another store and verify the copy (SQLite → PostgreSQL, or back).",
        discussion: """
            Copies owned resources, the audit log exactly as it is (seq, hashes: the chain and an audit anchor stay valid), \
            open journals, plans, backup runs, trusted host keys and conditions, then reads the copy back and compares. The \
            source's lease is held throughout: a running controller or apply makes it refuse (stop every controller first). \
            The destination must hold no state yet: an empty PostgreSQL database, or a new SQLite file; it gets the current \
            schema. The source is left unchanged: keep it as the backup until the controllers run on the destination.

            Examples:
              setpoint state migrate --state .setpoint/state.db --to postgres://setpoint@db-1:5432/setpoint --to-password-file /etc/setpoint/state-password
              setpoint state migrate --state postgres://setpoint@db-1:5432/setpoint --to /var/lib/setpoint/state.db   # a downgrade

            Exit codes: 0 moved and verified; 1 refused or failed (nothing in the source changed).
            """
    )

    @OptionGroup var stateOptions: StateOptions

    @Option(
        name: .customLong("to"),
        help: ArgumentHelp(
            "Where to move it: an SQLite file that does not hold a state, or postgres://USER@HOST:PORT/DB.",
            valueName: "PATH|URL"
        )
    )
    var destination: String

    @Option(
        name: .customLong("to-password-file"),
        help: ArgumentHelp(
            "A file holding the destination PostgreSQL's password (else PGPASSWORD, PGPASSFILE or ~/.pgpass).",
            valueName: "FILE"
        )
    )
    var destinationPasswordFile: String?

    func validate() throws {
        if destination == stateOptions.state { throw ValidationError("--to is the --state itself: give another store") }
    }

    func execute(_ console: Console) async throws -> Int32 {
        let runtime = CLIRuntime.current ?? .shipped
        var target = StateOptions()
        target.state = destination
        target.statePasswordFile = destinationPasswordFile
        let source: any StateStore
        let sink: any StateStore & AuditImport
        do {
            guard try await stateOptions.openReadOnly(console) != nil else {
                console.err(
                    "error: there is no state at \(stateOptions.location) to move: name the state to move with --state PATH|URL\n"
                )
                return 1
            }
            source = try await stateOptions.open(console)
            if PostgresStateStore.isURL(destination) {
                // Its own password only (--to-password-file, else libpq's PGPASSWORD, PGPASSFILE, ~/.pgpass): never the
                // source's SETPOINT_STATE_PASSWORD_FILE.
                sink = try await PostgresStateStore.open(
                    url: destination,
                    password: destinationPasswordFile == nil ? nil : try target.password(console)
                )
            } else {
                sink = try SQLiteStateStore.open(path: destination)
            }
        } catch {
            console.err("error: \(error)\n")
            return 1
        }
        let now = runtime.clock.now
        let holder = LeaseHolder(
            id: "state-migrate-" + UUID().uuidString,
            host: ProcessInfo.processInfo.hostName,
            pid: ProcessInfo.processInfo.processIdentifier,
            since: Timestamp.milliseconds(now),
            expiresAt: Timestamp.milliseconds(now.addingTimeInterval(3600))
        )
        let migration = StateMigration(
            source: source,
            destination: sink,
            sourceName: stateOptions.location,
            destinationName: target.location,
            holder: holder,
            now: Timestamp.milliseconds(now)
        )
        let report: StateMigration.Report
        do { report = try await migration.run() } catch {
            console.err("error: \(error)\n")
            return 1
        }
        let head = report.auditHead.map { " (head: record \($0.seq), \($0.hash))" } ?? ""
        console.out(
            """
            moved the state \(stateOptions.location) to \(target.location) and verified the copy:
              \(report.owned) owned resources
              \(report.auditRecords) audit records\(head)
              \(report.journals) journal entries of actions in flight
              \(report.plans) plans
              \(report.backupRuns) backup runs
              \(report.hostKeys) trusted host keys
              \(report.conditions) conditions
            Point every controller and command at it (--state \(target.location)), then start the controllers. \(stateOptions.location) is unchanged: keep it as the backup until then.

            """
        )
        return 0
    }
}
