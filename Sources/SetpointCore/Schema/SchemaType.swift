/// The type of a manifest field. One description serves the decoder, the JSON Schema generator and the docs.
public indirect enum SchemaType: Sendable {
    /// A string, optionally constrained by a format.
    case string(StringFormat)
    /// One of a fixed set of strings.
    case enumeration([String])
    /// A whole number within optional bounds.
    case integer(min: Int64?, max: Int64?)
    /// Any number (integer or decimal) within optional bounds.
    case number(min: Double?, max: Double?)
    case boolean
    /// Any scalar (string, number, boolean), kept as text: PostgreSQL parameter values. Booleans become `on`/`off`.
    case scalarText
    /// A size with units; `.wholeMebibytes` for Proxmox sizes and memory.
    case quantity(QuantityRule)
    /// A duration such as `5m`.
    case duration
    /// `{env: NAME}` or `{file: /path}`; never an inline value.
    case secret
    /// The name of another resource of a kind; an edge of the graph.
    case reference(ResourceKind)
    /// A list of items.
    case list(SchemaType, minItems: Int, uniqueItems: Bool)
    /// A map from constrained keys to values (labels, disks keyed by slot …).
    case map(keys: StringFormat, values: SchemaType)
    /// A nested object with known fields.
    case object(ObjectSchema)
    /// A named definition (for recursive shapes such as routes); see `SchemaDefinitions`.
    case named(String)

    /// A plain string.
    public static let string = SchemaType.string(.any)
    /// A list without constraints.
    public static func list(_ item: SchemaType) -> SchemaType { .list(item, minItems: 0, uniqueItems: false) }
    /// An integer at least `min`.
    public static func integer(min: Int64) -> SchemaType { .integer(min: min, max: nil) }

    /// The word used in "expected …" messages.
    public var expectation: String {
        switch self {
        case .string(let f): f.expectation
        case .enumeration(let values): "one of " + values.map { "'\($0)'" }.joined(separator: ", ")
        case .integer(let min, let max):
            switch (min, max) {
            case (let lo?, let hi?): "an integer from \(lo) to \(hi)"
            case (let lo?, nil): "an integer ≥ \(lo)"
            case (nil, let hi?): "an integer ≤ \(hi)"
            case (nil, nil): "an integer"
            }
        case .number: "a number"
        case .boolean: "true or false"
        case .scalarText: "a string, number or boolean"
        case .quantity(let rule):
            rule == .wholeMebibytes ? "a size in whole MiB like '4Gi' or '512Mi'" : "a size like '10Gi' or '500M'"
        case .duration: "a duration like '30s', '5m' or '1h30m'"
        case .secret: "a secret reference: {env: NAME} or {file: /path}"
        case .reference(let kind): "the name of a \(kind)"
        case .list: "a list"
        case .map: "a mapping"
        case .object: "a mapping"
        case .named(let name): SchemaDefinitions.all[name].map { _ in "a mapping" } ?? name
        }
    }

    /// A short type name for YAML "got" messages and docs.
    public var typeName: String {
        switch self {
        case .string, .enumeration, .reference: "string"
        case .integer: "integer"
        case .number: "number"
        case .boolean: "boolean"
        case .scalarText: "scalar"
        case .quantity: "quantity"
        case .duration: "duration"
        case .secret: "secret reference"
        case .list: "list"
        case .map, .object, .named: "mapping"
        }
    }
}

/// How a quantity is constrained.
public enum QuantityRule: Sendable, Equatable {
    /// Any whole number of bytes.
    case bytes
    /// A whole number of MiB, as Proxmox memory and disk sizes are.
    case wholeMebibytes
}
