import Foundation
import SetpointBackup
import SetpointCore
import SetpointEngine
import SetpointManifest
import SetpointState

/// What the backup commands share: the declared policies, the backup provider, the state store, and — for the
/// commands that run pgBackRest's backup or a restore — the state's lease, so two runs never meet on pgBackRest's
/// lock and never run beside an apply.
struct BackupOperation {
    let console: Console
    let paths: [String]
    let state: StateOptions

    struct Loaded {
        var provider: BackupProvider
        var set: ManifestSet
        var context: ProviderContext
        /// Nil only for a read-only load of a state that does not exist yet.
        var store: (any StateStore)?
    }

    /// Splits `[POLICY] PATH…`: the first argument is a policy's name unless it is an existing file or folder.
    static func split(_ arguments: [String]) -> (policy: String?, paths: [String]) {
        guard let first = arguments.first, !FileManager.default.fileExists(atPath: first) else {
            return (nil, arguments)
        }
        return (first, Array(arguments.dropFirst()))
    }

    /// - Parameter actor: who the audit log names for a host key trusted on first use (`--as`).
    func load(readOnly: Bool = false, actor: String? = nil) async -> Loaded? {
        let runtime = CLIRuntime.current ?? .shipped
        let session = PlanSession(console: console, runtime: runtime, paths: paths)
        guard let set = await session.load() else { return nil }
        guard let provider = runtime.providers.lazy.compactMap({ $0 as? BackupProvider }).first else {
            console.err("error: this build has no backup provider\n")
            return nil
        }
        do {
            let store = readOnly ? try await state.openReadOnly(console) : try await state.open(console)
            return Loaded(
                provider: provider,
                set: set,
                context: session.context(set, store: store, actor: actor),
                store: store
            )
        } catch {
            console.err("error: \(error)\n")
            return nil
        }
    }

    func policy(_ name: String, in set: ManifestSet) -> Resource? {
        let id = ResourceID(kind: .backupPolicy, name: name)
        if let r = set.resource(id) { return r }
        let known = set.resources.filter { $0.id.kind == .backupPolicy }.map(\.id.name)
        console.err(
            "error: \(id) is not declared in \(paths.joined(separator: ", "))"
                + (known.isEmpty ? ": no BackupPolicy is\n" : "; declared: \(known.joined(separator: ", "))\n")
        )
        return nil
    }

    /// Runs `body` holding the lease.
    func leased<T>(_ store: any StateStore, _ body: () async throws -> T) async throws -> T {
        try await LeaseKeeper.holding(
            store,
            timeout: .zero,
            clock: CLIRuntime.clock,
            whenHeld: "an apply, another backup, or a controller holds it: a running controller runs scheduled "
                + "backups itself; wait, or stop it",
            body
        )
    }

    /// `backup run` and `backup drill`: loads the policy, makes the run under the lease, records it, prints it.
    /// Exit 0 when it succeeded, 1 when it failed (recorded) or could not start.
    func recordedRun(
        _ name: String,
        what: String,
        identity: String?,
        _ make: (Loaded, Resource, _ trigger: String) async throws -> BackupRun
    ) async -> Int32 {
        guard let l = await load(actor: identity), let store = l.store, let resource = policy(name, in: l.set) else {
            return 1
        }
        do {
            let run = try await leased(store) {
                let run = try await make(l, resource, "cli \(identity ?? AuditTrail.defaultActor)")
                try await record(run, store: store, identity: identity)
                return run
            }
            return Self.report(run, console)
        } catch {
            console.err("error: \(what) of BackupPolicy/\(name): \(error)\n")
            return 1
        }
    }

    /// Records a run in the state store and the audit log.
    func record(_ run: BackupRun, store: any StateStore, identity: String?) async throws {
        try await AuditTrail(log: store, actor: identity ?? AuditTrail.defaultActor, clock: CLIRuntime.clock).record(
            run,
            in: store
        )
    }

    /// Prints a finished run (and a drill's RTO); its exit code.
    static func report(_ run: BackupRun, _ console: Console) -> Int32 {
        (run.outcome == .succeeded ? console.out : console.err)(line(run) + "\n")
        if run.kind == .drill, run.outcome == .succeeded {
            console.out(String(format: "measured RTO: %.1f s\n", run.seconds))
        }
        return run.outcome == .succeeded ? 0 : 1
    }

    static func bytes(_ n: Int64?) -> String {
        guard let n else { return "?" }
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = Double(n)
        var i = 0
        while v >= 1024, i < units.count - 1 {
            v /= 1024
            i += 1
        }
        return i == 0 ? "\(n) B" : String(format: "%.1f %@", v, units[i])
    }

    static func line(_ run: BackupRun) -> String {
        var text = String(
            format: "%@ %@ %@ in %.1f s",
            run.kind.rawValue,
            run.outcome.rawValue,
            run.label ?? "",
            run.seconds
        )
        .replacingOccurrences(of: "  ", with: " ")
        if let size = run.sizeBytes { text += ", \(bytes(size))" }
        if let repo = run.repositoryBytes { text += " (\(bytes(repo)) added to the repository)" }
        if let m = run.message { text += ": \(m)" }
        return text
    }
}
