import Foundation
import SetpointCore
import SetpointState
import Testing

@testable import SetpointController

/// What the leading controller records as each resource's conditions after a pass: nothing from a pass that did not
/// plan (the manifests did not load, the lease was another's), Unknown for a resource the pass could not observe, and
/// the status of the others.
@Suite(.timeLimit(.minutes(1))) struct ConditionDerivationTests {
    static let web = ResourceID(kind: .virtualMachine, name: "web-1")
    static let db = ResourceID(kind: .virtualMachine, name: "db-1")
    static let now = Date(timeIntervalSince1970: 1_796_000_000)

    static func status(_ configure: (inout PassReport) -> Void) -> ControllerStatus {
        var report = PassReport()
        report.leading = true
        report.planID = "p-000000000001"
        configure(&report)
        let status = ControllerStatus()
        status.record(report, declared: [web, db], at: now)
        return status
    }

    @Test func anUnobservedResourceIsUnknownAndTheOthersInSync() {
        let conditions = Self.status { $0.unobserved[Self.db] = "Host/db-1 (10.0.0.9) cannot be reached" }
            .conditions(retries: [:], now: Self.now)
        let db = conditions.filter { $0.resource == Self.db }
        #expect(db.count == 2 && db.allSatisfy { $0.status == .unknown && $0.reason == "ObserveFailed" })
        #expect(db.first?.message.contains("cannot be reached") == true)
        let web = conditions.filter { $0.resource == Self.web }
        #expect(web.map(\.status) == [.isTrue, .isTrue] && web.first?.reason == "Converged")
    }

    @Test func aPassThatDidNotPlanRecordsNothing() {
        #expect(
            Self.status {
                $0.planID = nil
                $0.errors = ["m/x.yaml:3:1: SP1005: missing field"]
            }.conditions(retries: [:], now: Self.now).isEmpty
        )
        #expect(Self.status { $0.leaseHeldBy = "pid 7 on ops-2" }.conditions(retries: [:], now: Self.now).isEmpty)
    }

    @Test func waitingAndFailedResourcesAreNotReady() {
        let conditions = Self.status {
            $0.waiting = [ActionID(Self.web, .update)]
            $0.pendingPlanID = "p-00000000000a"
            $0.failed = [ActionID(Self.db, .update): "PVE: VM is locked (backup)"]
        }.conditions(retries: [:], now: Self.now)
        let web = conditions.first { $0.resource == Self.web && $0.type == .ready }
        #expect(
            web?.status == .isFalse && web?.reason == "WaitingForApproval"
                && web?.message.contains("p-00000000000a") == true
        )
        let db = conditions.first { $0.resource == Self.db && $0.type == .ready }
        #expect(db?.status == .isFalse && db?.reason == "ApplyFailed" && db?.message.contains("VM is locked") == true)
    }
}
