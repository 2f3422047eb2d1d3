import ArgumentParser

/// `--state PATH`, shared by plan and apply.
struct StateOptions: ParsableArguments {
    @Option(name: .long, help: "The state database (SQLite). Plan opens it read-only and writes nothing.")
    var state: String = ".setpoint/state.db"
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
