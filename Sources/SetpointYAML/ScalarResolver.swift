public import SetpointCore

/// What a scalar means under YAML 1.1's implicit typing, exactly as PyYAML (and so most YAML tooling,
/// and our JSON Schema test) resolves it: `no` is a boolean, `0755` the octal integer 493, `~` null.
public enum ResolvedScalar: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    /// An integer too large for 64 bits (still an integer to YAML).
    case bigInt
    case double(Double)
    case timestamp
    case string(String)

    /// The YAML type name used in messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .int, .bigInt: "integer"
        case .double: "number"
        case .timestamp: "timestamp"
        case .string: "string"
        }
    }
}

public enum ScalarResolver {
    /// The prefix of YAML's standard tags (`tag:yaml.org,2002:str` …); other tags are custom.
    public static let tagPrefix = "tag:yaml.org,2002:"

    /// Resolves a scalar node. Quoted and block scalars are strings; explicit standard tags are honoured.
    public static func resolve(_ scalar: SourceNode.Scalar) -> ResolvedScalar {
        if let tag = scalar.tag, tag != "!" {
            switch tag {
            case tagPrefix + "str": return .string(scalar.text)
            case tagPrefix + "null": return .null
            default:
                // !!int, !!bool, !!float: resolve the text as if plain, the way PyYAML's constructors would.
                return resolvePlain(scalar.text)
            }
        }
        guard scalar.style == .plain else { return .string(scalar.text) }
        return resolvePlain(scalar.text)
    }

    /// Resolves plain (unquoted) text.
    public static func resolvePlain(_ text: String) -> ResolvedScalar {
        guard let first = text.utf8.first else { return .null }
        switch first {
        case UInt8(ascii: "~"):
            return text.utf8.count == 1 ? .null : .string(text)
        case UInt8(ascii: "n"), UInt8(ascii: "N"):
            if text == "null" || text == "Null" || text == "NULL" { return .null }
            if text == "no" || text == "No" || text == "NO" { return .bool(false) }
            return .string(text)
        case UInt8(ascii: "y"), UInt8(ascii: "Y"):
            return text == "yes" || text == "Yes" || text == "YES" ? .bool(true) : .string(text)
        case UInt8(ascii: "t"), UInt8(ascii: "T"):
            return text == "true" || text == "True" || text == "TRUE" ? .bool(true) : .string(text)
        case UInt8(ascii: "f"), UInt8(ascii: "F"):
            return text == "false" || text == "False" || text == "FALSE" ? .bool(false) : .string(text)
        case UInt8(ascii: "o"), UInt8(ascii: "O"):
            if text == "on" || text == "On" || text == "ON" { return .bool(true) }
            if text == "off" || text == "Off" || text == "OFF" { return .bool(false) }
            return .string(text)
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."):
            // Only number-like text pays for a byte array.
            let u = Array(text.utf8)
            if let i = integer(u) { return i }
            if let d = float(u) { return .double(d) }
            if isTimestamp(u) { return .timestamp }
            return .string(text)
        default:
            return .string(text)
        }
    }

    // MARK: - int: [-+]?0b[0-1_]+ | [-+]?0[0-7_]+ | [-+]?(0|[1-9][0-9_]*) | [-+]?0x[0-9a-fA-F_]+ | [-+]?[1-9][0-9_]*(:[0-5]?[0-9])+

    static func integer(_ u: [UInt8]) -> ResolvedScalar? {
        var i = 0
        var negative = false
        if u[0] == UInt8(ascii: "+") || u[0] == UInt8(ascii: "-") {
            negative = u[0] == UInt8(ascii: "-")
            i = 1
        }
        guard i < u.count else { return nil }
        let body = u[i...]
        func digits(_ s: ArraySlice<UInt8>, radix: Int64, valid: (UInt8) -> Bool) -> ResolvedScalar? {
            guard !s.isEmpty, s.allSatisfy({ valid($0) || $0 == UInt8(ascii: "_") }) else { return nil }
            var value: Int64 = 0
            for c in s where c != UInt8(ascii: "_") {
                let d: Int64 =
                    c >= 97 ? Int64(c - 87) : c >= 65 ? Int64(c - 55) : Int64(c - 48)
                let (m, o1) = value.multipliedReportingOverflow(by: radix)
                let (a, o2) = m.addingReportingOverflow(d)
                if o1 || o2 { return .bigInt }
                value = a
            }
            return .int(negative ? -value : value)
        }
        let b0 = body[body.startIndex]
        if b0 == UInt8(ascii: "0") {
            if body.count == 1 { return .int(0) }
            let b1 = body[body.startIndex + 1]
            if b1 == UInt8(ascii: "b") { return digits(body.dropFirst(2), radix: 2) { $0 == 48 || $0 == 49 } }
            if b1 == UInt8(ascii: "x") {
                return digits(body.dropFirst(2), radix: 16) {
                    ($0 >= 48 && $0 <= 57) || ($0 | 0x20 >= 97 && $0 | 0x20 <= 102)
                }
            }
            return digits(body.dropFirst(1), radix: 8) { $0 >= 48 && $0 <= 55 }
        }
        guard b0 >= UInt8(ascii: "1"), b0 <= UInt8(ascii: "9") else { return nil }
        if body.contains(UInt8(ascii: ":")) {
            // Sexagesimal: 1:20 == 80.
            let parts = body.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
            // Every step checks overflow: a value past 64 bits is still an integer to YAML (`.bigInt`), never a trap.
            guard let head = parts.first, let headValue = digits(head, radix: 10, valid: { $0 >= 48 && $0 <= 57 })
            else { return nil }
            var value: Int64 = 0
            var overflowed = false
            switch headValue {
            case .int(let h): value = negative ? -h : h  // the magnitude: digits() applied the sign
            case .bigInt: overflowed = true
            default: return nil
            }
            for part in parts.dropFirst() {
                guard (1...2).contains(part.count), part.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
                if part.count == 2 && part[part.startIndex] > UInt8(ascii: "5") { return nil }
                let n = Int64(part.reduce(0) { $0 * 10 + Int($1 - 48) })
                let (m, o1) = value.multipliedReportingOverflow(by: 60)
                let (a, o2) = m.addingReportingOverflow(n)
                if o1 || o2 { overflowed = true }
                value = a
            }
            if overflowed { return .bigInt }
            return .int(negative ? -value : value)
        }
        return digits(body, radix: 10) { $0 >= 48 && $0 <= 57 }
    }

    // MARK: - float: [-+]?([0-9][0-9_]*)\.[0-9_]*([eE][-+][0-9]+)? | \.[0-9_]+([eE][-+][0-9]+)? | [-+]?\.(inf|Inf|INF) | \.(nan|NaN|NAN)
    // (and the sexagesimal form [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*)

    static func float(_ u: [UInt8]) -> Double? {
        let text = String(decoding: u, as: UTF8.self)
        switch text {
        case ".nan", ".NaN", ".NAN": return .nan
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .infinity
        case "-.inf", "-.Inf", "-.INF": return -.infinity
        default: break
        }
        var i = 0
        let signed = u[0] == UInt8(ascii: "+") || u[0] == UInt8(ascii: "-")
        if signed { i = 1 }
        var mantissaDigits = 0
        var sexagesimal = false
        if i < u.count, u[i] >= 48, u[i] <= 57 {
            while i < u.count, (u[i] >= 48 && u[i] <= 57) || u[i] == UInt8(ascii: "_") {
                i += 1
                mantissaDigits += 1
            }
            while i < u.count, u[i] == UInt8(ascii: ":") {
                sexagesimal = true
                i += 1
                var n = 0
                let groupStart = i
                while i < u.count, u[i] >= 48, u[i] <= 57 {
                    i += 1
                    n += 1
                }
                if n == 0 || n > 2 { return nil }
                if n == 2 && u[groupStart] > UInt8(ascii: "5") { return nil }
            }
        } else if signed {
            return nil  // "-.5" is not a YAML 1.1 float in PyYAML's resolver
        }
        guard i < u.count, u[i] == UInt8(ascii: ".") else { return nil }
        i += 1
        var fractionDigits = 0
        while i < u.count, (u[i] >= 48 && u[i] <= 57) || u[i] == UInt8(ascii: "_") {
            i += 1
            fractionDigits += 1
        }
        if mantissaDigits == 0 && fractionDigits == 0 { return nil }
        if i < u.count {
            guard !sexagesimal, u[i] == UInt8(ascii: "e") || u[i] == UInt8(ascii: "E") else { return nil }
            i += 1
            guard i < u.count, u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") else { return nil }
            i += 1
            var expDigits = 0
            while i < u.count, u[i] >= 48, u[i] <= 57 {
                i += 1
                expDigits += 1
            }
            guard expDigits > 0, i == u.count else { return nil }
        }
        if sexagesimal { return 0 }  // a number all the same; its value never matters to a schema
        let cleaned = String(decoding: u.filter { $0 != UInt8(ascii: "_") }, as: UTF8.self)
        return Double(cleaned.hasSuffix(".") ? cleaned + "0" : cleaned) ?? Double(cleaned.replacingDot())
    }

    // MARK: - timestamp, exactly PyYAML's:
    // YYYY-MM-DD | YYYY-M?M-D?D ([Tt]|[ \t]+) H?H:MM:SS (\.[0-9]*)? ([ \t]*(Z|[-+]H?H(:MM)?))?

    static func isTimestamp(_ u: [UInt8]) -> Bool {
        var i = 0
        func digits(_ min: Int, _ max: Int) -> Bool {
            var n = 0
            while i < u.count, n < max, u[i] >= 48, u[i] <= 57 {
                i += 1
                n += 1
            }
            return n >= min
        }
        func char(_ c: Character) -> Bool {
            guard i < u.count, u[i] == c.asciiValue! else { return false }
            i += 1
            return true
        }
        guard digits(4, 4), char("-") else { return false }
        let monthStart = i
        if digits(2, 2), char("-"), digits(2, 2), i == u.count { return true }
        i = monthStart
        guard digits(1, 2), char("-"), digits(1, 2), i < u.count else { return false }
        if u[i] == UInt8(ascii: "T") || u[i] == UInt8(ascii: "t") {
            i += 1
        } else {
            let start = i
            while i < u.count, u[i] == 32 || u[i] == 9 { i += 1 }
            guard i > start else { return false }
        }
        guard digits(1, 2), char(":"), digits(2, 2), char(":"), digits(2, 2) else { return false }
        if char(".") { _ = digits(0, Int.max) }
        if i == u.count { return true }
        while i < u.count, u[i] == 32 || u[i] == 9 { i += 1 }
        if char("Z") { return i == u.count }
        guard i < u.count, u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") else { return false }
        i += 1
        guard digits(1, 2) else { return false }
        if char(":") { guard digits(2, 2) else { return false } }
        return i == u.count
    }
}

extension String {
    fileprivate func replacingDot() -> String { self.hasPrefix(".") ? "0" + self : self }
}
