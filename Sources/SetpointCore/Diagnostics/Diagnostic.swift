/// One problem (or note) found in the manifests. Problems are values, not exceptions: a run collects all of them.
///
/// ```swift
/// let d = Diagnostic(.error, .unknownField, "unknown field 'replica_count'",
///                    hint: "did you mean 'replicas'?",
///                    at: SourceLocation(file: "db.yaml", line: 12, column: 5),
///                    resource: ResourceID(kind: .postgresCluster, name: "main-db"))
/// ```
public struct Diagnostic: Sendable, Hashable, Codable {
    /// How bad it is. Only `error` makes a manifest set invalid.
    public enum Severity: String, Sendable, Codable, Comparable {
        case error, warning, note

        private var rank: Int {
            switch self {
            case .error: 0
            case .warning: 1
            case .note: 2
            }
        }
        public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rank < rhs.rank }
    }

    public var severity: Severity
    /// Stable code, documented in `docs/diagnostics.md`.
    public var code: DiagnosticCode
    /// One line, lower case, no final period: "unknown field 'replica_count'".
    public var summary: String
    /// What to do about it, when there is something to say.
    public var hint: String?
    /// Where it was found; nil only for problems of the run itself (no files given).
    public var location: SourceLocation?
    /// The resource it belongs to, when known.
    public var resource: ResourceID?

    public init(
        _ severity: Severity,
        _ code: DiagnosticCode,
        _ summary: String,
        hint: String? = nil,
        at location: SourceLocation? = nil,
        resource: ResourceID? = nil
    ) {
        self.severity = severity
        self.code = code
        self.summary = summary
        self.hint = hint
        self.location = location
        self.resource = resource
    }

    /// The order diagnostics are reported in: by file, line, column, then code.
    public static func reportingOrder(_ a: Diagnostic, _ b: Diagnostic) -> Bool {
        let la = a.location
        let lb = b.location
        if la?.file != lb?.file { return (la?.file ?? "") < (lb?.file ?? "") }
        if la?.line != lb?.line { return (la?.line ?? 0) < (lb?.line ?? 0) }
        if la?.column != lb?.column { return (la?.column ?? 0) < (lb?.column ?? 0) }
        return a.code.rawValue < b.code.rawValue
    }
}

extension Array where Element == Diagnostic {
    /// True when at least one diagnostic is an error.
    public var hasErrors: Bool { contains { $0.severity == .error } }
    /// Count of diagnostics of one severity.
    public func count(_ severity: Diagnostic.Severity) -> Int { reduce(0) { $0 + ($1.severity == severity ? 1 : 0) } }
}
