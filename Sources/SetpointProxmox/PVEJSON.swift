import Foundation

/// A PVE API value: what `{"data": …}` holds.
enum PVEJSON: Sendable, Equatable, Decodable {
    case null
    case number(Double)
    case string(String)
    case bool(Bool)
    case array([PVEJSON])
    case object([String: PVEJSON])

    /// Parses a response body (RFC 8259). A byte-level parser: decoding through `Decodable` tried each type in turn
    /// and threw for every miss, which was a third of the CPU of observing 2,000 guests.
    static func parse(_ data: Data) throws -> PVEJSON {
        try data.withUnsafeBytes { bytes in
            var parser = PVEJSONParser(bytes: bytes)
            return try parser.document()
        }
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

/// Why a body is not JSON, with the byte offset.
struct PVEJSONError: Error, CustomStringConvertible {
    var offset: Int
    var reason: String
    var description: String { "not JSON at byte \(offset): \(reason)" }
}

/// Recursive descent over the body's bytes; nesting deeper than ``maxDepth`` is refused rather than followed.
struct PVEJSONParser {
    static let maxDepth = 256
    let bytes: UnsafeRawBufferPointer
    var i = 0
    var depth = 0

    init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    mutating func document() throws -> PVEJSON {
        let value = try self.value()
        skipSpace()
        guard i == bytes.count else { throw fail("text after the value") }
        return value
    }

    func fail(_ reason: String) -> PVEJSONError { PVEJSONError(offset: i, reason: reason) }

    mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    mutating func literal(_ text: StaticString, _ value: PVEJSON) throws -> PVEJSON {
        let n = text.utf8CodeUnitCount
        guard i + n <= bytes.count else { throw fail("unexpected end") }
        for k in 0..<n where bytes[i + k] != text.utf8Start[k] { throw fail("unexpected byte") }
        i += n
        return value
    }

    mutating func value() throws -> PVEJSON {
        skipSpace()
        guard i < bytes.count else { throw fail("unexpected end") }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        default: return .number(try number())
        }
    }

    mutating func nest() throws {
        depth += 1
        guard depth <= Self.maxDepth else { throw fail("nested deeper than \(Self.maxDepth)") }
        i += 1
    }

    mutating func object() throws -> PVEJSON {
        try nest()
        var out: [String: PVEJSON] = [:]
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
            i += 1
            depth -= 1
            return .object(out)
        }
        while true {
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a key") }
            let key = try string()
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            i += 1
            let v = try value()
            if out[key] == nil { out[key] = v }  // the first of duplicate keys, as Foundation's decoder keeps
            skipSpace()
            guard i < bytes.count else { throw fail("unexpected end") }
            if bytes[i] == UInt8(ascii: ",") {
                i += 1
                continue
            }
            guard bytes[i] == UInt8(ascii: "}") else { throw fail("expected ',' or '}'") }
            i += 1
            depth -= 1
            return .object(out)
        }
    }

    mutating func array() throws -> PVEJSON {
        try nest()
        var out: [PVEJSON] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
            i += 1
            depth -= 1
            return .array(out)
        }
        while true {
            out.append(try value())
            skipSpace()
            guard i < bytes.count else { throw fail("unexpected end") }
            if bytes[i] == UInt8(ascii: ",") {
                i += 1
                continue
            }
            guard bytes[i] == UInt8(ascii: "]") else { throw fail("expected ',' or ']'") }
            i += 1
            depth -= 1
            return .array(out)
        }
    }

    mutating func number() throws -> Double {
        let start = i
        // Integers (nearly every number PVE sends): read at once, no text made.
        var negative = false
        if bytes[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        let leadingZero = i < bytes.count && bytes[i] == UInt8(ascii: "0")
        var whole: Int64 = 0
        var digits = 0
        while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39, digits < 18 {
            whole = whole * 10 + Int64(bytes[i] - 0x30)
            digits += 1
            i += 1
        }
        if digits > 0, !(leadingZero && digits > 1), i == bytes.count || !"0123456789.eE".utf8.contains(bytes[i]) {
            return negative ? -Double(whole) : Double(whole)
        }
        i = start
        while i < bytes.count, "0123456789-+.eE".utf8.contains(bytes[i]) { i += 1 }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
        // JSON's grammar, checked: Double() alone would take "1.", ".5", "+1", "inf" or "nan".
        let unsigned = text.utf8.first == UInt8(ascii: "-") ? text.utf8.dropFirst() : text.utf8[...]
        guard !text.isEmpty, let first = text.utf8.first, first == UInt8(ascii: "-") || (0x30...0x39).contains(first),
            // No leading zero before another digit (RFC 8259): `0`, `0.5` and `-0` but not `01`.
            !(unsigned.first == UInt8(ascii: "0")
                && unsigned.dropFirst().first.map { (0x30...0x39).contains($0) } == true),
            text.utf8.last.map({ (0x30...0x39).contains($0) }) == true, !text.contains(".e"), !text.contains(".E"),
            !text.hasPrefix("-."), let d = Double(text), d.isFinite
        else {
            i = start
            throw fail(text.isEmpty ? "unexpected byte" : "not a number: \(text.prefix(40))")
        }
        return d
    }

    mutating func string() throws -> String {
        i += 1  // the opening quote
        let start = i
        // The common case: no escapes, one copy.
        while i < bytes.count, bytes[i] != UInt8(ascii: "\""), bytes[i] != UInt8(ascii: "\\"), bytes[i] >= 0x20 {
            i += 1
        }
        guard i < bytes.count else { throw fail("unterminated string") }
        var out = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
        if bytes[i] == UInt8(ascii: "\"") {
            i += 1
            return out
        }
        var scalars = String.UnicodeScalarView()
        while true {
            guard i < bytes.count else { throw fail("unterminated string") }
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                i += 1
                out.unicodeScalars.append(contentsOf: scalars)
                return out
            }
            guard b >= 0x20 else { throw fail("control character in a string") }
            if b != UInt8(ascii: "\\") {
                // One UTF-8 sequence, copied as it is (invalid bytes become U+FFFD).
                let begin = i
                i += 1
                while i < bytes.count, bytes[i] & 0xC0 == 0x80 { i += 1 }
                scalars.append(
                    contentsOf: String(decoding: UnsafeRawBufferPointer(rebasing: bytes[begin..<i]), as: UTF8.self)
                        .unicodeScalars
                )
                continue
            }
            i += 1
            guard i < bytes.count else { throw fail("unterminated escape") }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""): scalars.append("\"")
            case UInt8(ascii: "\\"): scalars.append("\\")
            case UInt8(ascii: "/"): scalars.append("/")
            case UInt8(ascii: "b"): scalars.append("\u{08}")
            case UInt8(ascii: "f"): scalars.append("\u{0C}")
            case UInt8(ascii: "n"): scalars.append("\n")
            case UInt8(ascii: "r"): scalars.append("\r")
            case UInt8(ascii: "t"): scalars.append("\t")
            case UInt8(ascii: "u"):
                var code = try hex4()
                if (0xD800..<0xDC00).contains(code), i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"),
                    bytes[i + 1] == UInt8(ascii: "u")
                {
                    i += 2
                    let low = try hex4()
                    if (0xDC00..<0xE000).contains(low) {
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        scalars.append("\u{FFFD}")
                        code = low
                    }
                }
                scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
            default:
                throw fail("unknown escape")
            }
        }
    }

    mutating func hex4() throws -> UInt32 {
        guard i + 4 <= bytes.count else { throw fail("short \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[i]
            let digit: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - 0x30
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - 0x57
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b - 0x37
            default: throw fail("bad \\u escape")
            }
            v = v << 4 | UInt32(digit)
            i += 1
        }
        return v
    }
}
