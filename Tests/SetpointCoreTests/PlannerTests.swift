import SetpointCore
import SetpointTesting
import Testing

@Suite(.timeLimit(.minutes(2))) struct PlannerTests {
    static let vm = ResourceKind.virtualMachine
    static let pool = ResourceKind.resourcePool
    static let cluster = ResourceKind.proxmoxCluster

    static let vmPolicy: FieldPolicy = {
        var p = FieldPolicy()
        p.stagesRestarts = true
        p.rule("memory", impact: .restart, reason: "memory is applied at the next restart")
        p.rule("disks.*", impact: .dataLoss, reason: "removing a disk destroys its data")
        p.rule("disks.*.size", verb: .resize, reason: "disks grow online") { change in
            if case .int(let before)? = change.before, case .int(let after)? = change.after, after < before {
                return "disks only grow: \(before) → \(after) would shrink it"
            }
            return nil
        }
        p.rule("template", impact: .replace, reason: "the template is fixed at creation")
        p.rule("node", impact: .restart, verb: .migrate, reason: "a restart-mode migration")
        return p
    }()

    static func plan(
        desired: [Resource],
        applied: [ResourceID: AppliedResource] = [:],
        observed: [ResourceID: Observation],
        errors: [ResourceID: String] = [:],
        options: PlanOptions = PlanOptions(),
        hasState: Bool = true
    ) -> Plan {
        Planner().plan(
            PlanRequest(
                desired: desired,
                applied: applied,
                observed: observed,
                observeErrors: errors,
                policies: { $0 == .virtualMachine ? Self.vmPolicy : FieldPolicy() },
                options: options,
                hasState: hasState
            )
        )
    }

    static func id(_ kind: ResourceKind, _ name: String) -> ResourceID { ResourceID(kind: kind, name: name) }
    static func present(_ spec: Value, pending: Value? = nil) -> Observation {
        .present(ObservedResource(spec: spec, providerID: "100", pending: pending))
    }
    static func verbs(_ plan: Plan) -> [String] { plan.actions.map { "\($0.resource) \($0.verb)" } }

    @Test func createsWhatIsAbsentInDependencyOrder() {
        let c = Resource.fixture(Self.cluster, "pve", spec: ["endpoints": .list([])])
        let p = Resource.fixture(
            Self.pool,
            "apps",
            spec: ["cluster": .string("pve")],
            references: [Self.id(Self.cluster, "pve")]
        )
        let v = Resource.fixture(
            Self.vm,
            "api-1",
            spec: ["cluster": .string("pve"), "pool": .string("apps"), "memory": .int(1024)],
            references: [Self.id(Self.cluster, "pve"), Self.id(Self.pool, "apps")]
        )
        let plan = Self.plan(desired: [v, p, c], observed: [c.id: Self.present(c.spec)])
        #expect(
            Self.verbs(plan) == ["ProxmoxCluster/pve noop", "ResourcePool/apps create", "VirtualMachine/api-1 create"]
        )
        let create = plan.actions[2]
        #expect(create.dependsOn == ["ResourcePool/apps:create"], "waits for the pool, not for the unchanged cluster")
        #expect(create.changes.map(\.path.description) == ["cluster", "memory", "pool"])
        #expect(!create.requiresApproval)
        #expect(plan.fingerprints[c.id] == nil, "an untouched resource needs no fingerprint")
        #expect(plan.fingerprints[v.id] == "absent")
    }

    @Test func aTypedOperationWithRestartImpactIsItselfTheRiskyRestart() {
        let v = Resource.fixture(Self.vm, "ct-1", spec: ["node": .string("pve2")])
        let plan = Self.plan(
            desired: [v],
            applied: [v.id: AppliedResource(id: v.id, spec: .m(["node": .string("pve1")]))],
            observed: [v.id: Self.present(.m(["node": .string("pve1")]))]
        )
        #expect(Self.verbs(plan) == ["VirtualMachine/ct-1 migrate"], "no separate restart: the migration restarts it")
        #expect(plan.actions[0].requiresApproval)
    }

    @Test func aPolicyCanRequireApprovalForAChangeWhateverItsImpact() {
        var policy = FieldPolicy()
        policy.rule("members", impact: .hot, reason: "members are added and removed live")
        policy.requiresApproval = { path, observed, after in
            // Removing a member (fewer after than observed) stops it: approve first.
            guard path.description == "members", case .list(let now)? = observed?["members"],
                case .list(let wanted)? = after,
                wanted.count < now.count
            else { return nil }
            return "removes a member: it is stopped, its data is kept"
        }
        let pg = ResourceKind.postgresCluster
        let fixed = policy
        func plan(_ desired: [Value], _ observed: [Value]) -> Plan {
            let r = Resource.fixture(pg, "main", spec: ["members": .list(desired)])
            return Planner().plan(
                PlanRequest(
                    desired: [r],
                    applied: [r.id: AppliedResource(id: r.id, spec: .m(["members": .list(observed)]))],
                    observed: [r.id: .present(ObservedResource(spec: .m(["members": .list(observed)])))],
                    observeErrors: [:],
                    policies: { _ in fixed },
                    hasState: true
                )
            )
        }
        let grow = plan([.string("a"), .string("b")], [.string("a")])
        #expect(grow.actions.first?.verb == .update && grow.actions.first?.requiresApproval == false)
        let shrink = plan([.string("a")], [.string("a"), .string("b")])
        #expect(shrink.actions.first?.requiresApproval == true)
        #expect(shrink.actions.first?.impact == .hot, "the impact stays what it is")
        #expect(shrink.actions.first?.reasons.contains("removes a member: it is stopped, its data is kept") == true)
    }

    @Test func aMissingReferencedResourceIsAPlanErrorNotACreate() {
        let c = Resource.fixture(Self.cluster, "pve", spec: [:])
        let plan = Self.plan(desired: [c], observed: [:])
        #expect(plan.actions.isEmpty)
        #expect(plan.diagnostics.map(\.code) == [.referencedMissing])
        #expect(!plan.isApplyable)
    }

    @Test func restartImpactIsStagedAndTheRestartNeedsApproval() {
        let v = Resource.fixture(Self.vm, "api-1", spec: ["memory": .int(8192)])
        let plan = Self.plan(
            desired: [v],
            applied: [v.id: AppliedResource(id: v.id, spec: .m(["memory": .int(4096)]))],
            observed: [v.id: Self.present(.m(["memory": .int(4096)]))]
        )
        #expect(Self.verbs(plan) == ["VirtualMachine/api-1 update", "VirtualMachine/api-1 restart"])
        #expect(plan.actions[0].impact == .restart)
        #expect(!plan.actions[0].requiresApproval, "staging a restart-impact change is not itself risky")
        #expect(plan.actions[1].requiresApproval, "the restart that makes it live is")
        #expect(plan.actions[1].dependsOn == [plan.actions[0].id])
        #expect(plan.fingerprints[v.id]?.hasPrefix("sha256:") == true, "a touched resource is fingerprinted")
    }

    @Test func aRestartImpactChangeThatCannotBeStagedIsRisky() {
        var policy = FieldPolicy()
        policy.rule("memory", impact: .restart, reason: "applied by restarting")  // stagesRestarts stays false
        let v = Resource.fixture(Self.vm, "api-1", spec: ["memory": .int(2)])
        let fixed = policy
        let plan = Planner().plan(
            PlanRequest(desired: [v], observed: [v.id: Self.present(.m(["memory": .int(1)]))], policies: { _ in fixed })
        )
        #expect(plan.changes.map(\.verb) == [.update])
        #expect(plan.changes.first?.requiresApproval == true, "applying it restarts the service")
    }

    @Test func pendingChangesAloneGiveARestartNotDrift() {
        let v = Resource.fixture(Self.vm, "api-1", spec: ["memory": .int(8192)])
        let plan = Self.plan(
            desired: [v],
            applied: [v.id: AppliedResource(id: v.id, spec: .m(["memory": .int(8192)]))],
            observed: [v.id: Self.present(.m(["memory": .int(4096)]), pending: .m(["memory": .int(8192)]))]
        )
        #expect(Self.verbs(plan) == ["VirtualMachine/api-1 restart"])
        #expect(plan.actions[0].reasons == ["changes are pending restart"])
    }

    @Test func replaceImpactReplacesTheWholeResource() {
        let v = Resource.fixture(Self.vm, "api-1", spec: ["template": .string("debian-13"), "memory": .int(2)])
        let plan = Self.plan(
            desired: [v],
            observed: [v.id: Self.present(.m(["template": .string("debian-12"), "memory": .int(1)]))]
        )
        #expect(Self.verbs(plan) == ["VirtualMachine/api-1 replace"])
        #expect(plan.actions[0].requiresApproval)
        #expect(plan.actions[0].impact == .replace)
        #expect(plan.actions[0].reasons.first?.contains("spec.template forces replacement") == true)
    }

    @Test func removingADiskIsDataLossAndNeedsApproval() {
        let disks: Value = .m(["scsi0": .m(["size": .int(1)]), "scsi1": .m(["size": .int(2)])])
        let v = Resource.fixture(Self.vm, "api-1", spec: ["disks": .m(["scsi0": .m(["size": .int(1)])])])
        let plan = Self.plan(
            desired: [v],
            applied: [v.id: AppliedResource(id: v.id, spec: .m(["disks": disks]))],
            observed: [v.id: Self.present(.m(["disks": disks]))]
        )
        #expect(Self.verbs(plan) == ["VirtualMachine/api-1 update"])
        #expect(plan.actions[0].impact == .dataLoss)
        #expect(plan.actions[0].requiresApproval)
    }

    @Test func typedOperationsFollowTheUpdate() {
        let v = Resource.fixture(
            Self.vm,
            "api-1",
            spec: ["cores": .int(4), "disks": .m(["scsi0": .m(["size": .int(20)])])]
        )
        let plan = Self.plan(
            desired: [v],
            observed: [v.id: Self.present(.m(["cores": .int(2), "disks": .m(["scsi0": .m(["size": .int(10)])])]))]
        )
        #expect(Self.verbs(plan) == ["VirtualMachine/api-1 update", "VirtualMachine/api-1 resize"])
        #expect(plan.actions[1].dependsOn == ["VirtualMachine/api-1:update"])
        #expect(plan.actions[1].changes.map(\.path.description) == ["disks.scsi0.size"])
    }

    @Test func aProviderCheckRefusesADiskShrink() {
        let v = Resource.fixture(Self.vm, "api-1", spec: ["disks": .m(["scsi0": .m(["size": .int(5)])])])
        let plan = Self.plan(
            desired: [v],
            observed: [v.id: Self.present(.m(["disks": .m(["scsi0": .m(["size": .int(10)])])]))]
        )
        #expect(plan.diagnostics.map(\.code) == [.changeRefused])
        #expect(plan.diagnostics.first?.summary.contains("would shrink it") == true)
        #expect(!plan.isApplyable)
    }

    @Test func theApprovalAnnotationMakesEveryChangeRisky() {
        let v = Resource.fixture(
            Self.vm,
            "api-1",
            spec: ["cores": .int(4)],
            annotations: ["setpoint/approval": "required"]
        )
        let plan = Self.plan(desired: [v], observed: [v.id: Self.present(.m(["cores": .int(2)]))])
        #expect(plan.actions.map(\.requiresApproval) == [true])
    }

    @Test func orphansAreListedAndDeletedOnlyWithPruneDependentsFirst() {
        let keep = Resource.fixture(Self.pool, "keep", spec: [:])
        let poolID = Self.id(Self.pool, "old")
        let vmID = Self.id(Self.vm, "old-vm")
        let applied: [ResourceID: AppliedResource] = [
            keep.id: AppliedResource(id: keep.id, spec: .m([:])),
            poolID: AppliedResource(id: poolID, providerID: "old", spec: .m([:])),
            vmID: AppliedResource(id: vmID, providerID: "101", spec: .m([:]), dependsOn: [poolID]),
        ]
        let observed: [ResourceID: Observation] = [
            keep.id: Self.present(.m([:])), poolID: Self.present(.m([:])), vmID: Self.present(.m([:])),
        ]
        let listed = Self.plan(desired: [keep], applied: applied, observed: observed)
        #expect(listed.orphans == [poolID, vmID])
        #expect(listed.isEmpty, "orphans are only listed without --prune")
        let pruned = Self.plan(desired: [keep], applied: applied, observed: observed, options: PlanOptions(prune: true))
        #expect(
            Self.verbs(pruned) == ["ResourcePool/keep noop", "VirtualMachine/old-vm delete", "ResourcePool/old delete"]
        )
        #expect(pruned.action("ResourcePool/old:delete")?.dependsOn == ["VirtualMachine/old-vm:delete"])
        #expect(pruned.changes.allSatisfy { $0.requiresApproval })
        #expect(pruned.action("VirtualMachine/old-vm:delete")?.providerID == "101")
    }

    @Test func anEmptyManifestSetNeverPrunes() {
        let id = Self.id(Self.pool, "old")
        let plan = Self.plan(
            desired: [],
            applied: [id: AppliedResource(id: id, spec: .m([:]))],
            observed: [id: Self.present(.m([:]))],
            options: PlanOptions(prune: true)
        )
        #expect(plan.isEmpty)
        #expect(plan.orphans == [id])
        #expect(plan.diagnostics.map(\.code) == [.pruneRefused])
    }

    @Test func targetsLimitThePlanToTheTargetAndItsDependencies() {
        let p = Resource.fixture(Self.pool, "apps", spec: [:])
        let a = Resource.fixture(Self.vm, "a", spec: ["pool": .string("apps")], references: [p.id])
        let b = Resource.fixture(Self.vm, "b", spec: [:])
        let plan = Self.plan(desired: [a, b, p], observed: [:], options: PlanOptions(targets: [a.id]))
        #expect(Self.verbs(plan) == ["ResourcePool/apps create", "VirtualMachine/a create"])
    }

    @Test func anObservationErrorStopsThatResourceOnly() {
        let a = Resource.fixture(Self.vm, "a", spec: [:])
        let b = Resource.fixture(Self.vm, "b", spec: [:])
        let plan = Self.plan(desired: [a, b], observed: [:], errors: [a.id: "connection refused"])
        #expect(Self.verbs(plan) == ["VirtualMachine/b create"])
        #expect(plan.diagnostics.map(\.code) == [.observeFailed])
        #expect(plan.diagnostics.first?.summary.contains("connection refused") == true)
    }

    @Test func withoutStateOwnershipOfManagedKindsIsUnknown() {
        let c = Resource.fixture(Self.cluster, "pve", spec: [:])
        let v = Resource.fixture(Self.vm, "a", spec: [:])
        let plan = Self.plan(desired: [c, v], observed: [c.id: Self.present(.m([:]))], hasState: false)
        #expect(plan.ownershipUnknown == [.virtualMachine], "referenced kinds are never owned")
    }

    @Test func plansAreDeterministic() {
        let v = Resource.fixture(Self.vm, "a", spec: ["cores": .int(2)])
        let a = Self.plan(desired: [v], observed: [v.id: Self.present(.m(["cores": .int(1)]))])
        let b = Self.plan(desired: [v], observed: [v.id: Self.present(.m(["cores": .int(1)]))])
        #expect(a == b)
        let c = Self.plan(desired: [v], observed: [v.id: Self.present(.m(["cores": .int(3)]))])
        #expect(a.id != c.id, "a different observation is a different plan")
    }
}
