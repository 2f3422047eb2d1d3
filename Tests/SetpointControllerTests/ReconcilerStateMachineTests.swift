import Foundation
import SetpointCore
import SetpointTesting
import Testing

@testable import SetpointController

/// The reconciler's transitions, one event at a time, with a plain string for the lease and fixed times.
@Suite(.timeLimit(.minutes(1))) struct ReconcilerStateMachineTests {
    typealias Machine = ReconcilerStateMachine<String>
    let t0 = Date(timeIntervalSince1970: 1_796_644_800)  // 2026-12-07T12:00:00Z

    static func vm(_ name: String) -> ResourceID { ResourceID(kind: .virtualMachine, name: name) }

    static func update(_ name: String, risky: Bool = false, dependsOn: [ActionID] = []) -> Action {
        Action(
            resource: vm(name),
            verb: .update,
            changes: [FieldChange(path: ["cores"], before: .int(2), after: .int(4), origin: .manifest, impact: .hot)],
            dependsOn: dependsOn,
            requiresApproval: risky
        )
    }

    /// A machine that leads with lease "L1" and has a pass in flight.
    func leadingInAPass() -> Machine {
        var m = Machine()
        guard case .acquire(unfence: false) = m.leaseNeeded() else {
            Issue.record("a new machine must try to take the lease")
            return m
        }
        guard case .lead = m.leaseAcquired("L1") else {
            Issue.record("a taken lease must lead")
            return m
        }
        let r1 = m.passStarted()
        #expect(r1)
        return m
    }

    func sort(
        _ m: inout Machine,
        _ changes: [Action],
        domains: [String: [String]] = [:],
        digests: [ResourceID: String] = [:],
        decide: (Action) -> ControllerPolicy.Decision = { _ in .apply },
        at now: Date? = nil
    ) -> Machine.Sorting {
        m.planned(
            changes,
            domains: { domains[$0.resource.name] ?? [] },
            digests: digests,
            decide: decide,
            now: now ?? t0
        )
    }

    // MARK: - leadership

    @Test func leadershipTransitions() {
        struct Row {
            var name: String
            var events: (inout Machine) -> Void
            var leading: Bool
            var holder: String?
            var next: String
        }
        func step(_ m: inout Machine) -> String {
            switch m.leaseNeeded() {
            case .lead: "lead"
            case .acquire(let unfence): unfence ? "acquire after unfencing" : "acquire"
            case .stop: "stop"
            }
        }
        let rows: [Row] = [
            Row(name: "new", events: { _ in }, leading: false, holder: nil, next: "acquire"),
            Row(
                name: "another holds it",
                events: { $0.leaseRefused(holder: "held by controller@b until 12:00:10") },
                leading: false,
                holder: "held by controller@b until 12:00:10",
                next: "acquire"
            ),
            Row(name: "taken", events: { _ = $0.leaseAcquired("L1") }, leading: true, holder: nil, next: "lead"),
            Row(
                name: "lost while leading",
                events: {
                    _ = $0.leaseAcquired("L1")
                    _ = $0.leaseLost()
                },
                leading: false,
                holder: nil,
                next: "acquire after unfencing"
            ),
            Row(
                name: "stopping",
                events: {
                    _ = $0.leaseAcquired("L1")
                    _ = $0.stopRequested()
                },
                leading: true,
                holder: nil,
                next: "stop"
            ),
            Row(
                name: "resigned",
                events: {
                    _ = $0.leaseAcquired("L1")
                    _ = $0.resign()
                },
                leading: false,
                holder: nil,
                next: "acquire"
            ),
        ]
        for row in rows {
            var m = Machine()
            row.events(&m)
            #expect(m.isLeading == row.leading, "\(row.name)")
            #expect(m.holder == row.holder, "\(row.name)")
            #expect(step(&m) == row.next, "\(row.name)")
        }
    }

    @Test func theLeaseLostMidPassInterruptsThePassAndTheNextPassFollowsUntilItTakesItAgain() {
        var m = leadingInAPass()
        let r2 = m.leaseLost()
        #expect(r2, "the pass in flight must stop starting actions")
        #expect(!m.isLeading)
        let r3 = m.leaseLost()
        #expect(!r3, "lost once: a second signal interrupts nothing more")
        m.passEnded(unsettled: [:])
        guard case .acquire(unfence: true) = m.leaseNeeded() else {
            Issue.record("after a loss the store's writes are unfenced before trying again")
            return
        }
        m.leaseRefused(holder: "held by controller@b")
        #expect(m.holder == "held by controller@b")
        let r4 = m.resign()
        #expect(r4 == nil, "nothing to give up: another holds it")
    }

    @Test func aLeaseLostWhileBeingTakenIsNotLedWith() {
        var m = Machine()
        _ = m.leaseNeeded()
        let interrupt = m.leaseLost()  // the keeper's renewal failed before the driver recorded the lease
        #expect(!interrupt)
        guard case .lost = m.leaseAcquired("L1") else {
            Issue.record("a lease lost before it was recorded must not be led with")
            return
        }
        #expect(!m.isLeading)
        guard case .acquire(unfence: true) = m.leaseNeeded() else {
            Issue.record("the next pass unfences and tries again")
            return
        }
    }

    @Test func eachFailureBacksOffByItsOwnJitter() {
        var m = leadingInAPass()
        m.applied(
            [
                .init(resource: Self.vm("a"), failure: "PVE: 500", digest: "d", jitter: 0.75),
                .init(resource: Self.vm("b"), failure: "PVE: 500", digest: "d", jitter: 1.25),
            ],
            now: t0
        )
        #expect(m.backoff.entries[Self.vm("a")]?.nextRetry == t0 + 3.75)
        #expect(m.backoff.entries[Self.vm("b")]?.nextRetry == t0 + 6.25)
    }

    @Test func aLeaseLostBetweenPassesInterruptsNothing() {
        var m = leadingInAPass()
        m.passEnded(unsettled: [:])
        let r5 = m.leaseLost()
        #expect(!r5)
    }

    @Test func aStopWhileTakingTheLeaseGivesItBackAndStartsNoPass() {
        var m = Machine()
        _ = m.leaseNeeded()
        let r6 = m.stopRequested()
        #expect(!r6, "no pass in flight")
        guard case .release(let lease) = m.leaseAcquired("L2") else {
            Issue.record("a lease taken after the stop must be given back")
            return
        }
        #expect(lease == "L2")
        #expect(!m.isLeading)
        let r7 = m.passStarted()
        #expect(!r7)
    }

    @Test func aStopMidPassInterruptsItAndTheLeaseIsGivenUpAtResign() {
        var m = leadingInAPass()
        let r8 = m.stopRequested()
        #expect(r8)
        let r9 = m.passStarted()
        #expect(!r9, "no new pass after the stop")
        m.passEnded(unsettled: [:])
        let r10 = m.resign()
        #expect(r10 == "L1")
        let r11 = m.resign()
        #expect(r11 == nil, "given up once")
    }

    // MARK: - lock domains

    @Test func domainsAreSharedBetweenPassesAndBackups() {
        var m = leadingInAPass()
        let r12 = m.claim(["pg:main"], for: "a full run of BackupPolicy/nightly (job j-1) is in progress")
        #expect(r12 == nil)
        let r13 = m.claim(["pg:main"], for: "another")
        #expect(
            r13
                == "pg:main is taken: a full run of BackupPolicy/nightly (job j-1) is in progress"
        )
        // A plan arrives: the action in the taken domain is held, the other is applied and its domain marked.
        let s = sort(
            &m,
            [Self.update("db"), Self.update("web")],
            domains: ["db": ["pg:main"], "web": ["pve:node1"]]
        )
        #expect(
            s.held[actionID("VirtualMachine/db:update")]
                == "pg:main is taken: a full run of BackupPolicy/nightly (job j-1) is in progress"
        )
        #expect(s.held[actionID("VirtualMachine/web:update")] == nil)
        #expect(m.applying == ["pve:node1"])
        let r14 = m.claim(["pve:node1"], for: "x")
        #expect(r14 == "a reconcile pass is applying actions in pve:node1")
        m.passEnded(unsettled: [:])
        let r15 = m.claim(["pve:node1"], for: "x")
        #expect(r15 == nil, "the pass's domains are free once it ends")
        m.release(["pg:main", "pve:node1"])
        #expect(m.claimed.isEmpty)
    }

    // MARK: - sorting a plan

    @Test func sortingTable() {
        struct Row {
            var name: String
            var decision: ControllerPolicy.Decision
            var risky = false
            var held: String?
            var waits = false
            var autoApproved = false
        }
        let rows: [Row] = [
            Row(name: "applies", decision: .apply),
            Row(name: "auto-approved risky", decision: .apply, risky: true, autoApproved: true),
            Row(name: "waits", decision: .wait("impact replace"), risky: true, waits: true),
            Row(
                name: "paused",
                decision: .hold("paused (setpoint/paused: true)"),
                held: "paused (setpoint/paused: true)"
            ),
        ]
        for row in rows {
            var m = leadingInAPass()
            let s = sort(&m, [Self.update("a", risky: row.risky)], decide: { _ in row.decision })
            let id = actionID("VirtualMachine/a:update")
            #expect(s.held[id] == row.held, "\(row.name)")
            #expect(s.waiting.contains(id) == row.waits, "\(row.name)")
            #expect(s.autoApproved.contains(id) == row.autoApproved, "\(row.name)")
        }
    }

    @Test func anActionDependingOnOneNotDoneNowIsNotDoneEither() {
        var m = leadingInAPass()
        let a = Self.update("a", risky: true)
        let b = Self.update("b", dependsOn: [a.id])
        let c = Self.update("c", dependsOn: [b.id])
        let s = sort(&m, [a, b, c], decide: { $0.requiresApproval ? .wait("impact replace") : .apply })
        #expect(s.waiting == [a.id])
        #expect(s.held[b.id] == "depends on VirtualMachine/a:update, not done in this pass")
        #expect(s.held[c.id] == "depends on VirtualMachine/b:update, not done in this pass")
    }

    @Test func aTransientFailureBacksOffAndAManifestEditDuringTheBackoffEndsIt() {
        var m = leadingInAPass()
        let a = Self.update("a")
        m.applied([.init(resource: a.resource, failure: "PVE: 500 timeout", digest: "d1")], now: t0)
        m.passEnded(unsettled: [:])
        // 5 s later (the first delay is 5 s × jitter 1): due again; before it, held with the time it is due.
        let r16 = m.passStarted()
        #expect(r16)
        let early = sort(&m, [a], digests: [a.resource: "d1"], at: t0 + 4)
        #expect(early.held[a.id] == "backing off after 1 failure until 2026-12-07T12:00:05Z")
        let edited = sort(&m, [a], digests: [a.resource: "d2"], at: t0 + 4)
        #expect(edited.held[a.id] == nil, "an edited manifest is worth trying at once")
        let due = sort(&m, [a], digests: [a.resource: "d1"], at: t0 + 5)
        #expect(due.held[a.id] == nil)
        // A second failure doubles the delay; a success forgets them.
        m.applied([.init(resource: a.resource, failure: "PVE: 500 timeout", digest: "d1")], now: t0 + 5)
        #expect(m.backoff.entries[a.resource]?.nextRetry == t0 + 15)
        m.applied([.init(resource: a.resource, digest: "d1")], now: t0 + 15)
        #expect(m.backoff.entries.isEmpty)
    }

    @Test func aTerminalFailureParksTheResourceUntilItsManifestChanges() {
        var m = leadingInAPass()
        let a = Self.update("a")
        m.applied(
            [.init(resource: a.resource, failure: "403 permission denied", transient: false, digest: "d1")],
            now: t0
        )
        let later = sort(&m, [a], digests: [a.resource: "d1"], at: t0 + 86_400)
        #expect(later.held[a.id] == "parked until its manifest changes: 403 permission denied")
        #expect(sort(&m, [a], digests: [a.resource: "d2"]).held[a.id] == nil)
    }

    @Test func whatAPassLeavesUnsettledIsKeptUntilTheNextPassEnds() {
        var m = leadingInAPass()
        m.passEnded(unsettled: [Self.vm("a"): "its action VirtualMachine/a:update waits for approval"])
        #expect(m.unsettled.count == 1)
        let r17 = m.passStarted()
        #expect(r17)
        #expect(m.unsettled.count == 1, "a pass in flight does not forget it")
        m.passEnded(unsettled: [:])
        #expect(m.unsettled.isEmpty)
    }
}
