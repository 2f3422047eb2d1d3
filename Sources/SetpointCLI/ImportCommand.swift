import ArgumentParser
import Foundation
import SetpointCore
import SetpointEngine
import SetpointManifest
import SetpointState

/// `setpoint import KIND/NAME [--id ID] PATH…`: adopt an existing object, so that plans show only its differences
/// to the manifest instead of a create.
struct ImportCommand: ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Adopt an existing object as the resource a manifest declares.",
        discussion: """
            The resource must be declared in the manifests. The provider looks the object up (by --id, e.g. a VMID, or by name), and the state records it as owned, with what is observed of the fields the manifest sets as its last applied values: the next plan shows only the differences to the manifest.

            Examples:
              setpoint import VirtualMachine/api-1 --id 101 manifests/
              setpoint import PostgresCluster/main-db manifests/
              setpoint import VirtualMachine/api-1 --id 101 --controller https://ops-1:9797 --token-file ~/.setpoint-token

            While a controller runs on the state, give --controller URL (or SETPOINT_CONTROLLER) and an admin token: the \
            leading controller adopts it under its lease, audited under the token's identity.
            """
    )

    @Argument(help: ArgumentHelp("The resource to adopt.", valueName: "KIND/NAME"))
    var resource: String

    @Argument(help: "Manifest files or folders that declare it (none through a controller).")
    var paths: [String] = []

    @Option(name: .long, help: "The provider's id of the object (a VMID, …).")
    var id: String?

    @OptionGroup var stateOptions: StateOptions

    @OptionGroup var client: ControllerClientOptions

    @Option(name: .customLong("as"), help: ArgumentHelp("Identity recorded in the audit log.", valueName: "IDENTITY"))
    var identity: String?

    func validate() throws {
        guard ResourceID(parsing: resource) != nil else { throw ValidationError("'\(resource)' is not KIND/NAME") }
    }

    func execute(_ console: Console) async throws -> Int32 {
        let target = ResourceID(parsing: resource)!
        if client.isConfigured(console) {
            if !paths.isEmpty || identity != nil {
                console.err(
                    "error: through a controller its own manifests are read and the audit records your token's identity: "
                        + "give no paths and no --as (or no --controller)\n"
                )
                return 1
            }
            return await OperatorRemoteRun(console: console, client: client).run(
                OperatorCommand(name: "import", resource: target, arguments: id.map { ["id": $0] } ?? [:]),
                what: "import of \(target)"
            )
        }
        guard !paths.isEmpty else {
            console.err("error: give the manifest files or folders that declare \(resource), or --controller URL\n")
            return 1
        }
        let runtime = CLIRuntime.current ?? .shipped
        let session = PlanSession(console: console, runtime: runtime, paths: paths)
        guard let set = await session.load() else { return 1 }
        guard let declared = set.resource(target) else {
            console.err(
                "error: \(target) is not declared in \(paths.joined(separator: ", ")); declare it first, then import it\n"
            )
            return 1
        }
        let registry = try session.registry()
        guard let provider = registry.provider(for: target.kind) else {
            console.err("error: this build has no provider for \(target.kind)\n")
            return 1
        }
        let store = try await stateOptions.open(console)
        // Imports change state: never at the same time as an apply (a held lease is an error like any other).
        return try await LeaseKeeper.holding(
            store,
            timeout: .zero,
            clock: CLIRuntime.clock,
            whenHeld:
                "if a controller runs on this state, it holds the lease: give --controller URL to ask it, or stop it"
        ) {
            do {
                console.out(
                    try await ResourceImport.adopt(
                        declared,
                        id: id,
                        provider: provider,
                        store: store,
                        context: session.context(set, store: store, actor: identity),
                        actor: identity ?? AuditTrail.defaultActor,
                        clock: CLIRuntime.clock
                    ) + "\n"
                )
                return 0
            } catch let refused as ResourceImport.Refused {
                console.err("error: \(refused)\n")
                return 1
            }
        }
    }
}
