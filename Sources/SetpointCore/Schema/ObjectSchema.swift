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

    public init(_ fields: [Field], exactlyOneOf: [[String]] = [], atMostOneOf: [[String]] = [], exclusions: [Exclusion] = []) {
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
        let scored = fields.map { ($0.name, editDistance(lowered, $0.name.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(2, unknown.count / 3) else { return nil }
        return best.0
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

    public init(_ name: String, _ type: SchemaType, required: Bool = false, default defaultValue: Value? = nil, _ summary: String) {
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

/// Levenshtein distance over UTF-8 bytes, for "did you mean" suggestions.
public func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.utf8), b = Array(b.utf8)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = Array(repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
