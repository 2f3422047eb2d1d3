/// How a kind's fields compare and what changing each one does. Declared by the kind's provider.
///
/// ```swift
/// var policy = FieldPolicy()
/// policy.rule("memory", impact: .restart, reason: "applied at the next restart")
/// policy.rule("disks.*.size", impact: .hot, verb: .resize, reason: "disks grow online")
/// policy.rule("disks.*", impact: .dataLoss, reason: "removing a disk destroys its data")
/// policy.rule("networks.*.macaddr", comparison: .computed)
/// ```
public struct FieldPolicy: Sendable {
    /// How a field's desired and observed values are compared.
    public enum Comparison: Sendable, Hashable {
        /// Equal values in the system's normal form.
        case normal
        /// The system fills it (a MAC, a volume name): absent from the manifest, it never differs and is never removed.
        case computed
        /// The system never shows it back (a password): compared by a fingerprint of the last applied value.
        case writeOnly
        /// Never compared.
        case ignore
    }

    public struct Rule: Sendable {
        public var pattern: [String]
        public var comparison: Comparison
        public var impact: Impact
        public var reason: String?
        /// A typed operation for changes of this field (`resize`, `migrate`) instead of `update`.
        public var verb: Verb?
        /// A plan error for a change that cannot be made (a disk shrink): returns the message, or nil.
        public var check: (@Sendable (FieldChange) -> String?)?
        /// What a manifest that leaves the field out means (its schema default), for a field the system reports on
        /// its own (`replication.pgHba`): the observed value is compared with it. Nil: an absent field is not compared.
        public var absent: Value? = nil
    }

    public private(set) var rules: [Rule] = []
    /// The rules' patterns, apart: matching a path reads only these (the differ asks for every path it visits).
    private var patterns: [[String]] = []
    /// The impact of a change no rule covers.
    public var defaultImpact: Impact = .hot
    /// When true, restart-impact changes are staged by the update and made live by a separate, risky `restart` action.
    public var stagesRestarts = false
    /// Impact that depends on what is observed (PVE memory is hot only with NUMA and memory hotplug) and on the value
    /// the change sets. Nil keeps the rule's.
    public var dynamicImpact: (@Sendable (_ path: FieldPath, _ observed: Value?, _ after: Value?) -> (Impact, String)?)?

    /// Changes that must wait for approval whatever their impact (removing a replica keeps its data, so it is neither
    /// replace nor dataLoss, yet stops a member): returns why, or nil.
    public var requiresApproval: (@Sendable (_ path: FieldPath, _ observed: Value?, _ after: Value?) -> String?)?

    public init() {}

    /// Adds a rule for a dotted pattern; `*` matches one key (`disks.*.size`). The longest matching pattern wins,
    /// and a rule also covers the paths below it.
    public mutating func rule(
        _ pattern: String,
        comparison: Comparison = .normal,
        impact: Impact = .hot,
        verb: Verb? = nil,
        reason: String? = nil,
        check: (@Sendable (FieldChange) -> String?)? = nil,
        absent: Value? = nil
    ) {
        let split = pattern.split(separator: ".").map(String.init)
        patterns.append(split)
        rules.append(
            Rule(
                pattern: split,
                comparison: comparison,
                impact: impact,
                reason: reason,
                verb: verb,
                check: check,
                absent: absent
            )
        )
    }

    /// What the manifest means at `path` when it leaves it out, when a rule says (``Rule/absent``); or, for a path
    /// above such a field, an empty map to look inside. Nil: nothing to compare.
    func absentValue(at path: FieldPath) -> Value? {
        var below = false
        for rule in rules where rule.absent != nil && rule.pattern.count >= path.components.count {
            let matches = zip(rule.pattern, path.components).allSatisfy { key, component in
                if key == "*" { return true }
                if case .key(let k) = component { return k == key }
                return false
            }
            guard matches else { continue }
            if rule.pattern.count == path.components.count { return rule.absent }
            below = true
        }
        return below ? .map([:]) : nil
    }

    /// The most specific rule covering `path`, if any.
    public func rule(for path: FieldPath) -> Rule? {
        Self.mostSpecific(count: patterns.count, pattern: { patterns[$0] }, covering: path).map { rules[$0] }
    }

    /// The index of the most specific dotted pattern covering `path`: the longest one, and among equal lengths the
    /// one with more literal keys than `*`; nil when none covers it. `pattern(i)` is the i-th pattern.
    static func mostSpecific(count: Int, pattern: (Int) -> [String], covering path: FieldPath) -> Int? {
        let components = path.components
        var best: Int?
        var bestScore = -1
        for i in 0..<count {
            let p = pattern(i)
            guard p.count <= components.count, p.count * 100 + 2 * p.count > bestScore else { continue }
            var score = p.count * 100
            var matches = true
            for (key, component) in zip(p, components) {
                if key == "*" {
                    score += 1
                    continue
                }
                switch component {
                case .key(let k) where k == key: score += 2
                case .index(let n) where Int(key) == n: score += 2
                default: matches = false
                }
                if !matches { break }
            }
            if matches, score > bestScore {
                best = i
                bestScore = score
            }
        }
        return best
    }
}
