import SetpointCore
import SetpointEngine
import SetpointTesting
import Testing

/// A plan audit record's detail, encoded from `PlanRecord`, is key for key what the records have always held, so
/// chains written before it hash and read the same.
@Suite(.timeLimit(.minutes(1))) struct PlanRecordTests {
    static let web = ResourceID(kind: .virtualMachine, name: "web-1")
    static let db = ResourceID(kind: .virtualMachine, name: "db-1")

    static func plan(commit: String?, author: String?) -> Plan {
        Plan(
            id: "p-1",
            createdAt: "2026-12-07T12:00:00Z",
            source: Plan.Source(paths: ["m/"], gitCommit: commit, gitAuthor: author, manifestDigest: "sha256:abc"),
            actions: [
                Action(
                    resource: web,
                    verb: .update,
                    changes: [
                        FieldChange(path: ["cores"], before: .int(2), after: .int(4), origin: .manifest, impact: .hot),
                        FieldChange(path: ["balloon"], before: nil, after: .double(1.0), origin: .drift, impact: .hot),
                        FieldChange(
                            path: ["cloudInit", "password"],
                            before: .string("old"),
                            after: .secret(.env("PW")),
                            isSensitive: true,
                            origin: .manifest,
                            impact: .hot
                        ),
                        FieldChange(
                            path: ["tags"],
                            before: .map(["token": .secret(.file("/run/t"))]),
                            after: .list([.string("a"), .bool(true)]),
                            origin: .manifest,
                            impact: .hot
                        ),
                    ],
                    impact: .hot,
                    dependsOn: [ActionID(db, .create)]
                ),
                Action(resource: db, verb: .create, impact: .hot, requiresApproval: true),
            ],
            fingerprints: [web: "f1"],
            orphans: [ResourceID(kind: .container, name: "old")]
        )
    }

    /// The detail as it was built by hand before `PlanRecord`.
    static func handBuilt(_ plan: Plan) -> Value {
        func redacted(_ v: Value?) -> Value {
            guard let v else { return .null }
            switch v {
            case .secret: return .string("(sensitive)")
            case .map(let m): return .map(m.mapValues { redacted($0) })
            case .list(let l): return .list(l.map { redacted($0) })
            default: return v
            }
        }
        var source: [String: Value] = [
            "paths": .list(plan.source.paths.map(Value.string)),
            "gitCommit": plan.source.gitCommit.map(Value.string) ?? .null,
            "manifestDigest": .string(plan.source.manifestDigest),
        ]
        if let a = plan.source.gitAuthor { source["gitAuthor"] = .string(a) }
        return .map([
            "source": .map(source),
            "createdAt": .string(plan.createdAt),
            "actions": .list(
                plan.changes.map { a in
                    .map([
                        "id": .string(a.id.description), "verb": .string(a.verb.rawValue),
                        "impact": .string(a.impact.rawValue), "requiresApproval": .bool(a.requiresApproval),
                        "dependsOn": .list(a.dependsOn.map { .string($0.description) }),
                        "changes": .list(
                            a.changes.map { c in
                                .map([
                                    "path": .string(c.path.description), "origin": .string(c.origin.rawValue),
                                    "impact": .string(c.impact.rawValue),
                                    "before": c.isSensitive ? .string("(sensitive)") : redacted(c.before),
                                    "after": c.isSensitive ? .string("(sensitive)") : redacted(c.after),
                                ])
                            }
                        ),
                    ])
                }
            ),
            "orphans": .list(plan.orphans.map { .string($0.description) }),
            "fingerprints": .map(
                Dictionary(uniqueKeysWithValues: plan.fingerprints.map { ($0.key.description, Value.string($0.value)) })
            ),
        ])
    }

    @Test(arguments: [(String?.none, String?.none), ("0123abc", "dev@example.net")])
    func theDetailIsWhatItWas(commit: String?, author: String?) {
        let plan = Self.plan(commit: commit, author: author)
        let detail = AuditTrail.detail(of: plan)
        #expect(detail == Self.handBuilt(plan))
        #expect(CanonicalJSON.encode(detail) == CanonicalJSON.encode(Self.handBuilt(plan)))
        let text = CanonicalJSON.encode(detail)
        #expect(!text.contains("\"old\"") && !text.contains("PW") && !text.contains("/run/t"), "\(text)")
    }
}
