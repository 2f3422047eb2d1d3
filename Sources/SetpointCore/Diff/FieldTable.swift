/// One declarative table per kind: a row per manifest field, naming how the field compares, what changing it does
/// and how the provider maps it to the remote system (`Mapping`, the provider's own description: a PVE config key
/// and codec, a PgBouncer setting …). Observation, the values written, the keys a change touches and the field
/// policy are all read from the rows, so adding a field is adding a row.
///
/// ```swift
/// let table = FieldTable<PVEField>(defaultImpact: .restart, rows: [
///     .init("memory", PVEField(.key("memory"), .mebibytes, absent: .int(512 << 20)), impact: .restart,
///           reason: "without memory hotplug and NUMA, memory changes wait for a restart"),
///     .init("disks.*.size", PVEField(.volumeSize, .size), impact: .hot, verb: .resize, reason: "disks grow online"),
/// ])
/// let policy = table.policy()          // what the planner diffs with
/// let row = table.row(for: FieldPath(["disks", "scsi0", "size"]))
/// ```
public struct FieldTable<Mapping: Sendable>: Sendable {
    /// What a change of one field does, given what is observed: the impact and why, or nil to keep the row's.
    public typealias ImpactRule = @Sendable (_ change: ImpactQuery) -> (Impact, String)?

    /// The question an impact rule answers.
    public struct ImpactQuery: Sendable {
        /// The changed path (`disks.scsi1.size`).
        public var path: FieldPath
        /// The observed spec of the resource (nil when it does not exist yet).
        public var observed: Value?
        /// The value the change sets (nil: removed).
        public var after: Value?
        /// The path's map keys (`["disks", "scsi1", "size"]`).
        public var keys: [String] {
            path.components.compactMap { c -> String? in if case .key(let k) = c { k } else { nil } }
        }
    }

    public struct Row: Sendable {
        /// The manifest path, dotted; `*` stands for one map key (`disks.*.cache`).
        public var pattern: [String]
        /// How the provider maps the field.
        public var mapping: Mapping
        /// How the field compares; nil takes the nearest enclosing row's (`.normal` at the top).
        public var comparison: FieldPolicy.Comparison?
        /// The impact of a change; nil leaves it to an enclosing row's (or the table's default).
        public var impact: Impact?
        public var verb: Verb?
        public var reason: String?
        /// A plan error for a change that cannot be made (a disk shrink): the message, or nil.
        public var check: (@Sendable (FieldChange) -> String?)?
        /// Impact that depends on what is observed (memory is hot only with memory hotplug and NUMA).
        public var dynamicImpact: ImpactRule?
        /// The row maps an object as a whole (one property string): the object's fields have no rows of their own.
        public var coversFields: Bool

        public init(
            _ pattern: String,
            _ mapping: Mapping,
            comparison: FieldPolicy.Comparison? = nil,
            impact: Impact? = nil,
            verb: Verb? = nil,
            reason: String? = nil,
            check: (@Sendable (FieldChange) -> String?)? = nil,
            dynamicImpact: ImpactRule? = nil,
            coversFields: Bool = false
        ) {
            self.pattern = pattern.split(separator: ".").map(String.init)
            self.mapping = mapping
            self.comparison = comparison
            self.impact = impact
            self.verb = verb
            self.reason = reason
            self.check = check
            self.dynamicImpact = dynamicImpact
            self.coversFields = coversFields
        }

        /// The dotted pattern, as written.
        public var path: String { pattern.joined(separator: ".") }
    }

    public var rows: [Row]
    /// The impact of a change no row's impact covers.
    public var defaultImpact: Impact
    /// When true, restart-impact changes are staged by the update and made live by a separate `restart` action.
    public var stagesRestarts: Bool
    /// Rules of the whole kind, asked before the row's own (a stopped guest takes every change at once); given the
    /// query and the most specific row.
    public var kindImpact: (@Sendable (_ query: ImpactQuery, _ row: Row?) -> (Impact, String)?)?

    public init(
        defaultImpact: Impact = .hot,
        stagesRestarts: Bool = false,
        kindImpact: (@Sendable (_ query: ImpactQuery, _ row: Row?) -> (Impact, String)?)? = nil,
        rows: [Row]
    ) {
        self.rows = rows
        self.defaultImpact = defaultImpact
        self.stagesRestarts = stagesRestarts
        self.kindImpact = kindImpact
    }

    /// The most specific row covering `path`: the longest matching pattern, literal keys before `*`.
    public func row(for path: FieldPath) -> Row? {
        FieldPolicy.mostSpecific(count: rows.count, pattern: { rows[$0].pattern }, covering: path).map { rows[$0] }
    }

    /// The field policy the differ and planner use, read from the rows.
    public func policy() -> FieldPolicy {
        var p = FieldPolicy()
        p.defaultImpact = defaultImpact
        p.stagesRestarts = stagesRestarts
        // A row without an impact or comparison of its own takes the nearest enclosing row's.
        for row in rows {
            var impact = row.impact
            var reason = row.reason
            var comparison = row.comparison
            var prefix = row.pattern
            while impact == nil || comparison == nil, !prefix.isEmpty {
                prefix.removeLast()
                if let parent = rows.first(where: { $0.pattern == prefix }) {
                    if impact == nil, let parentImpact = parent.impact {
                        impact = parentImpact
                        reason = reason ?? parent.reason
                    }
                    comparison = comparison ?? parent.comparison
                }
            }
            p.rule(
                row.path,
                comparison: comparison ?? .normal,
                impact: impact ?? defaultImpact,
                verb: row.verb,
                reason: reason,
                check: row.check
            )
        }
        let kindImpact = self.kindImpact
        let table = self
        p.dynamicImpact = { path, observed, after in
            let query = ImpactQuery(path: path, observed: observed, after: after)
            let row = table.row(for: path)
            if let kindImpact, let answer = kindImpact(query, row) { return answer }
            return row?.dynamicImpact?(query)
        }
        return p
    }

    /// Where the table and a kind's schema disagree: schema fields without a row, rows without a schema field, and
    /// fields with more than one row. Empty lists mean every field has exactly one row.
    public func coverage(of schema: ObjectSchema) -> (missing: [String], unknown: [String], duplicated: [String]) {
        var fields: [String] = []
        let whole = Set(rows.filter(\.coversFields).map(\.path))
        func walk(_ object: ObjectSchema, _ prefix: [String]) {
            for field in object.fields {
                let path = prefix + [field.name]
                fields.append(path.joined(separator: "."))
                if whole.contains(path.joined(separator: ".")) { continue }
                switch field.type {
                case .object(let inner): walk(inner, path)
                case .map(_, .object(let inner)): walk(inner, path + ["*"])
                default: break
                }
            }
        }
        walk(schema, [])
        let declared = rows.map(\.path)
        var counts: [String: Int] = [:]
        for path in declared { counts[path, default: 0] += 1 }
        // A map of objects has a row for its entries (`disks.*`) as well as its own (`disks`).
        let entryRows = Set(declared.filter { $0.hasSuffix(".*") })
        return (
            missing: fields.filter { counts[$0] == nil },
            unknown: declared.filter { !fields.contains($0) && !entryRows.contains($0) },
            duplicated: counts.filter { $0.value > 1 }.map(\.key).sorted()
        )
    }
}
