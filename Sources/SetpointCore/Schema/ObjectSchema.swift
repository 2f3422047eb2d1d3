/// The fields of a mapping, and rules between them.
public struct ObjectSchema: Sendable {
    public var fields: [Field]
    /// Groups of fields of which exactly one must be given (`alert` or `record`).
    public var exactlyOneOf: [[String]]
    /// Groups of fields of which at most one may be given (`node` or `placement`).
    public var atMostOneOf: [[String]]
    /// Fields that may not be given when another is (`for` on a rule with `record`).
    public var exclusions: [Exclusion]
    @usableFromInline var index: [String: Int]

    /// When `field` is given, none of `forbidden` may be.
    public struct Exclusion: Sendable {
        public var field: String
        public var forbidden: [String]
        /// Why, for the message: "'for' applies to alerting rules only".
        public var reason: String

        public init(when field: String, forbid forbidden: [String], because reason: String) {
            self.field = field
            self.forbidden = forbidden
            self.reason = reason
        }
    }

    public init(
        _ fields: [Field],
        exactlyOneOf: [[String]] = [],
        atMostOneOf: [[String]] = [],
        exclusions: [Exclusion] = []
    ) {
        self.fields = fields
        self.exactlyOneOf = exactlyOneOf
        self.atMostOneOf = atMostOneOf
        self.exclusions = exclusions
        var index: [String: Int] = [:]
        for (i, f) in fields.enumerated() { index[f.name] = i }
        self.index = index
    }

    public subscript(name: String) -> Field? {
        index[name].map { fields[$0] }
    }

    /// The position of a field in `fields`, without copying the field.
    @inlinable public func fieldIndex(_ name: String) -> Int? { index[name] }

    /// The field names closest to an unknown one, for "did you mean" hints.
    public func suggestion(for unknown: String) -> String? {
        let lowered = String(unknown.lowercased().filter { $0 != "_" && $0 != "-" })
        if let exact = fields.first(where: { $0.name.lowercased() == lowered }) { return exact.name }
        return nearest(
            to: lowered,
            in: fields.lazy.map(\.name),
            within: max(2, min(unknown.count, 64) / 3),
            ignoringCase: true
        )
    }
}

/// One field of an object.
public struct Field: Sendable {
    public var name: String
    public var type: SchemaType
    public var isRequired: Bool
    /// One sentence for docs and JSON Schema `description`.
    public var summary: String
    /// The value the system uses when the field is absent (documentation only: absent fields are unmanaged).
    public var defaultValue: Value?

    public init(
        _ name: String,
        _ type: SchemaType,
        required: Bool = false,
        default defaultValue: Value? = nil,
        _ summary: String
    ) {
        self.name = name
        self.type = type
        self.isRequired = required
        self.summary = summary
        self.defaultValue = defaultValue
    }
}

/// Named shapes that refer to themselves (a route has routes) or are shared between kinds.
public enum SchemaDefinitions {
    public static let all: [String: ObjectSchema] = [
        "route": AlertRoutingKind.routeSchema
    ]
}

/// Levenshtein distance over UTF-8 bytes, when it is at most `limit`; nil when it is more.
///
/// Bounded by the limit, not by the lengths: texts whose lengths differ by more than `limit` are answered at once, and
/// only a band `limit` wide around the diagonal is computed, so a 15 MB unknown name costs no more than a short one.
public func editDistance(_ a: String, _ b: String, atMost limit: Int) -> Int? {
    guard limit >= 0, abs(a.utf8.count - b.utf8.count) <= limit else { return nil }
    let a = Array(a.utf8)
    let b = Array(b.utf8)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    let beyond = limit + 1
    var previous = (0...b.count).map { min($0, beyond) }
    var current = Array(repeating: beyond, count: b.count + 1)
    for i in 1...a.count {
        let low = max(1, i - limit)
        let high = min(b.count, i + limit)
        current[0] = min(i, beyond)
        if low > 1 { current[low - 1] = beyond }
        var rowMin = current[0]
        if low <= high {
            for j in low...high {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                let value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost, beyond)
                current[j] = value
                rowMin = min(rowMin, value)
            }
        }
        if high < b.count { current[high + 1] = beyond }
        if rowMin > limit { return nil }
        swap(&previous, &current)
    }
    return previous[b.count] <= limit ? previous[b.count] : nil
}

/// The candidate nearest to `text` within `limit` edits (the first one on a tie), for "did you mean" hints; nil when
/// none is that near.
public func nearest(
    to text: String,
    in candidates: some Sequence<String>,
    within limit: Int,
    ignoringCase: Bool = false
) -> String? {
    let probe = ignoringCase ? text.lowercased() : text
    var best: (name: String, distance: Int)?
    for candidate in candidates {
        let bound = min(limit, (best?.distance ?? limit + 1) - 1)
        guard bound >= 0, let d = editDistance(probe, ignoringCase ? candidate.lowercased() : candidate, atMost: bound)
        else { continue }
        best = (candidate, d)
    }
    return best?.name
}
