import ArgumentParser
import SetpointState

/// `--state PATH|URL`, shared by the commands that read or write state.
struct StateOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The state: an SQLite file, or a PostgreSQL database (postgres://USER@HOST:PORT/DB; the password from PGPASSWORD or "
            + "~/.pgpass) that several controllers can share. Plan opens it read-only and writes nothing.", valueName: "PATH|URL"))
    var state: String = ".setpoint/state.db"

    /// Opens the state for writing (creating and migrating it).
    func open() async throws -> any StateStore {
        PostgresStateStore.isURL(state) ? try await PostgresStateStore.open(url: state) : try SQLiteStateStore.open(path: state)
    }

    /// Opens existing state read-only; nil when there is none yet.
    func openReadOnly() async throws -> (any StateStore)? {
        PostgresStateStore.isURL(state) ? try await PostgresStateStore.openReadOnly(url: state) : try SQLiteStateStore.openReadOnly(path: state)
    }

    /// Where the state is, for messages (a URL without its password).
    var location: String { PostgresStateStore.isURL(state) ? PostgresStateStore.redacted(state) : state }
}

/// Options that shape a plan.
struct PlanShapeOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Limit the plan to a resource and what it depends on (repeatable).", valueName: "KIND/NAME"))
    var target: [String] = []

    @Flag(name: .long, help: "Plan deletes for owned resources no manifest declares (risky: they need approval).")
    var prune = false

    func targets() throws -> [SetpointCore.ResourceID] {
        try target.map { text in
            guard let id = SetpointCore.ResourceID(parsing: text) else { throw ValidationError("--target '\(text)' is not KIND/NAME") }
            return id
        }
    }
}

import SetpointCore
