import SetpointCore
import SetpointEngine
import SetpointState
import SetpointTesting
import Synchronization
import Testing

@Suite(.timeLimit(.minutes(2))) struct ApplierTests {
    static let vm = ResourceKind.virtualMachine
    static let pool = ResourceKind.resourcePool

    static let vmPolicy: FieldPolicy = {
        var p = FieldPolicy()
        p.stagesRestarts = true
        p.rule("memory", impact: .restart, reason: "memory is applied at the next restart")
        p.rule("macaddr", comparison: .computed)
        p.rule("password", comparison: .writeOnly)
        return p
    }()

    struct Harness {
        let provider: InMemoryProvider
        let store = InMemoryStateStore()
        var backend: InMemoryBackend { provider.backend }

        init(
            latency: Duration = .zero,
            failure: @escaping @Sendable (Action) -> String? = { _ in nil },
            domains: @escaping @Sendable (Action) -> [ConcurrencyDomain] = { _ in [] }
        ) {
            provider = InMemoryProvider(
                kinds: [ApplierTests.vm, ApplierTests.pool],
                policies: [ApplierTests.vm: ApplierTests.vmPolicy],
                latency: latency,
                failure: failure,
                domains: domains,
                computed: { id in id.kind == ApplierTests.vm ? ["macaddr": .string("BC:24:11:00:00:01")] : [:] }
            )
        }

        var registry: ProviderRegistry { try! ProviderRegistry([provider]) }
        var context: ProviderContext { ProviderContext(secrets: NoSecrets()) }
        var pipeline: PlanPipeline { PlanPipeline(registry: registry, context: context, store: store) }

        func plan(_ desired: [Resource], prune: Bool = false) async throws -> Plan {
            try await pipeline.plan(desired, options: PlanOptions(prune: prune))
        }

        func apply(
            _ plan: Plan,
            _ desired: [Resource],
            approveAll: Bool = false,
            parallelism: Int = 8,
            interruption: Interruption = Interruption(),
            onEvent: @escaping @Sendable (ApplyEvent) -> Void = { _ in }
        ) async throws -> ApplyReport {
            let applier = Applier(
                registry: registry,
                context: context,
                store: store,
                parallelism: parallelism,
                approveAllRisky: approveAll,
                interruption: interruption
            )
            return try await applier.apply(
                plan,
                resources: Dictionary(uniqueKeysWithValues: desired.map { ($0.id, $0) }),
                onEvent: onEvent
            )
        }
    }

    struct NoSecrets: SecretResolver {
        func resolve(_ reference: SecretReference) throws -> String { "s3cret" }
    }

    static func stack(memory: Int64 = 1024) -> [Resource] {
        let p = Resource.fixture(pool, "apps", spec: ["comment": .string("web")])
        let a = Resource.fixture(
            vm,
            "api-1",
            spec: ["pool": .string("apps"), "memory": .int(memory), "password": .secret(.env("PW"))],
            references: [p.id]
        )
        let b = Resource.fixture(
            vm,
            "api-2",
            spec: ["pool": .string("apps"), "memory": .int(memory)],
            references: [p.id]
        )
        return [p, a, b]
    }

    @Test func applyTwiceLeavesNothingToDo() async throws {
        let h = Harness()
        let desired = Self.stack()
        let first = try await h.plan(desired)
        #expect(first.changes.map(\.verb) == [.create, .create, .create])
        let report = try await h.apply(first, desired)
        #expect(report.isSuccess, "\(report)")
        #expect(report.succeeded.count == 3)
        let second = try await h.plan(desired)
        #expect(second.isEmpty, "second plan: \(second.changes.map(\.id))")
        #expect(h.backend.creates.values.allSatisfy { $0 == 1 })
        let owned = try await h.store.ownedResources()
        #expect(owned.count == 3)
        #expect(
            !CanonicalJSON.encode(owned[desired[1].id]!.spec).contains("$secretEnv"),
            "state holds fingerprints, not secret references"
        )
        #expect(owned[desired[1].id]?.dependsOn == [desired[0].id])
    }

    @Test func driftMadeBehindSetpointsBackIsPlannedAsDrift() async throws {
        let h = Harness()
        let desired = Self.stack()
        _ = try await h.apply(try await h.plan(desired), desired)
        let id = desired[2].id
        var spec = h.backend.entry(id)!.spec
        spec = spec.setting(["pool"], to: .string("other"))
        h.backend.set(id, spec: spec)
        let plan = try await h.plan(desired)
        #expect(plan.changes.map(\.id) == ["VirtualMachine/api-2:update"])
        #expect(plan.changes.first?.changes.map(\.origin) == [.drift])
        _ = try await h.apply(plan, desired)
        #expect(try await h.plan(desired).isEmpty)
    }

    @Test func restartImpactIsStagedThenTheApprovedRestartMakesItLive() async throws {
        let h = Harness()
        var desired = Self.stack()
        _ = try await h.apply(try await h.plan(desired), desired)
        desired = Self.stack(memory: 2048)
        let plan = try await h.plan(desired)
        #expect(plan.changes.map(\.verb) == [.update, .restart, .update, .restart])
        let report = try await h.apply(plan, desired)
        #expect(report.awaitingApproval == ["VirtualMachine/api-1:restart", "VirtualMachine/api-2:restart"])
        #expect(!report.isSuccess || report.failed.isEmpty)
        #expect(h.backend.entry(desired[1].id)?.pending["memory"] == .int(2048), "staged, not live")
        let pending = try await h.plan(desired)
        #expect(
            pending.changes.map(\.verb) == [.restart, .restart],
            "only the restarts remain; the staged change is not drift"
        )
        let approved = try await h.apply(pending, desired, approveAll: true)
        #expect(approved.isSuccess, "\(approved)")
        #expect(h.backend.entry(desired[1].id)?.spec["memory"] == .int(2048))
        #expect(try await h.plan(desired).isEmpty)
    }

    @Test func aFailureStopsItsDependentsNotUnrelatedWork() async throws {
        // Diamond: top ← left, right ← bottom; plus an unrelated resource.
        let top = Resource.fixture(Self.pool, "top", spec: [:])
        let left = Resource.fixture(Self.vm, "left", spec: [:], references: [top.id])
        let right = Resource.fixture(Self.vm, "right", spec: [:], references: [top.id])
        let bottom = Resource.fixture(Self.vm, "bottom", spec: [:], references: [left.id, right.id])
        let other = Resource.fixture(Self.vm, "other", spec: [:])
        let h = Harness(failure: { $0.resource.name == "left" ? "left exploded" : nil })
        let desired = [top, left, right, bottom, other]
        let report = try await h.apply(try await h.plan(desired), desired)
        #expect(report.failed.keys.sorted() == ["VirtualMachine/left:create"])
        #expect(report.failed["VirtualMachine/left:create"]?.contains("left exploded") == true)
        #expect(report.skipped == ["VirtualMachine/bottom:create": .dependency("VirtualMachine/left:create")])
        #expect(
            Set(report.succeeded) == [
                "ResourcePool/top:create", "VirtualMachine/right:create", "VirtualMachine/other:create",
            ]
        )
        #expect(try await h.store.owned(bottom.id) == nil)
    }

    @Test func parallelismAndConcurrencyDomainsBoundWhatRunsAtOnce() async throws {
        let desired = (1...6).map { Resource.fixture(Self.vm, "vm-\($0)", spec: [:]) }
        let wide = Harness(latency: .milliseconds(50))
        _ = try await wide.apply(try await wide.plan(desired), desired, parallelism: 3)
        #expect(wide.backend.maxInFlight <= 3)
        #expect(wide.backend.maxInFlight > 1, "independent actions run in parallel")
        let locked = Harness(latency: .milliseconds(20), domains: { _ in [ConcurrencyDomain("node:pve1")] })
        let report = try await locked.apply(try await locked.plan(desired), desired, parallelism: 8)
        #expect(report.succeeded.count == 6)
        #expect(locked.backend.maxInFlight == 1, "one action per domain at a time")
    }

    @Test func anInterruptionLetsInFlightActionsFinishAndReportsTheRest() async throws {
        let desired = (1...5).map { Resource.fixture(Self.vm, "vm-\($0)", spec: [:]) }
        let h = Harness(latency: .milliseconds(100))
        let interruption = Interruption()
        let events = Mutex<[ApplyEvent]>([])
        let report = try await h.apply(try await h.plan(desired), desired, parallelism: 1, interruption: interruption) {
            event in
            events.withLock { $0.append(event) }
            if case .started = event { interruption.interrupt() }
        }
        #expect(report.wasInterrupted)
        #expect(report.succeeded.count == 1, "the action in flight finished")
        #expect(report.notStarted.count == 4)
        #expect(h.backend.ids.count == 1)
        #expect(events.withLock { $0.contains { if case .interrupted = $0 { true } else { false } } })
    }

    @Test func orphansAreDeletedOnlyWhenPrunedAndApproved() async throws {
        let h = Harness()
        let desired = Self.stack()
        _ = try await h.apply(try await h.plan(desired), desired)
        let fewer = Array(desired.prefix(2))
        let listed = try await h.plan(fewer)
        #expect(listed.orphans == [desired[2].id])
        #expect(listed.isEmpty)
        let pruned = try await h.plan(fewer, prune: true)
        let skipped = try await h.apply(pruned, fewer)
        #expect(skipped.awaitingApproval == ["VirtualMachine/api-2:delete"])
        #expect(h.backend.entry(desired[2].id) != nil)
        let done = try await h.apply(pruned, fewer, approveAll: true)
        #expect(done.isSuccess)
        #expect(h.backend.entry(desired[2].id) == nil)
        #expect(try await h.store.owned(desired[2].id) == nil)
        #expect(try await h.plan(fewer, prune: true).isEmpty)
    }

    @Test func aResultThatDoesNotMatchIsNotConverged() async throws {
        // A provider that accepts every apply and changes nothing.
        struct Lazy: Provider {
            let kinds = [ResourceKind.resourcePool]
            let backend = InMemoryBackend()
            func fieldPolicy(for kind: ResourceKind) -> FieldPolicy { FieldPolicy() }
            func observe(
                _ resources: [ResolvedResource],
                in context: ProviderContext
            ) async throws -> [ResourceID: Observation] {
                Dictionary(
                    uniqueKeysWithValues: resources.map {
                        ($0.id, .present(ObservedResource(spec: .map(["comment": .string("old")]))))
                    }
                )
            }
            func apply(
                _ action: Action,
                resource: ResolvedResource?,
                in context: ProviderContext
            ) async throws -> Observation { .absent }
        }
        let registry = try ProviderRegistry([Lazy()])
        let store = InMemoryStateStore()
        let r = Resource.fixture(.resourcePool, "apps", spec: ["comment": .string("new")])
        let plan = try await PlanPipeline(
            registry: registry,
            context: ProviderContext(secrets: NoSecrets()),
            store: store
        ).plan([r])
        let report = try await Applier(registry: registry, context: ProviderContext(secrets: NoSecrets()), store: store)
            .apply(plan, resources: [r.id: r])
        #expect(report.failed["ResourcePool/apps:update"]?.contains("spec.comment is \"old\" after update") == true)
        #expect(try await store.owned(r.id) == nil, "nothing is recorded for an action that did not converge")
    }

    /// An apply killed after recording an object and before clearing its action's journal: the next apply finds
    /// nothing to do for it, and clears that journal; a journal of an action it does have stays until that action ends.
    @Test func aJournalTheNextPlanHasNoActionForIsCleared() async throws {
        let provider = InMemoryProvider(kinds: [Self.vm], policies: [:])
        let store = InMemoryStateStore()
        let registry = try ProviderRegistry([provider])
        let context = ProviderContext(secrets: NoSecrets())
        let a = Resource.fixture(Self.vm, "a", spec: ["cores": .int(1)])
        let first = try await PlanPipeline(registry: registry, context: context, store: store).plan([a])
        _ = try await Applier(registry: registry, context: context, store: store).apply(first, resources: [a.id: a])
        // What a kill between the record and the clear leaves: the create's journal, the object owned.
        let create = try #require(ActionID(parsing: "\(a.id):create"))
        try await store.recordJournal(action: create, key: "step", value: "created")
        let b = Resource.fixture(Self.vm, "b", spec: ["cores": .int(1)])
        let second = try await PlanPipeline(registry: registry, context: context, store: store).plan([a, b])
        #expect(second.changes.map(\.id.description) == ["\(b.id):create"])
        let report = try await Applier(registry: registry, context: context, store: store).apply(
            second,
            resources: [a.id: a, b.id: b]
        )
        #expect(report.failed.isEmpty)
        #expect(try await store.openJournals().isEmpty, "the finished action's journal is gone")
    }

    @Test func aFailedTypedOperationIsNotRecordedAsApplied() async throws {
        var policy = FieldPolicy()
        policy.rule("size", verb: .resize, reason: "disks grow online")
        let provider = InMemoryProvider(
            kinds: [Self.vm],
            policies: [Self.vm: policy],
            failure: { $0.verb == .resize ? "resize refused" : nil }
        )
        let store = InMemoryStateStore()
        let registry = try ProviderRegistry([provider])
        let context = ProviderContext(secrets: NoSecrets())
        let v1 = Resource.fixture(Self.vm, "a", spec: ["cores": .int(1), "size": .int(10)])
        let first = try await PlanPipeline(registry: registry, context: context, store: store).plan([v1])
        _ = try await Applier(registry: registry, context: context, store: store).apply(first, resources: [v1.id: v1])
        let v2 = Resource.fixture(Self.vm, "a", spec: ["cores": .int(2), "size": .int(20)])
        let second = try await PlanPipeline(registry: registry, context: context, store: store).plan([v2])
        #expect(second.changes.map(\.verb) == [.update, .resize])
        let report = try await Applier(registry: registry, context: context, store: store).apply(
            second,
            resources: [v2.id: v2]
        )
        #expect(report.failed.keys.sorted() == ["VirtualMachine/a:resize"])
        let owned = try #require(try await store.owned(v2.id))
        #expect(owned.spec["cores"] == .int(2), "the update succeeded and is recorded")
        #expect(owned.spec["size"] == .int(10), "the failed resize is not")
        let third = try await PlanPipeline(registry: registry, context: context, store: store).plan([v2])
        #expect(third.changes.map(\.verb) == [.resize])
        #expect(third.changes.first?.changes.first?.origin == .manifest, "still a manifest change, not drift")
    }

    @Test func twoProvidersForOneKindAreRefused() {
        let a = InMemoryProvider(kinds: [Self.vm])
        let b = InMemoryProvider(kinds: [Self.vm])
        #expect(throws: SetpointError.self) { try ProviderRegistry([a, b]) }
    }
}
