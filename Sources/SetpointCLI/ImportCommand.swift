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
            """
    )

    @Argument(help: ArgumentHelp("The resource to adopt.", valueName: "KIND/NAME"))
    var resource: String

    @Argument(help: "Manifest files or folders that declare it.")
    var paths: [String]

    @Option(name: .long, help: "The provider's id of the object (a VMID, …).")
    var id: String?

    @OptionGroup var stateOptions: StateOptions

    @Option(name: .customLong("as"), help: ArgumentHelp("Identity recorded in the audit log.", valueName: "IDENTITY"))
    var identity: String?

    func validate() throws {
        guard ResourceID(parsing: resource) != nil else { throw ValidationError("'\(resource)' is not KIND/NAME") }
        guard !paths.isEmpty else {
            throw ValidationError("give the manifest files or folders that declare \(resource)")
        }
    }

    func execute(_ console: Console) async throws -> Int32 {
        let runtime = CLIRuntime.current ?? .shipped
        let session = PlanSession(console: console, runtime: runtime, paths: paths)
        guard let set = await session.load() else { return 1 }
        let target = ResourceID(parsing: resource)!
        guard let declared = set.resource(target) else {
            console.err(
                "error: \(target) is not declared in \(paths.joined(separator: ", ")); declare it first, then import it\n"
            )
            return 1
        }
        guard KindRegistry.definition(for: target.kind)?.isManaged ?? false else {
            console.err(
                "error: \(target.kind) is a referenced kind: it is never owned, so there is nothing to import\n"
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
        return try await LeaseKeeper.holding(store, timeout: .zero, clock: CLIRuntime.clock) {
            try await adopt(
                declared,
                target: target,
                provider: provider,
                store: store,
                context: session.context(set, store: store, actor: identity),
                console: console
            )
        }
    }

    private func adopt(
        _ declared: Resource,
        target: ResourceID,
        provider: any Provider,
        store: any StateStore,
        context: ProviderContext,
        console: Console
    ) async throws -> Int32 {
        if let owned = try await store.owned(target) {
            console.err("error: \(target) is already owned (id \(owned.providerID ?? "none")); nothing to import\n")
            return 1
        }
        let lookedUp = try await provider.lookup(declared, id: id, in: context)
        if case .failed(let why) = lookedUp {
            console.err("error: \(target) cannot be adopted: \(why)\n")
            return 1
        }
        guard case .present(let found) = lookedUp else {
            console.err(
                "error: no existing object found for \(target)\(id.map { " with id \($0)" } ?? ""); check the id\n"
            )
            return 1
        }
        // Last applied = what exists now, for the fields the manifest sets: the next plan shows manifest changes only.
        let applied = Self.restrict(found.spec, to: declared.spec)
        try await store.recordApplied(
            AppliedResource(
                id: target,
                providerID: found.providerID ?? id,
                spec: applied,
                dependsOn: declared.references.map(\.target)
            )
        )
        try await AuditTrail(log: store, actor: identity ?? AuditTrail.defaultActor, clock: CLIRuntime.clock).record(
            .import,
            detail: .map(["resource": .string(target.description), "id": found.providerID.map(Value.string) ?? .null])
        )
        console.out(
            "imported \(target)\(found.providerID.map { " (id \($0))" } ?? ""); plan shows its differences to the manifest\n"
        )
        return 0
    }

    /// The observed spec limited to the keys the desired spec has, recursively through maps. Secret fields are left
    /// out: state never holds a secret, and their last applied value is unknown until Setpoint applies them.
    static func restrict(_ observed: Value, to desired: Value) -> Value {
        guard case .map(let o) = observed, case .map(let d) = desired else { return observed }
        var out: [String: Value] = [:]
        for (key, want) in d {
            if case .secret = want { continue }
            if let have = o[key] { out[key] = restrict(have, to: want) }
        }
        return .map(out)
    }
}
