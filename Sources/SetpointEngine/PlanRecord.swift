public import SetpointCore

/// The detail of a `plan` audit record, as a type: the plan's source and every change with its field changes,
/// sensitive values replaced by `(sensitive)`. Its encoding is the record's detail, key for key as records have always
/// held it (`gitCommit` null when there is none, `gitAuthor` only when there is one), so chains written before it
/// verify and read the same.
public struct PlanRecord: Encodable, Sendable {
    public struct Source: Encodable, Sendable {
        public var paths: [String]
        public var gitCommit: String?
        public var gitAuthor: String?
        public var manifestDigest: String

        enum CodingKeys: String, CodingKey { case paths, gitCommit, gitAuthor, manifestDigest }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(paths, forKey: .paths)
            try c.encode(gitCommit, forKey: .gitCommit)  // null, not absent
            try c.encodeIfPresent(gitAuthor, forKey: .gitAuthor)
            try c.encode(manifestDigest, forKey: .manifestDigest)
        }
    }

    public struct Change: Encodable, Sendable {
        public var path: String
        public var origin: String
        public var impact: String
        /// Null when absent.
        public var before: Value
        public var after: Value
    }

    public struct ActionRecord: Encodable, Sendable {
        public var id: String
        public var verb: String
        public var impact: String
        public var requiresApproval: Bool
        public var dependsOn: [String]
        public var changes: [Change]
    }

    public var source: Source
    public var createdAt: String
    public var actions: [ActionRecord]
    public var orphans: [String]
    public var fingerprints: [String: String]

    public init(_ plan: Plan) {
        source = Source(
            paths: plan.source.paths,
            gitCommit: plan.source.gitCommit,
            gitAuthor: plan.source.gitAuthor,
            manifestDigest: plan.source.manifestDigest
        )
        createdAt = plan.createdAt
        actions = plan.changes.map { a in
            ActionRecord(
                id: a.id.description,
                verb: a.verb.rawValue,
                impact: a.impact.rawValue,
                requiresApproval: a.requiresApproval,
                dependsOn: a.dependsOn.map(\.description),
                changes: a.changes.map { c in
                    Change(
                        path: c.path.description,
                        origin: c.origin.rawValue,
                        impact: c.impact.rawValue,
                        before: c.isSensitive ? .string("(sensitive)") : AuditTrail.redacted(c.before),
                        after: c.isSensitive ? .string("(sensitive)") : AuditTrail.redacted(c.after)
                    )
                }
            )
        }
        orphans = plan.orphans.map(\.description)
        fingerprints = Dictionary(uniqueKeysWithValues: plan.fingerprints.map { ($0.key.description, $0.value) })
    }
}
