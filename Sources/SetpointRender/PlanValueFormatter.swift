import SetpointCore

/// How field values read in a text plan: sizes as `4Gi`, durations as `5m`, strings quoted with control
/// characters escaped (a value read from a system cannot move the cursor or colour the terminal), secrets as
/// `(sensitive)`.
///
/// The schema of the resource's kind says which integers are sizes (`.quantity`) or durations (`.duration`).
/// For a kind or path the schema does not know, an integer under a key named `memory`, `size`, `balloon` or
/// `swap` is taken as a size.
struct PlanValueFormatter {
    static let sizeKeys: Set<String> = ["memory", "size", "balloon", "swap"]

    /// The schema type of a field of a kind, or nil when the kind or the path is unknown.
    static func schemaType(of kind: ResourceKind, at path: FieldPath) -> SchemaType? {
        guard let definition = KindRegistry.definition(for: kind) else { return nil }
        var type = SchemaType.object(definition.spec)
        for component in path.components {
            guard let next = child(of: type, component) else { return nil }
            type = next
        }
        return type
    }

    static func child(of type: SchemaType, _ component: FieldPath.Component) -> SchemaType? {
        switch (resolved(type), component) {
        case (.object(let object), .key(let key)): object[key]?.type
        case (.map(_, let values), .key): values
        case (.list(let item, _, _), .index): item
        default: nil
        }
    }

    static func resolved(_ type: SchemaType) -> SchemaType {
        if case .named(let name) = type, let object = SchemaDefinitions.all[name] { return .object(object) }
        return type
    }

    /// True when the schema declares the field a secret: printed `(sensitive)` whatever value it holds.
    static func isSecret(_ type: SchemaType?) -> Bool {
        if case .secret? = type { return true }
        return false
    }

    /// One value on one line.
    static func format(_ value: Value, type: SchemaType?, key: String?) -> String {
        if isSecret(type) { return "(sensitive)" }
        let type = type.map(resolved)
        switch value {
        case .null: return "null"
        case .bool(let b): return String(b)
        case .int(let i):
            switch type {
            case .quantity?: return size(i)
            case .duration?: return DurationValue(milliseconds: i).description
            case nil where key.map(sizeKeys.contains) == true: return size(i)
            default: return String(i)
            }
        case .double(let d): return String(d)
        case .string(let s): return quoted(s)
        case .secret: return "(sensitive)"
        case .list(let items):
            let itemType: SchemaType? = if case .list(let t, _, _)? = type { t } else { nil }
            return "[" + items.map { format($0, type: itemType, key: nil) }.joined(separator: ", ") + "]"
        case .map(let m):
            let parts = m.keys.sorted().map { k in
                let childType = type.flatMap { child(of: $0, .key(k)) }
                return "\(printable(k)): \(format(m[k]!, type: childType, key: k))"
            }
            return "{" + parts.joined(separator: ", ") + "}"
        }
    }

    /// A size, exactly, in the unit it was most likely written in: `4Gi`, `1536Mi`, then decimal `16M`, `4G`,
    /// then `512Ki` or bytes. (`16M` would otherwise read `15625Ki`.)
    static func size(_ bytes: Int64) -> String {
        guard bytes != 0 else { return "0" }
        let units: [(String, Int64)] = [
            ("Ti", 1 << 40), ("Gi", 1 << 30), ("Mi", 1 << 20),
            ("T", 1_000_000_000_000), ("G", 1_000_000_000), ("M", 1_000_000), ("k", 1_000), ("Ki", 1 << 10),
        ]
        for (suffix, factor) in units where bytes % factor == 0 { return "\(bytes / factor)\(suffix)" }
        return String(bytes)
    }

    /// A string in double quotes, with quotes, backslashes and control characters escaped.
    static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default: out += escaped(scalar)
            }
        }
        return out + "\""
    }

    /// Free text (a reason, a key, a name) with control characters escaped, so it stays on its line.
    static func printable(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: isControl) else { return s }
        return s.unicodeScalars.map(escaped).joined()
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar == "\u{2028}" || scalar == "\u{2029}"
    }

    static func escaped(_ scalar: Unicode.Scalar) -> String {
        guard isControl(scalar) else { return String(scalar) }
        switch scalar {
        case "\n": return "\\n"
        case "\t": return "\\t"
        case "\r": return "\\r"
        default: return "\\u{" + String(scalar.value, radix: 16) + "}"
        }
    }
}
