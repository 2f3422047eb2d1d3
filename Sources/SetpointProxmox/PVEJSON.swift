import Foundation

/// A PVE API value: what `{"data": …}` holds.
enum PVEJSON: Sendable, Equatable, Decodable {
    case null
    case number(Double)
    case string(String)
    case bool(Bool)
    case array([PVEJSON])
    case object([String: PVEJSON])

    static func parse(_ data: Data) throws -> PVEJSON {
        try JSONDecoder().decode(PVEJSON.self, from: data)
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let d = try? c.decode(Double.self) {
            self = .number(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([PVEJSON].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: PVEJSON].self))
        }
    }

    subscript(key: String) -> PVEJSON? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// Text as PVE means it: numbers without a fraction print as integers (`"cores": 2` → `2`).
    var text: String? {
        switch self {
        case .string(let s): return s
        case .number(let d): return d == d.rounded() && abs(d) < 1e18 ? String(Int64(d)) : String(d)
        case .bool(let b): return b ? "1" : "0"
        default: return nil
        }
    }

    /// Integers sent as numbers or strings (`/cluster/nextid` sends `"100"`).
    var int: Int? {
        switch self {
        case .number(let d): return Int(exactly: d.rounded())
        case .string(let s): return Int(s)
        default: return nil
        }
    }

    var array: [PVEJSON] { if case .array(let a) = self { return a } else { return [] } }
    var object: [String: PVEJSON] { if case .object(let o) = self { return o } else { return [:] } }
}
