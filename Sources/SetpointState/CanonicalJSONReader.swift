import SetpointCore

/// Reads the text `CanonicalJSON.encode` writes back into the exact `Value`.
///
/// `JSONDecoder` cannot do this: it decodes `1.0` as an integer, so `.double(1.0)` would come back as
/// `.int(1)` and differ from the spec that was applied. Here the number's spelling decides, which is exact
/// for canonical text: an `Int64` is written without `.`/`e`, a `Double` always with one (`1.0`, `1e+18`).
/// Secret references come back from their marker objects (`{"$secretEnv":"NAME"}`), as `Value` decodes them.
package enum CanonicalJSONReader {
    struct Malformed: Error, CustomStringConvertible {
        var offset: Int
        var reason: String
        var description: String { "malformed JSON at byte \(offset): \(reason)" }
    }

    package static func value(from text: String) throws -> Value {
        var reader = Reader(bytes: Array(text.utf8))
        reader.skipSpace()
        let value = try reader.readValue(depth: 0)
        reader.skipSpace()
        guard reader.index == reader.bytes.count else { throw reader.malformed("text after the value") }
        return value
    }

    private struct Reader {
        let bytes: [UInt8]
        var index = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        func malformed(_ reason: String) -> Malformed { Malformed(offset: index, reason: reason) }

        mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[index]) { index += 1 }
        }

        mutating func expect(_ literal: String) throws {
            let utf8 = Array(literal.utf8)
            guard bytes.count - index >= utf8.count, Array(bytes[index..<index + utf8.count]) == utf8 else {
                throw malformed("expected \(literal)")
            }
            index += utf8.count
        }

        mutating func readValue(depth: Int) throws -> Value {
            guard depth < 512 else { throw malformed("nested too deeply") }
            guard index < bytes.count else { throw malformed("unexpected end") }
            switch bytes[index] {
            case UInt8(ascii: "n"):
                try expect("null")
                return .null
            case UInt8(ascii: "t"):
                try expect("true")
                return .bool(true)
            case UInt8(ascii: "f"):
                try expect("false")
                return .bool(false)
            case UInt8(ascii: "\""): return .string(try readString())
            case UInt8(ascii: "["): return try readList(depth: depth)
            case UInt8(ascii: "{"): return try readMap(depth: depth)
            default: return try readNumber()
            }
        }

        mutating func readList(depth: Int) throws -> Value {
            index += 1
            var items: [Value] = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .list(items)
            }
            while true {
                skipSpace()
                items.append(try readValue(depth: depth + 1))
                skipSpace()
                guard index < bytes.count else { throw malformed("unterminated list") }
                let byte = bytes[index]
                index += 1
                if byte == UInt8(ascii: "]") { return .list(items) }
                guard byte == UInt8(ascii: ",") else { throw malformed("expected , or ]") }
            }
        }

        mutating func readMap(depth: Int) throws -> Value {
            index += 1
            var map: [String: Value] = [:]
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .map(map)
            }
            while true {
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw malformed("expected a key") }
                let key = try readString()
                skipSpace()
                try expect(":")
                skipSpace()
                map[key] = try readValue(depth: depth + 1)
                skipSpace()
                guard index < bytes.count else { throw malformed("unterminated object") }
                let byte = bytes[index]
                index += 1
                if byte == UInt8(ascii: "}") { break }
                guard byte == UInt8(ascii: ",") else { throw malformed("expected , or }") }
            }
            if map.count == 1, let name = map["$secretEnv"]?.stringValue { return .secret(.env(name)) }
            if map.count == 1, let path = map["$secretFile"]?.stringValue { return .secret(.file(path)) }
            return .map(map)
        }

        mutating func readNumber() throws -> Value {
            let start = index
            var isDouble = false
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                    isDouble = true
                } else if !(byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+") || (0x30...0x39).contains(byte)) {
                    break
                }
                index += 1
            }
            let text = String(decoding: bytes[start..<index], as: UTF8.self)
            if !isDouble, let int = Int64(text) { return .int(int) }
            if isDouble, let double = Double(text), double.isFinite { return .double(double) }
            index = start
            throw malformed(text.isEmpty ? "unexpected character" : "bad number \(text)")
        }

        mutating func readString() throws -> String {
            index += 1
            var scalars = String.UnicodeScalarView()
            var run = index  // start of the current run of plain bytes
            func flush(_ end: Int) {
                scalars.append(contentsOf: String(decoding: bytes[run..<end], as: UTF8.self).unicodeScalars)
            }
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    flush(index)
                    index += 1
                    return String(scalars)
                }
                guard byte == UInt8(ascii: "\\") else {
                    index += 1
                    continue
                }
                flush(index)
                index += 1
                guard index < bytes.count else { break }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "u"): scalars.append(try readUnicodeEscape())
                default: throw malformed("bad escape")
                }
                run = index
            }
            throw malformed("unterminated string")
        }

        /// After `\u`: four hex digits, and for a surrogate pair the `\uXXXX` that follows.
        mutating func readUnicodeEscape() throws -> Unicode.Scalar {
            let high = try readHex4()
            if (0xD800..<0xDC00).contains(high) {
                try expect("\\u")
                let low = try readHex4()
                guard (0xDC00..<0xE000).contains(low) else { throw malformed("bad surrogate pair") }
                let value = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                if let scalar = Unicode.Scalar(value) { return scalar }
            } else if let scalar = Unicode.Scalar(high) {
                return scalar
            }
            throw malformed("bad \\u escape")
        }

        mutating func readHex4() throws -> UInt32 {
            guard bytes.count - index >= 4,
                let value = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16)
            else { throw malformed("bad \\u escape") }
            index += 4
            return value
        }
    }
}
