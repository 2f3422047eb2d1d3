import Foundation

/// One parameter (or property-string key) of PVE's API schema, as `scripts/gen-pve-schema.py` keeps it.
public final class ParamSchema: Decodable, Sendable {
    public enum Format: Sendable {
        /// A named format (`pve-vmid`, `pve-configid-list`, `mac-addr` …).
        case named(String)
        /// A property string: `key=value,…` with these keys.
        case properties([String: ParamSchema])
    }

    public let type: String?
    public let format: Format?
    public let enumValues: [String]?
    public let minimum: Double?
    public let maximum: Double?
    public let pattern: String?
    public let maxLength: Int?
    public let minLength: Int?
    public let optional: Bool
    public let defaultValue: JSONValue?
    public let defaultKey: Bool
    public let alias: String?
    public let keyAlias: String?
    public let requires: String?

    enum CodingKeys: String, CodingKey {
        case type, format, minimum, maximum, pattern, maxLength, minLength, optional, alias, keyAlias, requires
        case enumValues = "enum"
        case defaultValue = "default"
        case defaultKey = "default_key"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decodeIfPresent(String.self, forKey: .type)
        if let name = try? c.decodeIfPresent(String.self, forKey: .format) {
            format = .named(name)
        } else if let keys = try c.decodeIfPresent([String: ParamSchema].self, forKey: .format) {
            format = .properties(keys)
        } else {
            format = nil
        }
        enumValues = try c.decodeIfPresent([String].self, forKey: .enumValues)
        // The schema writes some numbers as strings ("minimum": "1"): read both.
        func number(_ key: CodingKeys) throws -> Double? {
            guard let v = try c.decodeIfPresent(JSONValue.self, forKey: key) else { return nil }
            switch v {
            case .int(let i): return Double(i)
            case .double(let d): return d
            case .string(let s): return Double(s)
            default: return nil
            }
        }
        minimum = try number(.minimum)
        maximum = try number(.maximum)
        pattern = try c.decodeIfPresent(String.self, forKey: .pattern)
        maxLength = try number(.maxLength).map { Int($0) }
        minLength = try number(.minLength).map { Int($0) }
        optional = (try number(.optional) ?? 0) != 0
        defaultValue = try c.decodeIfPresent(JSONValue.self, forKey: .defaultValue)
        defaultKey = (try number(.defaultKey) ?? 0) != 0
        alias = try c.decodeIfPresent(String.self, forKey: .alias)
        keyAlias = try c.decodeIfPresent(String.self, forKey: .keyAlias)
        requires = try c.decodeIfPresent(String.self, forKey: .requires)
    }

    /// The keys of a property-string format.
    public var propertyKeys: [String: ParamSchema]? {
        if case .properties(let keys) = format { return keys }
        return nil
    }
}

/// One API method: path, HTTP method, parameters, permissions, return type.
public struct APIMethod: Decodable, Sendable {
    public let path: String
    public let method: String
    public let name: String
    public let allowtoken: Int
    public let protected: Int
    /// `null`, `string` (a UPID for workers), `object`, `array`, `integer`.
    public let returns: String
    public let permissions: JSONValue
    public let additionalProperties: Int
    public let pathParams: [String: ParamSchema]
    public let parameters: [String: ParamSchema]

    /// The schema of a parameter, indexed ones (`net0`) included through their `net[n]` entry.
    public func schema(for name: String) -> ParamSchema? {
        if let s = parameters[name] { return s }
        guard let (base, index) = IndexedKey.split(name), let s = parameters[base + "[n]"] else { return nil }
        return index < IndexedKey.limit(base) ? s : nil
    }
}

/// Indexed config keys (`net0`, `scsi3`, `unused12`) and how many of each PVE allows.
public enum IndexedKey {
    static let limits: [String: Int] = [
        "net": 32, "scsi": 31, "virtio": 16, "ide": 4, "sata": 6, "unused": 256, "mp": 256, "hostpci": 16, "usb": 14,
        "serial": 4, "parallel": 3, "ipconfig": 32, "numa": 8, "virtiofs": 10, "dev": 256, "link": 8,
    ]

    public static func limit(_ base: String) -> Int { limits[base] ?? 32 }

    /// `net12` → (`net`, 12).
    public static func split(_ key: String) -> (String, Int)? {
        guard let firstDigit = key.firstIndex(where: \.isNumber), firstDigit != key.startIndex,
            key[firstDigit...].allSatisfy(\.isNumber), let n = Int(key[firstDigit...]),
            String(n) == key[firstDigit...]
        else { return nil }
        return (String(key[..<firstDigit]), n)
    }
}

/// The whole table, decoded once from the generated data.
public struct PVEAPISchema: Decodable, Sendable {
    public let source: String
    public let methods: [APIMethod]
    /// The methods by HTTP method and segment count, each with its template split once: a request is matched
    /// against a handful of templates, not every method of the API.
    let routes: [String: [Int: [(parts: [String], method: APIMethod)]]]

    enum CodingKeys: String, CodingKey { case source, methods }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        source = try c.decode(String.self, forKey: .source)
        methods = try c.decode([APIMethod].self, forKey: .methods)
        var routes: [String: [Int: [(parts: [String], method: APIMethod)]]] = [:]
        for m in methods {
            let parts = m.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
            routes[m.method, default: [:]][parts.count, default: []].append((parts, m))
        }
        self.routes = routes
    }

    public static let shared: PVEAPISchema = {
        do {
            return try JSONDecoder().decode(PVEAPISchema.self, from: Data(pveAPISchemaJSON.utf8))
        } catch {
            fatalError("the generated PVE schema does not decode: \(error)")
        }
    }()

    /// The method for a concrete path (`/nodes/pve1/qemu/100/config`) and its path parameters.
    public func match(method: String, path: String) -> (APIMethod, [String: String])? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        for route in routes[method]?[segments.count] ?? [] {
            if let params = Self.bind(parts: route.parts, to: segments) { return (route.method, params) }
        }
        return nil
    }

    /// True when some method serves this path (so a 501 names the method, not the path).
    public func pathExists(_ path: String) -> Bool {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        return methods.contains { Self.bind(template: $0.path, to: segments) != nil }
    }

    static func bind(template: String, to segments: [String]) -> [String: String]? {
        bind(parts: template.split(separator: "/", omittingEmptySubsequences: true).map(String.init), to: segments)
    }

    static func bind(parts: [String], to segments: [String]) -> [String: String]? {
        guard parts.count == segments.count else { return nil }
        var params: [String: String] = [:]
        for (part, segment) in zip(parts, segments) {
            if part.hasPrefix("{") {
                params[String(part.dropFirst().dropLast())] = segment
            } else if part != segment {
                return nil
            }
        }
        return params
    }
}
