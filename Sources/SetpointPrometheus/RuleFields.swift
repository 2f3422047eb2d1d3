import SetpointCore

/// `AlertRuleGroup`'s fields in two tables — the group's and each rule's: the key each has in the rule file, how its
/// value is written there and read back, what Prometheus' `/api/v1/rules` shows of it, and (for the group) what a
/// change does. The rule file, what is read from it and from the server, and the field policy come from the rows.
enum RuleFields {
    /// How a value is written in the rule file and read back.
    enum Codec: Sendable {
        /// A string, double-quoted.
        case text
        /// Milliseconds in the manifest, a Prometheus duration (`5m`) in the file.
        case duration
        /// A whole number.
        case count
        /// A map of strings, keys sorted; left out when empty.
        case strings
    }

    /// One field's place in the rule file and on the server.
    struct Field<Loaded>: Sendable {
        /// The key in the rule file; nil when the field is not written there (the server the file is for).
        var fileKey: String?
        var codec: Codec
        /// What Prometheus shows of the field once loaded.
        var loaded: (@Sendable (Loaded) -> Value?)?
        /// Prometheus shows the field in its own form (a query): whether the server runs the file is told by the
        /// other fields.
        var reprinted: Bool

        init(
            _ fileKey: String?,
            _ codec: Codec = .text,
            reprinted: Bool = false,
            loaded: (@Sendable (Loaded) -> Value?)? = nil
        ) {
            self.fileKey = fileKey
            self.codec = codec
            self.reprinted = reprinted
            self.loaded = loaded
        }
    }

    static let rewritten = "rule file rewritten, Prometheus reloads it"

    /// The group's fields (`rules` has its own table).
    static let group = FieldTable<Field<MonitoringAPI.LoadedGroup>>(
        defaultImpact: .hot,
        rows: [
            .init(
                "prometheus",
                Field(nil),
                impact: .replace,
                reason: "the group's file moves to the other server's rules folder: removed from the "
                    + "old one (and reloaded there), written to the new one"
            ),
            .init(
                "interval",
                Field("interval", .duration, loaded: { g in g.intervalSeconds.flatMap(milliseconds) }),
                impact: .hot,
                reason: rewritten
            ),
            .init(
                "limit",
                Field("limit", .count, loaded: { g in g.limit.map { .int(Int64($0)) } }),
                impact: .hot,
                reason: rewritten
            ),
            .init(
                "rules",
                Field("rules"),
                impact: .hot,
                reason: "the group's rule file is rewritten and Prometheus reloads it",
                coversFields: true
            ),
        ]
    )

    /// Each rule's fields, in the order the file lists them.
    static let rule = FieldTable<Field<MonitoringAPI.LoadedRule>>(
        rows: [
            .init("alert", Field("alert", loaded: { r in r.type == "recording" ? nil : .string(r.name) })),
            .init("record", Field("record", loaded: { r in r.type == "recording" ? .string(r.name) : nil })),
            .init("expr", Field("expr", reprinted: true, loaded: { r in .string(r.query) })),
            .init("for", Field("for", .duration, loaded: { r in r.forSeconds.flatMap(positiveMilliseconds) })),
            .init(
                "keepFiringFor",
                Field(
                    "keep_firing_for",
                    .duration,
                    loaded: { r in r.keepFiringForSeconds.flatMap(positiveMilliseconds) }
                )
            ),
            .init("labels", Field("labels", .strings, loaded: { r in strings(r.labels) })),
            .init("annotations", Field("annotations", .strings, loaded: { r in strings(r.annotations) })),
        ]
    )

    static let policy = group.policy()

    // MARK: codecs

    /// Seconds as Prometheus answers them, in milliseconds; nil past 2⁶³ ms or NaN (no duration, never a trap).
    static func milliseconds(_ seconds: Double) -> Value? { Int64(exactly: (seconds * 1000).rounded()).map(Value.int) }

    /// Prometheus answers 0 for a duration a rule does not set.
    static func positiveMilliseconds(_ seconds: Double) -> Value? { seconds > 0 ? milliseconds(seconds) : nil }

    static func strings(_ map: [String: String]) -> Value? { map.isEmpty ? nil : .map(map.mapValues(Value.string)) }

    /// The value as the rule file writes it; nil leaves the key out.
    static func written(_ value: Value, _ codec: Codec) -> YAMLNode? {
        switch codec {
        case .text: return value.stringValue.map(YAMLNode.string)
        case .duration: return value.intValue.map { .scalar(RuleFiles.duration($0)) }
        case .count: return value.intValue.map { .scalar(String($0)) }
        case .strings:
            guard case .map(let m) = value, !m.isEmpty else { return nil }
            return .map(m.keys.sorted().compactMap { k in m[k]?.stringValue.map { (k, .string($0)) } })
        }
    }

    /// The file's value (scalars read as strings) as the manifest writes it.
    static func read(_ value: Value?, _ codec: Codec) -> Value? {
        switch codec {
        case .text: return value?.stringValue.map(Value.string)
        case .duration: return YAMLValues.milliseconds(value).map(Value.int)
        case .count: return value?.stringValue.flatMap { Int64($0) }.map(Value.int)
        case .strings:
            if case .map(let m)? = value { return .map(m) }
            return nil
        }
    }

    /// The rows' fields of `spec` in file order, as `key: value` pairs.
    static func fileEntries<L>(_ table: FieldTable<Field<L>>, of spec: Value) -> [(String, YAMLNode)] {
        table.rows.compactMap { row in
            guard let key = row.mapping.fileKey, key != "rules", let value = spec[row.path],
                let node = written(value, row.mapping.codec)
            else { return nil }
            return (key, node)
        }
    }

    /// The rows' fields of a file's map in the manifest's shape.
    static func fromFile<L>(_ table: FieldTable<Field<L>>, _ map: Value) -> [String: Value] {
        var out: [String: Value] = [:]
        for row in table.rows {
            guard let key = row.mapping.fileKey, key != "rules", let value = read(map[key], row.mapping.codec) else {
                continue
            }
            out[row.path] = value
        }
        return out
    }

    /// What the server shows, in the manifest's shape.
    static func fromServer<L>(_ table: FieldTable<Field<L>>, _ loaded: L) -> [String: Value] {
        var out: [String: Value] = [:]
        for row in table.rows { if let value = row.mapping.loaded?(loaded) { out[row.path] = value } }
        return out
    }
}
