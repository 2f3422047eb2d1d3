import Foundation
import SetpointCore
import Testing

@testable import SetpointController

/// The backup scheduler's transitions, one event at a time, at fixed times.
@Suite(.timeLimit(.minutes(1))) struct BackupSchedulerStateMachineTests {
    let t0 = Date(timeIntervalSince1970: 1_796_644_800)  // 2026-12-07T12:00:00Z
    static let nightly = ResourceID(kind: ResourceKind("BackupPolicy"), name: "nightly")

    func job(
        _ id: String,
        _ kind: BackupRun.Kind = .full,
        status: BackupScheduler.Job.Status = .running
    )
        -> BackupScheduler.Job
    {
        BackupScheduler.Job(
            id: id,
            policy: "nightly",
            kind: kind,
            trigger: "schedule: due",
            startedAt: t0,
            status: status
        )
    }

    func reserved(_ m: inout BackupSchedulerStateMachine, at now: Date? = nil, seen: Int? = nil) -> String? {
        if case .reserved(let id) = m.reserve(Self.nightly, unlessFinishedSince: seen, now: now ?? t0) { return id }
        return nil
    }

    @Test func aJobsLifeFromReservationToItsEnd() throws {
        var m = BackupSchedulerStateMachine()
        m.declared(["nightly"], now: t0)
        let id = try #require(reserved(&m))
        #expect(id == "j-1796644800-1")
        #expect(m.running["nightly"] == id)
        let r1 = m.launch(job(id))
        #expect(r1)
        let r2 = m.reserve(Self.nightly, now: t0 + 1)
        #expect(
            r2
                == .refused(
                    "a full run of BackupPolicy/nightly is in progress (job j-1796644800-1, since 2026-12-07T12:00:00Z)"
                )
        )
        m.finished(job(id, status: .succeeded), now: t0 + 60)
        #expect(m.running.isEmpty)
        #expect(m.jobs[id]?.status == .succeeded)
        #expect(m.finished["nightly"] == 1)
        #expect(reserved(&m, at: t0 + 61) == "j-1796644861-2")
    }

    @Test func aRunFinishingAfterShutdownBeganIsStillRecordedAndNothingNewStarts() throws {
        var m = BackupSchedulerStateMachine()
        let id = try #require(reserved(&m))
        let r3 = m.launch(job(id))
        #expect(r3)
        m.stop()
        let r4 = m.reserve(Self.nightly, now: t0)
        #expect(r4 == .refused("the controller is stopping"))
        m.finished(job(id, status: .failed), now: t0 + 30)
        #expect(m.jobs[id]?.status == .failed)
        #expect(m.running.isEmpty)
        #expect(m.failures["nightly"]?[.full]?.count == 1)
        let r5 = m.reserve(Self.nightly, now: t0 + 31)
        #expect(r5 == .refused("the controller is stopping"))
    }

    @Test func aStopBetweenReservationAndLaunchRunsNothing() throws {
        var m = BackupSchedulerStateMachine()
        let id = try #require(reserved(&m))
        m.stop()
        let r6 = m.launch(job(id))
        #expect(!r6, "the driver releases the claimed domains")
        #expect(m.running.isEmpty)
        #expect(m.jobs.isEmpty)
    }

    @Test func takenDomainsUnreserveThePolicy() throws {
        var m = BackupSchedulerStateMachine()
        _ = try #require(reserved(&m))
        m.unreserve("nightly")
        #expect(m.running.isEmpty)
        #expect(reserved(&m) != nil)
    }

    @Test func aLookThatReadTheRunsBeforeOneFinishedDoesNotStartItAgain() throws {
        var m = BackupSchedulerStateMachine()
        let seen = m.finished["nightly"] ?? 0
        let id = try #require(reserved(&m))
        let r7 = m.launch(job(id))
        #expect(r7)
        m.finished(job(id, status: .succeeded), now: t0 + 10)
        let r8 = m.reserve(Self.nightly, unlessFinishedSince: seen, now: t0 + 11)
        #expect(r8 == .stale)
        #expect(reserved(&m, at: t0 + 12, seen: m.finished["nightly"]) != nil)
    }

    @Test func failuresCountPerKindAndASuccessEndsThem() throws {
        var m = BackupSchedulerStateMachine()
        for (i, kind) in [BackupRun.Kind.full, .full, .drill].enumerated() {
            let id = try #require(reserved(&m, at: t0 + Double(i)))
            let r9 = m.launch(job(id, kind))
            #expect(r9)
            m.finished(job(id, kind, status: .failed), now: t0 + Double(i))
        }
        #expect(m.failures["nightly"]?[.full] == BackupDue.Failures(count: 2, last: t0 + 1))
        #expect(m.failures["nightly"]?[.drill]?.count == 1)
        let id = try #require(reserved(&m, at: t0 + 5))
        let r10 = m.launch(job(id))
        #expect(r10)
        m.finished(job(id, status: .succeeded), now: t0 + 6)
        #expect(m.failures["nightly"]?[.full] == nil)
        #expect(m.failures["nightly"]?[.drill]?.count == 1, "a full's success says nothing of the drills")
    }

    @Test func aReasonToWaitIsToldOnceAndAgainAfterARunStarts() throws {
        var m = BackupSchedulerStateMachine()
        let r11 = m.tell("nightly", "waits: the repository cannot be read")
        #expect(r11)
        let r12 = m.tell("nightly", "waits: the repository cannot be read")
        #expect(!r12)
        let r13 = m.tell("nightly", "waits: paused")
        #expect(r13)
        let id = try #require(reserved(&m))
        let r14 = m.launch(job(id))
        #expect(r14)
        let r15 = m.tell("nightly", "waits: paused")
        #expect(r15, "a run started in between: the reason is news again")
    }

    @Test func onlyTheLastHundredJobsAreKept() throws {
        var m = BackupSchedulerStateMachine()
        var first: String?
        for i in 0..<(BackupSchedulerStateMachine.jobsKept + 1) {
            let id = try #require(reserved(&m, at: t0 + Double(i)))
            first = first ?? id
            let r16 = m.launch(job(id))
            #expect(r16)
            m.finished(job(id, status: .succeeded), now: t0 + Double(i))
        }
        #expect(m.jobs.count == BackupSchedulerStateMachine.jobsKept)
        #expect(m.jobs[try #require(first)] == nil)
    }

    @Test func aPolicyNoLongerDeclaredLosesItsReadingsButKeepsWhenItWasFirstSeen() {
        var m = BackupSchedulerStateMachine()
        m.declared(["nightly", "weekly"], now: t0)
        m.read("weekly", reading: BackupReading(gauges: [], newestBackup: [:]), upcoming: [.full: t0 + 3600], runs: [])
        m.declared(["nightly"], now: t0 + 60)
        #expect(m.readings["weekly"] == nil)
        #expect(m.upcoming["weekly"] == nil)
        #expect(m.firstSeen["nightly"] == t0, "first seen stays the first time")
    }
}
