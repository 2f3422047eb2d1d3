/// A spec as data: what manifests declare and providers observe, in one shape so that Core can diff any kind.
///
/// Quantities are normalised to bytes (`.int`), durations to milliseconds (`.int`), references to the
/// referenced name (`.string`); secrets stay references and print as `(sensitive)`.
public enum Value: Sendable, Hashable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case list([Value])
    case map([String: Value])
    case secret(SecretReference)

    /// A number in its one normal form: a whole number is an integer (`20.0` is `.int(20)`), as systems report it back;
    /// other numbers (and whole ones beyond 2⁵³, which a Double no longer holds exactly) stay `.double`.
    public static func number(_ d: Double) -> Value {
        d == d.rounded() && abs(d) < 9_007_199_254_740_992 ? .int(Int64(d)) : .double(d)
    }

    /// The value at a key of a map; nil for other cases or missing keys.
    public subscript(key: String) -> Value? {
        if case .map(let m) = self { return m[key] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var intValue: Int64? {
        if case .int(let i) = self { return i }
        return nil
    }

    public var description: String {
        switch self {
        case .null: "null"
        case .bool(let b): String(b)
        case .int(let i): String(i)
        case .double(let d): String(d)
        case .string(let s): "\"\(s)\""
        case .list(let l): "[" + l.map(\.description).joined(separator: ", ") + "]"
        case .map(let m):
            "{" + m.keys.sorted().map { "\($0): \(m[$0]!.description)" }.joined(separator: ", ") + "}"
        case .secret: "(sensitive)"
        }
    }
}

extension Value: Codable {
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
        } else if let l = try? c.decode([Value].self) {
            self = .list(l)
        } else {
            let m = try c.decode([String: Value].self)
            if m.count == 1, let text = m["$double"]?.stringValue, let d = Double(text) {
                self = .double(d)
            } else if m.count == 1, let env = m["$secretEnv"]?.stringValue {
                self = .secret(.env(env))
            } else if m.count == 1, let file = m["$secretFile"]?.stringValue {
                self = .secret(.file(file))
            } else {
                self = .map(m)
            }
        }
    }

    /// Secrets encode as a marker object naming the reference, never a value; whole doubles as `{"$double": "1.0"}`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d) where d.rounded() == d || !d.isFinite:
            // JSON does not tell 1.0 from 1: a whole double is written as a marker so it reads back as a double.
            try c.encode(["$double": String(d)])
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .list(let l): try c.encode(l)
        case .map(let m): try c.encode(m)
        case .secret(.env(let name)): try c.encode(["$secretEnv": name])
        case .secret(.file(let path)): try c.encode(["$secretFile": path])
        }
    }
}
