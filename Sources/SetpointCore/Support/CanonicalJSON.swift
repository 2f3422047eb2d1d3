/// A deterministic JSON text of a `Value` (sorted keys, no whitespace) for digests and fingerprints.
/// Secrets appear as their reference (`{"$secretEnv":"NAME"}`), never a value.
public enum CanonicalJSON {
    public static func encode(_ value: Value) -> String {
        var out = ""
        write(value, into: &out)
        return out
    }

    static func write(_ value: Value, into out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d): out += d.isFinite ? String(d) : "null"
        case .string(let s): quote(s, into: &out)
        case .list(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                write(item, into: &out)
            }
            out += "]"
        case .map(let m):
            out += "{"
            for (i, key) in m.keys.sorted().enumerated() {
                if i > 0 { out += "," }
                quote(key, into: &out)
                out += ":"
                write(m[key]!, into: &out)
            }
            out += "}"
        case .secret(.env(let name)): out += "{\"$secretEnv\":"; quote(name, into: &out); out += "}"
        case .secret(.file(let path)): out += "{\"$secretFile\":"; quote(path, into: &out); out += "}"
        }
    }

    static func quote(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }

    /// `sha256:<hex>` of the canonical text.
    public static func digest(_ value: Value) -> String { "sha256:" + SHA256.hex(encode(value)) }
}
