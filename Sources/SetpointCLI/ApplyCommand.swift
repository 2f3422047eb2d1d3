import ArgumentParser
import Foundation
import SetpointController
import SetpointCore
import SetpointEngine
import SetpointManifest
import SetpointRender
import SetpointState

/// `setpoint apply PATH…`: plan, confirm, and make reality match.
struct ApplyCommand: ConsoleCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract:
            "Plan, then carry out the plan: parallel where independent, each result confirmed by observing again.",
        discussion: """
            Shows the plan and asks for 'yes' (which approves every action listed, risky ones included). --auto-approve skips the question for the other actions only: risky ones — restarts, replacements, data loss, deletes and resources annotated setpoint/approval: required — run only when approved with --approve KIND/NAME or --approve all-risky, and are otherwise skipped and listed. SIGINT/SIGTERM lets actions in flight finish and reports what was not started.

            Examples:
              setpoint apply manifests/
              setpoint apply manifests/ --auto-approve
              setpoint apply manifests/ --auto-approve --approve all-risky --max-destroy 2
              setpoint apply --controller https://ops-1:9797 --token-file ~/.setpoint-token

            While a controller runs on the state it holds the lease: with --controller URL (or SETPOINT_CONTROLLER) and an \
            approver's token, the leading controller makes a pass now, from its own manifests, under its lease and with its \
            approvals (risky actions wait in its pending plan); the request is audited under the token's identity.

            Exit codes: 0 applied; 1 error or a failed action; 3 risky actions were skipped awaiting approval.
            """
    )

    @Argument(
        help: "Manifest files or folders, or one plan file saved by 'setpoint plan --out' (none through a controller)."
    )
    var paths: [String] = []

    @OptionGroup var client: ControllerClientOptions

    @OptionGroup var signing: SigningKeyOption

    @OptionGroup var stateOptions: StateOptions
    @OptionGroup var shape: PlanShapeOptions

    @Flag(name: .long, help: "Do not ask: apply every action that is not risky.")
    var autoApprove = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Approve the risky actions of a resource, or all-risky (repeatable).",
            valueName: "KIND/NAME|all-risky"
        )
    )
    var approve: [String] = []

    @Option(name: .long, help: "Refuse the whole plan when it deletes or replaces more resources than this.")
    var maxDestroy: Int = 1

    @Option(name: .long, help: "Actions run at once, at most.")
    var parallelism: Int = 8

    @Option(
        name: .long,
        help: ArgumentHelp(
            "How long to wait for another apply to release the state lease (e.g. 30s, 5m).",
            valueName: "DURATION"
        )
    )
    var lockTimeout: String = "0s"

    @Option(
        name: .customLong("as"),
        help: ArgumentHelp(
            "Identity recorded in the audit log for approvals (default: the OS user@host).",
            valueName: "IDENTITY"
        )
    )
    var identity: String?

    func validate() throws {
        guard parallelism >= 1 else { throw ValidationError("--parallelism must be at least 1") }
        guard maxDestroy >= 0 else { throw ValidationError("--max-destroy cannot be negative") }
        guard DurationValue.parse(lockTimeout) != nil else {
            throw ValidationError("--lock-timeout '\(lockTimeout)' is not a duration such as 30s or 5m")
        }
        for a in approve where a != "all-risky" && ResourceID(parsing: a) == nil {
            throw ValidationError("--approve '\(a)' is neither KIND/NAME nor all-risky")
        }
        _ = try shape.targets()
    }

    func execute(_ console: Console) async throws -> Int32 {
        if client.isConfigured(console) { return await throughController(console) }
        guard !paths.isEmpty else {
            console.err(
                "error: give at least one manifest file or folder, e.g. 'setpoint apply manifests/' (or --controller URL)\n"
            )
            return 1
        }
        let runtime = CLIRuntime.current ?? .shipped
        let interruption = Interruption()
        if paths.count == 1, SavedPlanFile.looksLikePlanFile(paths[0]) {
            return try await applySaved(paths[0], runtime: runtime, console: console, interruption: interruption)
        }
        let session = PlanSession(console: console, runtime: runtime, paths: paths)
        guard let set = await session.load(), session.checkTargets(try shape.targets(), in: set) else { return 1 }
        return try await withStateLease(console: console, interruption: interruption) { store in
            try await applyHoldingLease(
                set,
                store: store,
                session: session,
                runtime: runtime,
                console: console,
                interruption: interruption
            )
        }
    }

    /// Opens the state for writing and holds its lease (one apply at a time per state store) while `body` runs.
    private func withStateLease(
        console: Console,
        interruption: Interruption,
        _ body: (any StateStore) async throws -> Int32
    ) async throws -> Int32 {
        let store: any StateStore
        do {
            store = try await stateOptions.open(console, planKey: signing.signKey)
        } catch {
            console.err("error: \(error)\n")
            return 1
        }
        let code: Int32
        do {
            code = try await LeaseKeeper.holding(
                store,
                timeout: DurationValue.parse(lockTimeout)!.duration,
                clock: CLIRuntime.clock,
                onLost: {
                    console.err(
                        "error: the state lease was lost (this process was paused past its expiry); no new action starts\n"
                    )
                    interruption.interrupt()
                }
            ) { try await body(store) }
        } catch let error as SetpointError where error.code == .leaseHeld {
            console.err("error: \(error)\n")
            return 1
        }
        if let problem = (store as? any AuditTailed)?.tail.anchorProblem {
            console.err("warning: the audit anchor was not moved with the last record: \(problem)\n")
        }
        return code
    }

    private func applyHoldingLease(
        _ set: ManifestSet,
        store: any StateStore,
        session: PlanSession,
        runtime: CLIRuntime,
        console: Console,
        interruption: Interruption
    ) async throws -> Int32 {
        let plan = try await session.plan(
            set,
            store: store,
            options: PlanOptions(prune: shape.prune, targets: try shape.targets())
        )
        console.out(PlanTextRenderer(style: session.style, sourceLine: SourceLines().line).render(plan))
        return try await run(
            plan,
            set,
            store: store,
            session: session,
            runtime: runtime,
            console: console,
            interruption: interruption
        )
    }

    /// `apply FILE`: exactly the saved plan, after checking that it is intact and that nothing it touches moved.
    private func applySaved(
        _ path: String,
        runtime: CLIRuntime,
        console: Console,
        interruption: Interruption
    ) async throws -> Int32 {
        let saved: SavedPlan
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            saved = try SavedPlanFile.decode(data, path: path, signingKey: try signing.key(runtime.secrets))
        } catch let refusal as SavedPlanFile.Refusal {
            console.err("error: \(refusal)\n")
            return refusal.isTampering ? 3 : 1
        }
        let session = PlanSession(console: console, runtime: runtime, paths: saved.plan.source.paths)
        guard let set = await session.load() else { return 1 }
        do { try SavedPlanCheck.checkManifests(saved.plan, resources: set.resources) } catch {
            console.err("error: \(error)\n")
            return 1
        }
        return try await withStateLease(console: console, interruption: interruption) { store in
            try await checkAndRun(
                saved,
                set,
                store: store,
                session: session,
                runtime: runtime,
                console: console,
                interruption: interruption
            )
        }
    }

    private func checkAndRun(
        _ saved: SavedPlan,
        _ set: ManifestSet,
        store: any StateStore,
        session: PlanSession,
        runtime: CLIRuntime,
        console: Console,
        interruption: Interruption
    ) async throws -> Int32 {
        let plan: Plan
        do {
            plan = try await SavedPlanCheck.verify(
                saved,
                resources: set.resources,
                store: store,
                pipeline: try session.pipeline(store: store, set: set)
            )
        } catch let refusal as SavedPlanCheck.Refusal {
            console.err("error: \(refusal)\n")
            return 1
        }
        console.out(PlanTextRenderer(style: session.style, sourceLine: SourceLines().line).render(plan))
        return try await run(
            plan,
            set,
            store: store,
            session: session,
            runtime: runtime,
            console: console,
            interruption: interruption
        )
    }

    /// Refusals, approval, then the apply itself, for a plan made now or a saved one.
    private func run(
        _ plan: Plan,
        _ set: ManifestSet,
        store: any StateStore,
        session: PlanSession,
        runtime: CLIRuntime,
        console: Console,
        interruption: Interruption
    ) async throws -> Int32 {
        if let refusal = ApplyOperation.refusal(of: plan, maxDestroy: maxDestroy) {
            console.err("error: \(refusal)\n")
            return 1
        }
        guard !plan.isEmpty else { return 0 }
        var approveAll = approve.contains("all-risky")
        let approvedResources = Set(approve.compactMap(ResourceID.init(parsing:)))
        if !autoApprove {
            console.out("\nApply these actions? Risky ones listed above are approved too. Only 'yes' is accepted: ")
            let answer = (runtime.input ?? { readLine() })()?.trimmingCharacters(in: .whitespaces)
            guard answer == "yes" else {
                console.out("\nApply cancelled: nothing was changed.\n")
                return 1
            }
            approveAll = true
        }
        let signals = SignalTrap(interruption: interruption)
        defer { signals.cancel() }
        let progress = ApplyProgressRenderer(style: session.style)
        let operation = ApplyOperation(
            registry: try session.registry(),
            context: session.context(set, store: store, actor: identity),
            store: store,
            fingerprint: SecretFingerprints.make(runtime.secrets),
            audit: AuditTrail(log: store, actor: identity ?? AuditTrail.defaultActor, clock: CLIRuntime.clock)
        )
        console.out("\n")
        let outcome = try await operation.apply(
            plan,
            resources: Dictionary(set.resources.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a }),
            options: ApplyOperation.Options(
                parallelism: parallelism,
                maxDestroy: maxDestroy,
                approvedResources: approvedResources,
                approveAllRisky: approveAll,
                approvalHow: autoApprove ? "--approve on the command line" : "interactive yes"
            ),
            interruption: interruption
        ) { event in
            if let line = progress.line(for: event) { console.out(line) }
        }
        if let problem = outcome.statusNotSaved {
            console.err("warning: the plan's status could not be saved: \(problem)\n")
        }
        return outcome.exitCode
    }
}

extension ApplyCommand {
    /// `apply --controller URL`: the leading controller makes a pass now — its manifests, its lease, its approvals — and
    /// this prints what the pass did. Exit 0 when it applied everything it had to, 3 when actions wait for approval, 1
    /// on failures or errors.
    func throughController(_ console: Console) async -> Int32 {
        if !paths.isEmpty {
            console.err(
                "error: through a controller, the controller's own manifests are applied: give no paths (or no --controller)\n"
            )
            return 1
        }
        if autoApprove || !approve.isEmpty || identity != nil {
            console.err(
                "error: through a controller its approvals apply (approve its pending plan with setpoint approve) and the "
                    + "audit records your token's identity: --auto-approve, --approve and --as do not apply\n"
            )
            return 1
        }
        let r: (status: Int, text: String)
        do { r = try await client.request(console, "POST", "/api/v1/passes", timeout: .seconds(960)) } catch {
            console.err("error: cannot reach the controller: \(error)\n")
            return 1
        }
        guard r.status == 200, let pass = try? JSONDecoder().decode(APIv1.PassSummary.self, from: Data(r.text.utf8))
        else { return client.finish(console, r) }
        guard pass.leading else {
            console.err(
                "error: the controller did not lead that pass (\(pass.leaseHeldBy ?? "another holds the lease")): nothing was "
                    + "applied; ask the leading controller\n"
            )
            return 1
        }
        var out =
            "the leading controller made a pass\(pass.plan.map { " (plan \($0))" } ?? "")\(pass.commit.map { " at commit \($0.prefix(12))" } ?? ""):\n"
        for e in pass.errors { out += "  error: \(e)\n" }
        for a in pass.applied { out += "  applied \(a)\n" }
        for (a, why) in pass.failed.sorted(by: { $0.key < $1.key }) { out += "  failed \(a): \(why)\n" }
        for (a, why) in pass.held.sorted(by: { $0.key < $1.key }) { out += "  held \(a): \(why)\n" }
        for d in pass.drift { out += "  drift: \(d)\n" }
        if !pass.waiting.isEmpty {
            out +=
                "  waiting for approval in plan \(pass.pendingPlan ?? "?"): \(pass.waiting.joined(separator: ", "))\n"
                + "  approve it with: setpoint approve \(pass.pendingPlan ?? "ID")\n"
        }
        if pass.applied.isEmpty && pass.failed.isEmpty && pass.waiting.isEmpty && pass.errors.isEmpty
            && pass.held.isEmpty
        {
            out += "  nothing to do: the resources match their manifests\n"
        }
        console.out(out)
        if !pass.failed.isEmpty || !pass.errors.isEmpty { return 1 }
        return pass.waiting.isEmpty ? 0 : 3
    }
}
