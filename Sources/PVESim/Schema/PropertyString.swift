/// PVE property strings (`virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1`): parsing against a format's keys the
/// way pve-common's `parse_property_string` does, and printing them back in PVE's canonical form.
public enum PropertyString {
    public struct ParseError: Error, Sendable {
        /// Without the `invalid format - ` prefix the validator adds.
        public let message: String
    }

    /// Parses `text`; aliases resolved (`virtio=MAC` → `model=virtio`, `macaddr=MAC`); booleans normalised to 0/1.
    public static func parse(
        _ text: String,
        keys: [String: ParamSchema],
        path: String
    ) throws(ParseError) -> [String: String] {
        var result: [String: String] = [:]
        var defaultKeyUsed = false
        for rawPart in text.split(separator: ",", omittingEmptySubsequences: false) {
            let part = String(rawPart)
            if part.allSatisfy(\.isWhitespace) { continue }
            if let eq = part.firstIndex(of: "="), eq != part.startIndex, part.index(after: eq) != part.endIndex {
                var key = String(part[..<eq])
                var value = String(part[part.index(after: eq)...])
                if result[key] != nil {
                    throw ParseError(message: "duplicate key in comma-separated list property: \(key)\n")
                }
                var schema = keys[key]
                if let alias = schema?.alias {
                    if let keyAlias = schema?.keyAlias {
                        if result[keyAlias] != nil {
                            throw ParseError(message: "key alias '\(keyAlias)' is already defined\n")
                        }
                        result[keyAlias] = key
                    }
                    key = alias
                    schema = keys[alias]
                }
                guard let schema else {
                    throw ParseError(message: "invalid key in comma-separated list property: \(key)\n")
                }
                if schema.type == "boolean", let b = ParamValidator.parseBoolean(value) { value = b ? "1" : "0" }
                result[key] = value
            } else if !part.contains("=") {
                guard let defaultKey = keys.first(where: { $0.value.defaultKey })?.key else {
                    throw ParseError(message: "value without key, but schema does not define a default key\n")
                }
                if defaultKeyUsed || result[defaultKey] != nil {
                    throw ParseError(message: "duplicate key in comma-separated list property: \(defaultKey)\n")
                }
                defaultKeyUsed = true
                result[defaultKey] = part
            } else {
                throw ParseError(message: "missing key in comma-separated list property\n")
            }
        }
        var errors: [String: String] = [:]
        for (key, schema) in keys where schema.alias == nil {
            ParamValidator.check(result[key], schema: schema, path: "\(path).\(key)", errors: &errors)
        }
        if !errors.isEmpty {
            let lines = errors.keys.sorted().map { "\($0): \(errors[$0]!)" }.joined()
            throw ParseError(message: "format error\n" + lines)
        }
        return result
    }

    /// Prints parsed values as PVE does: the default key's value first and bare, then the other keys sorted.
    /// `keyAliasFirst` writes `model=MAC` for NICs (the model key carries the MAC).
    public static func print(_ values: [String: String], keys: [String: ParamSchema]) -> String {
        var parts: [String] = []
        var rest = values
        // A keyAlias pair (model + macaddr): `virtio=BC:24:…`.
        if let (aliasKey, _) = keys.first(where: { $0.value.keyAlias != nil }),
            let keyAlias = keys[aliasKey]?.keyAlias, let alias = keys[aliasKey]?.alias,
            let model = rest[keyAlias], let mac = rest[alias]
        {
            parts.append("\(model)=\(mac)")
            rest[keyAlias] = nil
            rest[alias] = nil
        } else if let defaultKey = keys.first(where: { $0.value.defaultKey })?.key, let v = rest[defaultKey] {
            parts.append(v)
            rest[defaultKey] = nil
        }
        for key in rest.keys.sorted() { parts.append("\(key)=\(rest[key]!)") }
        return parts.joined(separator: ",")
    }
}
