import Foundation
public import SetpointCore

/// Renders a plan as versioned JSON (`formatVersion`) for CI, scripts and the controller API.
///
/// The document is built from `PlanJSONDocument`, not from the Core types, so that the format only changes
/// deliberately (with a new `formatVersion`). It carries the same facts as the text view, as data: sizes in
/// bytes and durations in milliseconds, as the plan holds them; sensitive values replaced by `"(sensitive)"`.
///
/// ```swift
/// let json = PlanJSONRenderer().render(plan)     // pretty-printed, sorted keys, ends with a newline
/// let doc = try JSONDecoder().decode(PlanJSONDocument.self, from: Data(json.utf8))
/// ```
public struct PlanJSONRenderer: Sendable {
    public static let formatVersion = 1

    public init() {}

    public func render(_ plan: Plan) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "+Inf",
            negativeInfinity: "-Inf",
            nan: "NaN"
        )
        let data = (try? encoder.encode(document(plan))) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// The document `render` encodes.
    public func document(_ plan: Plan) -> PlanJSONDocument {
        let summary = PlanSummary(plan)
        return PlanJSONDocument(
            formatVersion: Self.formatVersion,
            id: plan.id,
            createdAt: plan.createdAt,
            source: .init(
                paths: plan.source.paths,
                gitCommit: plan.source.gitCommit,
                gitAuthor: plan.source.gitAuthor,
                manifestDigest: plan.source.manifestDigest
            ),
            applyable: plan.isApplyable,
            summary: .init(summary),
            actions: plan.actions.map(PlanJSONDocument.Action.init),
            orphans: plan.orphans.map(\.description),
            ownershipUnknown: plan.ownershipUnknown.map(\.rawValue),
            diagnostics: plan.diagnostics.map(PlanJSONDocument.Diagnostic.init),
            fingerprints: Dictionary(uniqueKeysWithValues: plan.fingerprints.map { ($0.key.description, $0.value) })
        )
    }
}

/// Version 1 of the JSON plan. Field names and meanings are stable; additions are allowed, changes need a new
/// `formatVersion`.
public struct PlanJSONDocument: Sendable, Hashable, Codable {
    /// Always 1 for this shape.
    public var formatVersion: Int
    public var id: String
    public var createdAt: String
    public var source: Source
    /// False when a diagnostic is an error.
    public var applyable: Bool
    public var summary: Summary
    /// Every action in plan order, no-ops included (verb `noop`).
    public var actions: [Action]
    /// Owned resources no manifest declares (`Kind/name`); with `--prune` they also appear as delete actions.
    public var orphans: [String]
    /// Kinds whose ownership could not be read (no state).
    public var ownershipUnknown: [String]
    /// Planning diagnostics, in the shape `setpoint validate --output json` uses.
    public var diagnostics: [Diagnostic]
    /// `Kind/name` → digest of what was observed when planning.
    public var fingerprints: [String: String]

    public struct Source: Sendable, Hashable, Codable {
        public var paths: [String]
        public var gitCommit: String?
        /// Present only for plans made from a git remote by the controller.
        public var gitAuthor: String?
        public var manifestDigest: String
    }

    public struct Summary: Sendable, Hashable, Codable {
        public var create: Int
        public var update: Int
        public var replace: Int
        public var delete: Int
        /// Typed operations by verb (`restart`, `resize` …); only those that occur.
        public var operations: [String: Int]
        /// All changing actions.
        public var changes: Int
        public var unchanged: Int
        public var needingApproval: Int
        /// Deletes plus replaces (`--max-destroy`).
        public var destructive: Int
        /// Orphans not deleted by this plan.
        public var unprunedOrphans: Int
        public var errors: Int
        public var warnings: Int

        init(_ s: PlanSummary) {
            create = s.count(.create)
            update = s.count(.update)
            replace = s.count(.replace)
            delete = s.count(.delete)
            operations = Dictionary(uniqueKeysWithValues: s.operations.map { ($0.verb.rawValue, $0.count) })
            changes = s.changes
            unchanged = s.unchanged
            needingApproval = s.needingApproval
            destructive = s.destructive
            unprunedOrphans = s.unprunedOrphans
            errors = s.errors
            warnings = s.warnings
        }
    }

    public struct Action: Sendable, Hashable, Codable {
        /// `Kind/name:verb`, what `dependsOn` refers to.
        public var id: String
        public var resource: String
        /// `create`, `update`, `replace`, `delete`, `noop`, or a typed operation (`restart`, `migrate`, `resize`, `promote` …).
        public var verb: String
        /// `hot`, `restart`, `replace` or `dataLoss`.
        public var impact: String
        public var reasons: [String]
        public var dependsOn: [String]
        public var requiresApproval: Bool
        public var providerID: String?
        public var changes: [Change]

        init(_ a: SetpointCore.Action) {
            id = a.id.description
            resource = a.resource.description
            verb = a.verb.rawValue
            impact = PlanJSONDocument.name(a.impact)
            reasons = a.reasons
            dependsOn = a.dependsOn.map(\.description)
            requiresApproval = a.requiresApproval
            providerID = a.providerID
            changes = a.changes.map { Change($0, kind: a.resource.kind) }
        }
    }

    public struct Change: Sendable, Hashable, Codable {
        /// Dotted path under `spec` (`disks.scsi0.size`; list items as `rules[2]`).
        public var path: String
        /// `add` (no `before`), `remove` (no `after`) or `change`.
        public var operation: String
        /// What is observed; absent when the system does not have it (or, for a write-only value, does not show it).
        public var before: JSONValue?
        /// What is desired; absent when the field is to be removed.
        public var after: JSONValue?
        /// When true, `before` and `after` are the string `"(sensitive)"`.
        public var sensitive: Bool
        /// `manifest` or `drift`.
        public var origin: String
        /// `hot`, `restart`, `replace` or `dataLoss`.
        public var impact: String
        public var reason: String?

        init(_ c: FieldChange, kind: ResourceKind) {
            let type = PlanValueFormatter.schemaType(of: kind, at: c.path)
            let sensitive = c.isSensitive || PlanValueFormatter.isSecret(type)
            path = c.path.description
            operation = c.before == nil ? (c.after == nil ? "change" : "add") : (c.after == nil ? "remove" : "change")
            before = c.before.map { sensitive ? .string("(sensitive)") : JSONValue($0, type: type) }
            after = c.after.map { sensitive ? .string("(sensitive)") : JSONValue($0, type: type) }
            self.sensitive = sensitive
            origin = c.origin == .drift ? "drift" : "manifest"
            impact = PlanJSONDocument.name(c.impact)
            reason = c.reason
        }

        enum CodingKeys: String, CodingKey { case path, operation, before, after, sensitive, origin, impact, reason }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            path = try c.decode(String.self, forKey: .path)
            operation = try c.decode(String.self, forKey: .operation)
            // A present null is the value null, not an absent value.
            before = c.contains(.before) ? try c.decode(JSONValue.self, forKey: .before) : nil
            after = c.contains(.after) ? try c.decode(JSONValue.self, forKey: .after) : nil
            sensitive = try c.decode(Bool.self, forKey: .sensitive)
            origin = try c.decode(String.self, forKey: .origin)
            impact = try c.decode(String.self, forKey: .impact)
            reason = try c.decodeIfPresent(String.self, forKey: .reason)
        }
    }

    /// A diagnostic, in the same shape as the entries of `DiagnosticJSONRenderer`.
    public struct Diagnostic: Sendable, Hashable, Codable {
        public var severity: String
        public var code: String
        public var summary: String
        public var hint: String?
        public var file: String?
        public var line: Int?
        public var column: Int?
        public var resource: String?

        init(_ d: SetpointCore.Diagnostic) {
            severity = d.severity.rawValue
            code = d.code.rawValue
            summary = d.summary
            hint = d.hint
            file = d.location?.file
            line = d.location?.line
            column = d.location?.column
            resource = d.resource?.description
        }
    }

    /// The stable names of impacts, independent of the Core enum's spelling.
    static func name(_ impact: Impact) -> String {
        switch impact {
        case .hot: "hot"
        case .restart: "restart"
        case .replace: "replace"
        case .dataLoss: "dataLoss"
        }
    }
}

/// A JSON value. Secret references become the string `"(sensitive)"`: the JSON plan never names where a secret
/// comes from, let alone its value.
public enum JSONValue: Sendable, Hashable, Codable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(_ value: Value) {
        switch value {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .list(let l): self = .array(l.map(JSONValue.init))
        case .map(let m): self = .object(m.mapValues(JSONValue.init))
        case .secret: self = .string("(sensitive)")
        }
    }

    /// Also redacts fields the schema declares secrets, whatever they hold (an observed fingerprint, say).
    init(_ value: Value, type: SchemaType?) {
        if PlanValueFormatter.isSecret(type) {
            self = .string("(sensitive)")
            return
        }
        switch (value, type.map(PlanValueFormatter.resolved)) {
        case (.list(let l), .list(let item, _, _)?): self = .array(l.map { JSONValue($0, type: item) })
        case (.map(let m), let t?):
            self = .object(
                Dictionary(
                    uniqueKeysWithValues: m.map { k, v in
                        (k, JSONValue(v, type: PlanValueFormatter.child(of: t, .key(k))))
                    }
                )
            )
        default: self = JSONValue(value)
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? c.decode(Int64.self) {
            self = .int(i)
        } else if let d = try? c.decode(Double.self) {
            self = .double(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}
