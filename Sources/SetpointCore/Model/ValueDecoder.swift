/// Decodes a validated `Value` into a `Decodable` type (a kind's typed spec).
///
/// Maps decode keyed containers, lists unkeyed ones; integers widen to floating point; secrets decode as
/// `SecretReference`. Errors are programming errors (the value was validated against the kind's schema).
public struct ValueDecoder: Sendable {
    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from value: Value) throws -> T {
        if T.self == SecretReference.self, case .secret(let ref) = value { return ref as! T }
        if T.self == Value.self { return value as! T }
        return try T(from: _ValueDecoder(value: value, codingPath: []))
    }
}

private struct _ValueDecoder: Decoder {
    let value: Value
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .map(let m) = value else { throw mismatch("a mapping") }
        return KeyedDecodingContainer(KeyedContainer<Key>(map: m, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .list(let l) = value else { throw mismatch("a list") }
        return UnkeyedContainer(items: l, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleContainer(value: value, codingPath: codingPath)
    }

    func mismatch(_ expected: String) -> DecodingError {
        .typeMismatch(Any.self, .init(codingPath: codingPath, debugDescription: "expected \(expected), got \(value)"))
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let map: [String: Value]
    let codingPath: [any CodingKey]
    var allKeys: [Key] { map.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { map[key.stringValue] != nil }

    func decodeNil(forKey key: Key) throws -> Bool {
        guard let v = map[key.stringValue] else { return true }
        return v == .null
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        guard let v = map[key.stringValue] else {
            throw DecodingError.keyNotFound(
                key,
                .init(codingPath: codingPath, debugDescription: "no value for \(key.stringValue)")
            )
        }
        return try decodeValue(T.self, from: v, codingPath: codingPath, key: key)
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let v = map[key.stringValue], v != .null else { return nil }
        return try decodeValue(T.self, from: v, codingPath: codingPath, key: key)
    }

    // Concrete overloads: the protocol's defaults for these go through contains + decodeNil + decode (three
    // lookups) and the generic path; one lookup and a switch do.
    func decode(_ type: String.Type, forKey key: Key) throws -> String {
        try scalar(key, required: true) { if case .string(let s) = $0 { s } else { nil } }!
    }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
        try scalar(key, required: true) { if case .bool(let b) = $0 { b } else { nil } }!
    }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int {
        try scalar(key, required: true) { if case .int(let i) = $0 { Int(exactly: i) } else { nil } }!
    }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 {
        try scalar(key, required: true) { if case .int(let i) = $0 { i } else { nil } }!
    }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
        try scalar(key) { if case .string(let s) = $0 { s } else { nil } }
    }
    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? {
        try scalar(key) { if case .bool(let b) = $0 { b } else { nil } }
    }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? {
        try scalar(key) { if case .int(let i) = $0 { Int(exactly: i) } else { nil } }
    }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? {
        try scalar(key) { if case .int(let i) = $0 { i } else { nil } }
    }

    /// One lookup; nil for absent or null (unless required), a type mismatch error otherwise.
    @inline(__always)
    private func scalar<T>(_ key: Key, required: Bool = false, _ extract: (Value) -> T?) throws -> T? {
        guard let v = map[key.stringValue], v != .null else {
            if required {
                throw DecodingError.keyNotFound(
                    key,
                    .init(codingPath: codingPath, debugDescription: "no value for \(key.stringValue)")
                )
            }
            return nil
        }
        if let t = extract(v) { return t }
        throw DecodingError.typeMismatch(
            T.self,
            .init(codingPath: codingPath + [key], debugDescription: "expected \(T.self), got \(v)")
        )
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type,
        forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try _ValueDecoder(value: map[key.stringValue] ?? .null, codingPath: codingPath + [key]).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try _ValueDecoder(value: map[key.stringValue] ?? .null, codingPath: codingPath + [key]).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { _ValueDecoder(value: .map(map), codingPath: codingPath) }
    func superDecoder(forKey key: Key) throws -> any Decoder {
        _ValueDecoder(value: map[key.stringValue] ?? .null, codingPath: codingPath + [key])
    }
}

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let items: [Value]
    let codingPath: [any CodingKey]
    var currentIndex = 0
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    init(items: [Value], codingPath: [any CodingKey]) {
        self.items = items
        self.codingPath = codingPath
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { return true }
        if items[currentIndex] == .null {
            currentIndex += 1
            return true
        }
        return false
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(T.self, .init(codingPath: codingPath, debugDescription: "end of list"))
        }
        defer { currentIndex += 1 }
        return try decodeValue(T.self, from: items[currentIndex], codingPath: codingPath)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) throws -> KeyedDecodingContainer<NestedKey> {
        defer { currentIndex += 1 }
        return try _ValueDecoder(value: items[currentIndex], codingPath: codingPath).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        defer { currentIndex += 1 }
        return try _ValueDecoder(value: items[currentIndex], codingPath: codingPath).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        defer { currentIndex += 1 }
        return _ValueDecoder(value: items[currentIndex], codingPath: codingPath)
    }
}

private struct SingleContainer: SingleValueDecodingContainer {
    let value: Value
    let codingPath: [any CodingKey]

    func decodeNil() -> Bool { value == .null }

    func decode(_ type: Bool.Type) throws -> Bool {
        if case .bool(let b) = value { return b }
        throw mismatch("a boolean")
    }

    func decode(_ type: String.Type) throws -> String {
        if case .string(let s) = value { return s }
        throw mismatch("a string")
    }

    func decode(_ type: Double.Type) throws -> Double {
        switch value {
        case .double(let d): return d
        case .int(let i): return Double(i)
        default: throw mismatch("a number")
        }
    }

    func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }

    func decode(_ type: Int.Type) throws -> Int { try decodeInteger() }
    func decode(_ type: Int8.Type) throws -> Int8 { try decodeInteger() }
    func decode(_ type: Int16.Type) throws -> Int16 { try decodeInteger() }
    func decode(_ type: Int32.Type) throws -> Int32 { try decodeInteger() }
    func decode(_ type: Int64.Type) throws -> Int64 { try decodeInteger() }
    func decode(_ type: UInt.Type) throws -> UInt { try decodeInteger() }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decodeInteger() }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decodeInteger() }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decodeInteger() }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decodeInteger() }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try decodeValue(T.self, from: value, codingPath: codingPath)
    }

    private func decodeInteger<T: BinaryInteger>() throws -> T {
        if case .int(let i) = value, let v = T(exactly: i) { return v }
        throw mismatch("an integer")
    }

    private func mismatch(_ expected: String) -> DecodingError {
        .typeMismatch(Any.self, .init(codingPath: codingPath, debugDescription: "expected \(expected), got \(value)"))
    }
}

/// Scalars return at once; the coding path (`codingPath` + `key`) is only built for nested containers.
private func decodeValue<T: Decodable>(
    _ type: T.Type,
    from value: Value,
    codingPath: [any CodingKey],
    key: (any CodingKey)? = nil
) throws -> T {
    switch T.self {
    case is String.Type:
        if case .string(let s) = value { return s as! T }
    case is Bool.Type:
        if case .bool(let b) = value { return b as! T }
    case is Int.Type:
        if case .int(let i) = value, let v = Int(exactly: i) { return v as! T }
    case is Int64.Type:
        if case .int(let i) = value { return i as! T }
    case is Double.Type:
        if case .double(let d) = value { return d as! T }
        if case .int(let i) = value { return Double(i) as! T }
    case is SecretReference.Type:
        if case .secret(let ref) = value { return ref as! T }
    case is Value.Type:
        return value as! T
    default:
        break
    }
    return try T(from: _ValueDecoder(value: value, codingPath: key.map { codingPath + [$0] } ?? codingPath))
}
