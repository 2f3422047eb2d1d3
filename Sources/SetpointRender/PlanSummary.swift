public import SetpointCore

/// The counts a plan comes down to: what the summary line says, what `--detailed-exitcode` and `--max-destroy`
/// look at. Computed from the plan alone, so the text and JSON views agree.
///
/// ```swift
/// let summary = PlanSummary(plan)
/// if !summary.isApplyable { return .failure }          // exit 1
/// if detailedExitCode && summary.hasChanges { return 2 }
/// if summary.destructive > maxDestroy { … }
/// ```
public struct PlanSummary: Sendable, Hashable {
    /// Actions that change something, by verb. No-ops are not counted here (see `unchanged`).
    public var counts: [Verb: Int]
    /// Resources whose observed state matches their manifest (the plan's noop actions).
    public var unchanged: Int
    /// Changing actions marked `requiresApproval`.
    public var needingApproval: Int
    /// Orphans this plan does not delete (no `--prune`): owned, in no manifest, left alone.
    public var unprunedOrphans: Int
    /// Planning diagnostics by severity. Any error makes the plan unapplyable.
    public var errors: Int
    public var warnings: Int

    public init(_ plan: Plan) {
        var counts: [Verb: Int] = [:]
        var unchanged = 0
        var approval = 0
        for action in plan.actions {
            guard action.isChange else {
                unchanged += 1
                continue
            }
            counts[action.verb, default: 0] += 1
            if action.requiresApproval { approval += 1 }
        }
        self.counts = counts
        self.unchanged = unchanged
        self.needingApproval = approval
        self.unprunedOrphans = plan.unprunedOrphans.count
        self.errors = plan.diagnostics.count(.error)
        self.warnings = plan.diagnostics.count(.warning)
    }

    /// The number of changing actions with this verb.
    public func count(_ verb: Verb) -> Int { counts[verb] ?? 0 }

    /// All changing actions.
    public var changes: Int { counts.values.reduce(0, +) }
    /// True when applying the plan would change something (exit code 2 with `--detailed-exitcode`).
    public var hasChanges: Bool { changes > 0 }
    /// Deletes and replaces: what `--max-destroy` limits.
    public var destructive: Int { count(.delete) + count(.replace) }
    /// False when a planning diagnostic is an error.
    public var isApplyable: Bool { errors == 0 }

    /// Typed operations (every verb but create, update, replace, delete and noop) that occur, in display order:
    /// restart, resize, migrate, promote, then any other by name.
    public var operations: [(verb: Verb, count: Int)] {
        let known: [Verb] = [.restart, .resize, .migrate, .promote]
        let others = counts.keys.filter { !Self.basicVerbs.contains($0) && !known.contains($0) }.sorted {
            $0.rawValue < $1.rawValue
        }
        return (known + others).compactMap { verb in counts[verb].map { (verb, $0) } }
    }

    static let basicVerbs: Set<Verb> = [.create, .update, .replace, .delete, .noop]
}

extension Plan {
    /// Orphans without a delete action in this plan, in the plan's order.
    var unprunedOrphans: [ResourceID] {
        let deleted = Set(actions.filter { $0.verb == .delete }.map(\.resource))
        return orphans.filter { !deleted.contains($0) }
    }
}
