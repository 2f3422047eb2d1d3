import ArgumentParser
import Foundation
import SetpointCore
import SetpointEngine
import SetpointManifest
import SetpointRender
import SetpointState

/// `setpoint plan PATH…`: what would change, without changing anything.
struct PlanCommand: ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show what apply would change: observe, diff, plan. Changes nothing; writes nothing.",
        discussion: """
            Observes every resource the manifests declare (and every owned one they no longer declare), diffs desired, last applied and observed state field by field, and prints the actions with their impact: + create, ~ update (and typed operations such as restart), -/+ replace, - delete.

            Examples:
              setpoint plan manifests/
              setpoint plan manifests/ --detailed-exitcode          # CI: exit 2 when anything would change
              setpoint plan manifests/ --target VirtualMachine/api-1 --output json

            Exit codes: 0 no changes (or changes without --detailed-exitcode); 1 error; 2 changes (with --detailed-exitcode).
            """
    )

    @Argument(help: "Manifest files or folders.")
    var paths: [String]

    @OptionGroup var outputOptions: OutputOptions
    @OptionGroup var stateOptions: StateOptions
    @OptionGroup var shape: PlanShapeOptions

    @Flag(name: .long, help: "Exit 2 when the plan has changes (any, risky or not), 0 when it has none.")
    var detailedExitcode = false

    @Option(
        name: .long,
        help: ArgumentHelp("Save the plan to apply it later, exactly, with 'setpoint apply FILE'.", valueName: "FILE")
    )
    var out: String?

    @OptionGroup var signing: SigningKeyOption

    func validate() throws {
        guard !paths.isEmpty else {
            throw ValidationError("give at least one manifest file or folder, e.g. 'setpoint plan manifests/'")
        }
        _ = try shape.targets()
    }

    func execute(_ console: Console) async throws -> Int32 {
        let runtime = CLIRuntime.current ?? .shipped
        let session = PlanSession(console: console, runtime: runtime, paths: paths)
        guard let set = await session.load(), session.checkTargets(try shape.targets(), in: set) else { return 1 }
        let store: (any StateStore)?
        do {
            store = try await stateOptions.openReadOnly(console)
        } catch {
            console.err("error: \(error)\n")
            return 1
        }
        if store == nil, outputOptions.format == .text {
            console.err("note: no state at \(stateOptions.location): nothing is owned yet\n")
        }
        let (plan, observed) = try await session.planAndObservations(
            set,
            store: store,
            options: PlanOptions(prune: shape.prune, targets: try shape.targets())
        )
        if let out, !plan.isApplyable {
            console.err("error: the plan has errors: not saved to \(out)\n")
        } else if let out {
            let data = try SavedPlanFile.encode(
                SavedPlan(plan: plan, observed: observed),
                signingKey: try signing.key(runtime.secrets)
            )
            try data.write(to: URL(fileURLWithPath: out), options: .atomic)
            console.err(
                "saved plan \(plan.id) to \(out)\(signing.signKey == nil ? "" : " (signed)"); apply it with: setpoint apply \(out)\n"
            )
        }
        switch outputOptions.format {
        case .json: console.out(PlanJSONRenderer().render(plan))
        case .text: console.out(PlanTextRenderer(style: session.style, sourceLine: SourceLines().line).render(plan))
        }
        if !plan.isApplyable { return 1 }
        return detailedExitcode && !plan.isEmpty ? 2 : 0
    }
}
