public import SetpointCore

/// Writes JSON Schemas (draft 2020-12) for the kinds, from the same schema values the decoder enforces.
///
/// One file per kind, plus `setpoint.schema.json` that accepts any kind (choose by `kind`), for
/// yaml-language-server modelines: `# yaml-language-server: $schema=../schemas/setpoint.schema.json`.
public enum JSONSchemaGenerator {
    public static let draft = "https://json-schema.org/draft/2020-12/schema"
    public static let idBase = "https://setpoint.dev/schemas/v1/"

    /// File name of a kind's schema: `virtualmachine.schema.json`.
    public static func fileName(for kind: ResourceKind) -> String { kind.rawValue.lowercased() + ".schema.json" }

    /// Every schema file: name → contents.
    public static func allFiles() -> [(name: String, contents: String)] {
        KindRegistry.v1.map { (fileName(for: $0.kind), kindSchema($0).serialized() + "\n") }
            + [("setpoint.schema.json", umbrellaSchema().serialized() + "\n")]
    }

    /// The schema of one kind's documents.
    public static func kindSchema(_ definition: KindDefinition) -> JSONValue {
        .object(
            [
                ("$schema", .string(draft)),
                ("$id", .string(idBase + fileName(for: definition.kind))),
                ("title", .string(definition.kind.rawValue)),
                ("description", .string(definition.summary)),
            ] + documentBody(definition) + [("$defs", definitions())]
        )
    }

    /// A schema accepting a document of any v1 kind, chosen by its `kind`.
    public static func umbrellaSchema() -> JSONValue {
        let kinds = KindRegistry.v1
        return .object([
            ("$schema", .string(draft)),
            ("$id", .string(idBase + "setpoint.schema.json")),
            ("title", "Setpoint manifest"),
            ("description", "Any setpoint/v1 document; the kind selects the schema."),
            ("type", "object"),
            ("required", ["apiVersion", "kind"]),
            (
                "properties",
                .object([
                    ("apiVersion", .object([("const", .string(KindRegistry.apiVersion))])),
                    ("kind", .object([("enum", .array(kinds.map { .string($0.kind.rawValue) }))])),
                ])
            ),
            (
                "allOf",
                .array(
                    kinds.map { d in
                        .object([
                            (
                                "if",
                                .object([
                                    ("properties", .object([("kind", .object([("const", .string(d.kind.rawValue))]))])),
                                    ("required", ["kind"]),
                                ])
                            ),
                            ("then", .object([("$ref", .string("#/$defs/kind.\(d.kind.rawValue)"))])),
                        ])
                    }
                )
            ),
            (
                "$defs",
                .object(definitionPairs() + kinds.map { ("kind.\($0.kind.rawValue)", .object(documentBody($0))) })
            ),
        ])
    }

    static func documentBody(_ definition: KindDefinition) -> [(String, JSONValue)] {
        [
            ("type", "object"),
            ("required", ["apiVersion", "kind", "metadata", "spec"]),
            ("additionalProperties", false),
            (
                "properties",
                .object([
                    ("apiVersion", .object([("const", .string(KindRegistry.apiVersion))])),
                    ("kind", .object([("const", .string(definition.kind.rawValue))])),
                    ("metadata", .object([("$ref", "#/$defs/metadata")])),
                    ("spec", schema(for: .object(definition.spec), summary: nil)),
                ])
            ),
        ]
    }

    static func definitions() -> JSONValue { .object(definitionPairs()) }

    static func definitionPairs() -> [(String, JSONValue)] {
        var metadata = objectBody(MetadataSchema.schema)
        // Known annotations: their values are restricted.
        if let i = metadata.firstIndex(where: { $0.0 == "properties" }), case .object(var props) = metadata[i].1,
            let a = props.firstIndex(where: { $0.0 == "annotations" }), case .object(var annotations) = props[a].1
        {
            annotations.append(
                (
                    "properties",
                    .object(
                        MetadataSchema.knownAnnotations.map {
                            (
                                $0.key,
                                .object([
                                    ("enum", .array($0.values.map { .string($0) })),
                                    ("description", .string($0.summary)),
                                ])
                            )
                        }
                    )
                )
            )
            props[a].1 = .object(annotations)
            metadata[i].1 = .object(props)
        }
        return [("metadata", .object(metadata))]
            + SchemaDefinitions.all.keys.sorted().map { ($0, .object(objectBody(SchemaDefinitions.all[$0]!))) }
    }

    static func objectBody(_ object: ObjectSchema) -> [(String, JSONValue)] {
        var out: [(String, JSONValue)] = [("type", "object")]
        let required = object.fields.filter(\.isRequired).map { JSONValue.string($0.name) }
        if !required.isEmpty { out.append(("required", .array(required))) }
        out.append(("additionalProperties", false))
        out.append(
            (
                "properties",
                .object(
                    object.fields.map { ($0.name, schema(for: $0.type, summary: $0.summary, default: $0.defaultValue)) }
                )
            )
        )
        var all: [JSONValue] = []
        for group in object.exactlyOneOf {
            all.append(.object([("oneOf", .array(group.map { .object([("required", [.string($0)])]) }))]))
        }
        for group in object.atMostOneOf {
            for i in 0..<group.count {
                for j in (i + 1)..<group.count {
                    all.append(.object([("not", .object([("required", [.string(group[i]), .string(group[j])])]))]))
                }
            }
        }
        for exclusion in object.exclusions {
            all.append(
                .object([
                    ("if", .object([("required", [.string(exclusion.field)])])),
                    (
                        "then",
                        .object([
                            (
                                "not",
                                .object([
                                    (
                                        "anyOf",
                                        .array(exclusion.forbidden.map { .object([("required", [.string($0)])]) })
                                    )
                                ])
                            )
                        ])
                    ),
                ])
            )
        }
        if !all.isEmpty { out.append(("allOf", .array(all))) }
        return out
    }

    static func schema(for type: SchemaType, summary: String?, default defaultValue: Value? = nil) -> JSONValue {
        var out: [(String, JSONValue)]
        switch type {
        case .string(let format):
            out = [("type", "string")]
            if let pattern = format.pattern { out.append(("pattern", .string(pattern))) }
        case .enumeration(let values):
            out = [("type", "string"), ("enum", .array(values.map { .string($0) }))]
        case .integer(let min, let max):
            out = [("type", "integer")]
            if let min { out.append(("minimum", .int(min))) }
            if let max { out.append(("maximum", .int(max))) }
        case .number(let min, let max):
            out = [("type", "number")]
            if let min { out.append(("minimum", .double(min))) }
            if let max { out.append(("maximum", .double(max))) }
        case .boolean:
            out = [("type", "boolean")]
        case .scalarText:
            out = [("type", ["string", "number", "boolean"])]
        case .quantity(let rule):
            out = [
                (
                    "anyOf",
                    [
                        .object([("type", "integer"), ("minimum", 0)]),
                        .object([("type", "string"), ("pattern", "^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$")]),
                    ]
                )
            ]
            if rule == .wholeMebibytes {
                out.append(
                    ("$comment", "Setpoint also requires a whole number of MiB (a check JSON Schema cannot express).")
                )
            }
        case .duration:
            out = [("type", "string"), ("pattern", .string(DurationValue.pattern))]
        case .secret:
            out = [
                ("type", "object"),
                ("minProperties", 1), ("maxProperties", 1), ("additionalProperties", false),
                (
                    "properties",
                    .object([
                        ("env", .object([("type", "string"), ("pattern", "^[A-Za-z_][A-Za-z0-9_]*$")])),
                        ("file", .object([("type", "string"), ("minLength", 1)])),
                    ])
                ),
            ]
        case .reference(let kind):
            out = [
                ("type", "string"), ("pattern", .string(StringFormat.dnsLabel.pattern!)),
                ("$comment", .string("name of a \(kind)")),
            ]
        case .list(let item, let minItems, let unique):
            out = [("type", "array"), ("items", schema(for: item, summary: nil))]
            if minItems > 0 { out.append(("minItems", .int(Int64(minItems)))) }
            if unique { out.append(("uniqueItems", true)) }
        case .map(let keys, let values):
            out = [("type", "object")]
            if let pattern = keys.pattern { out.append(("propertyNames", .object([("pattern", .string(pattern))]))) }
            out.append(("additionalProperties", schema(for: values, summary: nil)))
        case .object(let object):
            out = objectBody(object)
        case .named(let name):
            out = [("$ref", .string("#/$defs/\(name)"))]
        }
        if let summary { out.append(("description", .string(summary))) }
        if let defaultValue { out.append(("default", json(defaultValue, as: type))) }
        return .object(out)
    }

    /// A default as the user would write it (sizes and durations in their text form).
    static func json(_ value: Value, as type: SchemaType) -> JSONValue {
        switch (value, type) {
        case (.int(let i), .quantity): return .string(Quantity(bytes: i).description)
        case (.int(let i), .duration): return .string(DurationValue(milliseconds: i).description)
        case (.int(let i), _): return .int(i)
        case (.bool(let b), _): return .bool(b)
        case (.string(let s), _): return .string(s)
        case (.double(let d), _): return .double(d)
        default: return .null
        }
    }
}
