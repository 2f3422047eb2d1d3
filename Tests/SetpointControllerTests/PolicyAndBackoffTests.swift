import Foundation
import SetpointController
import SetpointCore
import SetpointTesting
import Testing

@Suite(.timeLimit(.minutes(2))) struct PolicyAndBackoffTests {
    static let id = ResourceID(kind: .virtualMachine, name: "api-1")

    static func resource(_ annotations: [String: String] = [:]) -> Resource {
        Resource(
            id: id,
            apiVersion: KindRegistry.apiVersion,
            metadata: ResourceMetadata(name: id.name, annotations: annotations),
            spec: .map([:]),
            references: [],
            location: SourceLocation(file: "m.yaml", line: 1, column: 1),
            source: SourceNode(.mapping([]), line: 1, column: 1)
        )
    }

    static func update(
        origin: ChangeOrigin = .manifest,
        impact: Impact = .hot,
        risky: Bool = false,
        verb: Verb = .update
    ) -> Action {
        Action(
            resource: id,
            verb: verb,
            changes: [FieldChange(path: ["cores"], before: .int(2), after: .int(4), origin: origin, impact: impact)],
            impact: impact,
            requiresApproval: risky
        )
    }

    @Test func defaultsApplySafeChangesAndParkRiskyOnes() {
        let policy = ControllerPolicy()
        #expect(policy.decide(Self.update(), resource: Self.resource()) == .apply)
        #expect(
            policy.decide(Self.update(impact: .replace, risky: true, verb: .replace), resource: Self.resource())
                == .wait("impact replace")
        )
        #expect(
            policy.decide(
                Action(resource: Self.id, verb: .delete, impact: .dataLoss, requiresApproval: true),
                resource: nil
            ) == .wait("a delete")
        )
        #expect(
            policy.decide(
                Action(resource: Self.id, verb: .restart, impact: .restart, requiresApproval: true),
                resource: Self.resource()
            ) == .wait("a restart")
        )
    }

    @Test func annotationsAndDriftPolicyOverride() {
        let policy = ControllerPolicy(driftPolicy: .report)
        #expect(
            policy.decide(Self.update(origin: .drift), resource: Self.resource())
                == .hold("drift reported, not corrected (drift policy: report)")
        )
        #expect(
            policy.decide(Self.update(origin: .manifest), resource: Self.resource()) == .apply,
            "a manifest change is not drift"
        )
        #expect(
            policy.decide(Self.update(origin: .drift), resource: Self.resource(["setpoint/drift-policy": "correct"]))
                == .apply
        )
        #expect(
            policy.decide(Self.update(), resource: Self.resource(["setpoint/paused": "true"]))
                == .hold("paused (setpoint/paused: true)")
        )
        #expect(
            policy.decide(Self.update(), resource: Self.resource(["setpoint/approval": "required"]))
                == .wait("setpoint/approval: required")
        )
        #expect(
            policy.decide(
                Self.update(impact: .replace, risky: true, verb: .replace),
                resource: Self.resource(["setpoint/approval": "auto"])
            ) == .apply
        )
    }

    @Test func transientFailuresBackOffExponentiallyWithJitterAndACapTerminalOnesParkUntilTheManifestChanges() {
        var b = Backoff(base: 5, cap: 60)
        let t0 = Date(timeIntervalSince1970: 1_000_000)
        var delays: [TimeInterval] = []
        for _ in 0..<6 {
            b.failed(Self.id, error: "timeout", transient: true, now: t0, digest: "d1")
            delays.append(b.entries[Self.id]!.nextRetry!.timeIntervalSince(t0))
        }
        for (n, d) in delays.enumerated() {
            let nominal = min(60, 5 * pow(2, Double(n)))
            #expect(d >= nominal * 0.75 && d <= nominal * 1.25, "attempt \(n + 1): \(d) s around \(nominal) s")
        }
        #expect(!b.isDue(Self.id, now: t0.addingTimeInterval(1), digest: "d1"))
        #expect(b.isDue(Self.id, now: t0.addingTimeInterval(100), digest: "d1"))
        b.failed(Self.id, error: "403 Permission check failed", transient: false, now: t0, digest: "d1")
        #expect(
            !b.isDue(Self.id, now: t0.addingTimeInterval(10_000), digest: "d1"),
            "parked while the manifest is the same"
        )
        #expect(b.isDue(Self.id, now: t0, digest: "d2"), "a changed manifest unparks it")
        b.succeeded(Self.id)
        #expect(b.entries.isEmpty)
    }
}
