import Foundation
public import SetpointCore
import SetpointYAML

/// Checks a YAML node against a schema, producing the normalised `Value`, the references it makes, and a
/// diagnostic for every problem (with the position of the offending key or value).
public struct SchemaValidator {
    public let file: String
    public let resource: ResourceID?
    public private(set) var diagnostics: [Diagnostic] = []
    public private(set) var references: [Reference] = []

    public init(file: String, resource: ResourceID?) {
        self.file = file
        self.resource = resource
    }

    /// Validates `node` as `type`. Returns nil when the value is unusable (a diagnostic was added).
    public mutating func validate(
        _ node: SourceNode,
        as type: SchemaType,
        path: FieldPath,
        keyNode: SourceNode? = nil
    ) -> Value? {
        var path = path
        return validate(node, as: type, at: &path, keyNode: keyNode)
    }

    /// The recursion: `path` is pushed and popped in place, so walking a document allocates no paths.
    mutating func validate(
        _ node: SourceNode,
        as type: SchemaType,
        at path: inout FieldPath,
        keyNode: SourceNode? = nil
    ) -> Value? {
        switch type {
        case .object(let schema):
            return validateObject(node, schema, at: &path, keyNode: keyNode)
        case .named(let name):
            guard let schema = SchemaDefinitions.all[name] else {
                preconditionFailure("no schema definition '\(name)'")
            }
            return validateObject(node, schema, at: &path, keyNode: keyNode)
        case .map(let keys, let values):
            guard case .mapping(let pairs) = node.content else { return wrongType(node, type, path) }
            var out: [String: Value] = [:]
            out.reserveCapacity(pairs.count)
            for pair in pairs {
                guard let key = keyText(pair.key, path) else { continue }
                if out[key] != nil { continue }  // duplicate keys are reported by the reader
                guard keys.matches(key) else {
                    report(
                        .invalidValue,
                        "'\(key)' is not a valid key in \(describe(path)): expected \(keys.expectation)",
                        at: pair.key
                    )
                    continue
                }
                path.components.append(.key(key))
                let v = validate(pair.value, as: values, at: &path, keyNode: pair.key)
                path.components.removeLast()
                if let v { out[key] = v }
            }
            return .map(out)
        case .list(let item, let minItems, let unique):
            guard case .sequence(let items) = node.content else { return wrongType(node, type, path) }
            if items.count < minItems {
                report(
                    .invalidValue,
                    "\(describe(path)) needs at least \(minItems) item\(minItems == 1 ? "" : "s")",
                    at: keyNode ?? node
                )
            }
            var out: [Value] = []
            out.reserveCapacity(items.count)
            var seen: Set<Value> = []
            for (i, itemNode) in items.enumerated() {
                path.components.append(.index(i))
                let validated = validate(itemNode, as: item, at: &path)
                path.components.removeLast()
                guard let v = validated else { continue }
                if unique, !seen.insert(v).inserted {
                    report(
                        .invalidValue,
                        "duplicate item \(v) in \(describe(path))",
                        hint: "list each value once",
                        at: itemNode
                    )
                }
                out.append(v)
            }
            return .list(out)
        case .secret:
            return validateSecret(node, path: path, keyNode: keyNode)
        default:
            return validateScalar(node, type, path: path)
        }
    }

    // MARK: - objects

    mutating func validateObject(
        _ node: SourceNode,
        _ schema: ObjectSchema,
        at path: inout FieldPath,
        keyNode: SourceNode?
    ) -> Value? {
        guard case .mapping(let pairs) = node.content else {
            return wrongType(node, .object(schema), path)
        }
        var out: [String: Value] = [:]
        out.reserveCapacity(pairs.count)
        // Which schema fields were given: a bit per field index (no dictionary of key nodes per object).
        var given = FieldBits(count: schema.fields.count)
        var unknownKeys: [String] = []
        for pair in pairs {
            guard let key = keyText(pair.key, path) else { continue }
            guard let index = schema.fieldIndex(key) else {
                if unknownKeys.contains(key) { continue }
                unknownKeys.append(key)
                let hint: String
                if let suggestion = schema.suggestion(for: key) {
                    hint = "did you mean '\(suggestion)'?"
                } else {
                    let names = schema.fields.map(\.name)
                    hint =
                        "remove it; fields here: " + names.prefix(12).joined(separator: ", ")
                        + (names.count > 12 ? ", … (docs/manifests.md)" : "")
                }
                report(
                    .unknownField,
                    "unknown field '\(key)'\(path.components.count <= 1 ? "" : " at \(path)")",
                    hint: hint,
                    at: pair.key
                )
                continue
            }
            if given.contains(index) { continue }
            given.insert(index)
            path.components.append(.key(key))
            let v = validate(pair.value, as: schema.fields[index].type, at: &path, keyNode: pair.key)
            path.components.removeLast()
            if let v { out[key] = v }
        }
        func has(_ name: String) -> Bool { schema.fieldIndex(name).map(given.contains) ?? false }
        /// The key node of a given field (error paths only).
        func keyNodeOf(_ name: String) -> SourceNode {
            pairs.first { pair in
                guard let scalar = pair.key.scalar, case .string(let key) = ScalarResolver.resolve(scalar) else {
                    return false
                }
                return key == name
            }!.key
        }
        func laterKey(_ names: [String]) -> SourceNode {
            names.map(keyNodeOf).max { ($0.line, $0.column) < ($1.line, $1.column) }!
        }
        let anchor = keyNode ?? node
        for (i, field) in schema.fields.enumerated() where field.isRequired && !given.contains(i) {
            report(
                .missingField,
                "missing required field '\(path.appending(field.name))'",
                hint: "add '\(field.name):' — \(field.summary)",
                at: anchor
            )
        }
        for group in schema.exactlyOneOf {
            let count = group.reduce(0) { $0 + (has($1) ? 1 : 0) }
            if count == 0 {
                report(
                    .conflictingFields,
                    "\(describe(path)) needs one of " + group.map { "'\($0)'" }.joined(separator: ", "),
                    hint: "give exactly one of them",
                    at: anchor
                )
            } else if count > 1 {
                let present = group.filter(has)
                report(
                    .conflictingFields,
                    present.map { "'\($0)'" }.joined(separator: " and ") + " exclude each other in \(describe(path))",
                    hint: "keep exactly one of them",
                    at: laterKey(present)
                )
            }
        }
        for exclusion in schema.exclusions where has(exclusion.field) {
            for name in exclusion.forbidden where has(name) {
                report(
                    .conflictingFields,
                    "'\(name)' may not be given with '\(exclusion.field)' in \(describe(path))",
                    hint: exclusion.reason,
                    at: keyNodeOf(name)
                )
            }
        }
        for group in schema.atMostOneOf where group.reduce(0, { $0 + (has($1) ? 1 : 0) }) > 1 {
            let present = group.filter(has)
            report(
                .conflictingFields,
                present.map { "'\($0)'" }.joined(separator: " and ") + " exclude each other in \(describe(path))",
                hint: "keep one of them",
                at: laterKey(present)
            )
        }
        return .map(out)
    }

    mutating func keyText(_ key: SourceNode, _ path: FieldPath) -> String? {
        guard let scalar = key.scalar else {
            report(.wrongType, "mapping keys must be plain strings in \(describe(path))", at: key)
            return nil
        }
        switch ScalarResolver.resolve(scalar) {
        case .string(let s): return s
        case let other:
            // `on:` or `yes:` as a key is a boolean to YAML 1.1; every manifest key is a string.
            report(
                .wrongType,
                "key '\(scalar.text)' in \(describe(path)) is \(other.typeName.withArticle) to YAML 1.1, not a string",
                hint: "quote it: \"\(scalar.text)\"",
                at: key
            )
            return nil
        }
    }

    // MARK: - secrets

    mutating func validateSecret(_ node: SourceNode, path: FieldPath, keyNode: SourceNode?) -> Value? {
        guard case .mapping(let pairs) = node.content else {
            if let scalar = node.scalar, ScalarResolver.resolve(scalar) == .null {
                _ = wrongType(node, .secret, path)
            } else if node.scalar != nil {
                report(
                    .inlineSecret,
                    "\(describe(path)) is a secret and may not be written inline",
                    hint: "reference it instead: {env: NAME} or {file: /run/secrets/NAME}",
                    at: node
                )
            } else {
                _ = wrongType(node, .secret, path)
            }
            return nil
        }
        var ref: SecretReference?
        var seen: [String] = []
        for pair in pairs {
            guard let key = keyText(pair.key, path) else { return nil }
            if seen.contains(key) { continue }  // a duplicate key, reported by the reader
            if !seen.isEmpty {
                report(
                    .conflictingFields,
                    "a secret reference takes one of 'env' or 'file', not both",
                    hint: "keep one of them",
                    at: pair.key
                )
                return nil
            }
            guard key == "env" || key == "file" else {
                report(
                    .unknownField,
                    "unknown field '\(key)' in secret reference \(describe(path))",
                    hint: "a secret reference is {env: NAME} or {file: /path}",
                    at: pair.key
                )
                return nil
            }
            seen.append(key)
            guard let scalar = pair.value.scalar, case .string(let text) = ScalarResolver.resolve(scalar) else {
                report(
                    .wrongType,
                    "\(describe(path.appending(key))): expected a string",
                    hint: "quote it if YAML reads it as another type",
                    at: pair.value
                )
                return nil
            }
            guard !text.isEmpty else {
                report(
                    .invalidValue,
                    "\(describe(path.appending(key))) is empty",
                    hint: key == "env"
                        ? "name the environment variable that holds the secret"
                        : "give the path of the file that holds the secret",
                    at: pair.value
                )
                return nil
            }
            if key == "env" {
                guard isEnvName(text) else {
                    report(
                        .invalidValue,
                        "'\(text)' is not an environment variable name",
                        hint: "use letters, digits and '_', not starting with a digit",
                        at: pair.value
                    )
                    return nil
                }
                ref = .env(text)
            } else {
                ref = .file(text)
            }
        }
        guard let ref else {
            report(
                .missingField,
                "\(describe(path)) needs 'env' or 'file'",
                hint: "reference it: {env: NAME} or {file: /path}",
                at: keyNode ?? node
            )
            return nil
        }
        return .secret(ref)
    }

    private func isEnvName(_ s: String) -> Bool {
        guard let f = s.utf8.first, !(f >= 48 && f <= 57) else { return false }
        return s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 | 0x20 >= 97 && $0 | 0x20 <= 122) || $0 == 95 }
    }

    // MARK: - scalars

    mutating func validateScalar(_ node: SourceNode, _ type: SchemaType, path: FieldPath) -> Value? {
        guard let scalar = node.scalar else { return wrongType(node, type, path) }
        if let tag = scalar.tag, tag != "!", !tag.hasPrefix(ScalarResolver.tagPrefix) {
            report(
                .wrongType,
                "\(describe(path)): custom tag '\(tag)' is not supported",
                hint: "remove the tag",
                at: node
            )
            return nil
        }
        let resolved = ScalarResolver.resolve(scalar)
        switch type {
        case .string(let format):
            guard case .string(let s) = resolved else { return wrongType(node, type, path, resolved: resolved) }
            guard format.matches(s) else {
                if format.name == StringFormat.httpURL.name, StringFormat.hasUserInfo(s) {
                    // The value is never repeated: it holds a credential.
                    report(
                        .invalidValue,
                        "\(describe(path)): the URL holds user information (user:password@host), which is refused",
                        hint:
                            "give the host only; credentials are secret references ({env: NAME} or {file: PATH}) in their own fields",
                        at: node
                    )
                    return nil
                }
                return invalid(node, s, format.expectation, path)
            }
            return .string(s)
        case .reference(let kind):
            guard case .string(let s) = resolved else { return wrongType(node, type, path, resolved: resolved) }
            guard StringFormat.dnsLabel.matches(s) else {
                return invalid(node, s, "the name of a \(kind) (\(StringFormat.dnsLabel.expectation))", path)
            }
            references.append(Reference(target: ResourceID(kind: kind, name: s), path: path, location: location(node)))
            return .string(s)
        case .enumeration(let values):
            guard case .string(let s) = resolved else { return wrongType(node, type, path, resolved: resolved) }
            guard values.contains(s) else {
                let hint = nearest(to: s, in: values, within: 2).map { "did you mean '\($0)'?" }
                report(
                    .invalidValue,
                    "\(describe(path)): '\(s)' is not one of " + values.map { "'\($0)'" }.joined(separator: ", "),
                    hint: hint,
                    at: node
                )
                return nil
            }
            return .string(s)
        case .integer(let min, let max):
            let value: Int64
            switch resolved {
            case .int(let i): value = i
            case .double(let d) where d.rounded() == d && abs(d) < 9e15: value = Int64(d)
            case .bigInt:
                report(
                    .invalidValue,
                    "\(describe(path)): \(scalar.text) is out of range: expected \(type.expectation)",
                    at: node
                )
                return nil
            default: return wrongType(node, type, path, resolved: resolved)
            }
            if let min, value < min { return outOfRange(node, value, type, path) }
            if let max, value > max { return outOfRange(node, value, type, path) }
            return .int(value)
        case .number(let min, let max):
            let value: Double
            switch resolved {
            case .int(let i): value = Double(i)
            case .double(let d) where d.isFinite: value = d
            case .double: return invalid(node, scalar.text, "a finite number", path)
            default: return wrongType(node, type, path, resolved: resolved)
            }
            if let min, value < min { return invalid(node, scalar.text, "a number ≥ \(min)", path) }
            if let max, value > max { return invalid(node, scalar.text, "a number ≤ \(max)", path) }
            if case .int(let i) = resolved { return .int(i) }
            return .number(value)
        case .boolean:
            guard case .bool(let b) = resolved else { return wrongType(node, type, path, resolved: resolved) }
            return .bool(b)
        case .scalarText:
            switch resolved {
            case .string(let s): return .string(s)
            case .bool(let b): return .string(b ? "on" : "off")
            case .int, .double, .bigInt: return .string(scalar.text)
            default: return wrongType(node, type, path, resolved: resolved)
            }
        case .quantity(let rule):
            return validateQuantity(node, scalar, resolved, rule, path)
        case .duration:
            guard case .string(let s) = resolved else {
                if case .int = resolved {
                    report(
                        .invalidDuration,
                        "\(describe(path)): '\(scalar.text)' has no unit",
                        hint: "write the unit: '\(scalar.text)s' for seconds, '\(scalar.text)m' for minutes",
                        at: node
                    )
                    return nil
                }
                return wrongType(node, type, path, resolved: resolved)
            }
            guard let d = DurationValue.parse(s) else {
                report(
                    .invalidDuration,
                    "\(describe(path)): '\(s)' is not a duration",
                    hint: "use numbers with units ms, s, m, h, d, w, largest first: '30s', '5m', '1h30m', '30d'",
                    at: node
                )
                return nil
            }
            return .int(d.milliseconds)
        default:
            return wrongType(node, type, path)
        }
    }

    mutating func validateQuantity(
        _ node: SourceNode,
        _ scalar: SourceNode.Scalar,
        _ resolved: ResolvedScalar,
        _ rule: QuantityRule,
        _ path: FieldPath
    ) -> Value? {
        let quantity: Quantity
        switch resolved {
        case .int(let i) where i >= 0:
            quantity = Quantity(bytes: i)
        case .int, .double, .bigInt:
            report(
                .invalidQuantity,
                "\(describe(path)): '\(scalar.text)' is not a size: sizes are whole, non-negative numbers of bytes",
                hint: "write a number with a unit, e.g. '512Mi' or '4Gi'",
                at: node
            )
            return nil
        case .string(let s):
            switch Quantity.parse(s) {
            case .success(let q): quantity = q
            case .failure(let error):
                let why: String =
                    switch error {
                    case .malformed: "is not a quantity"
                    case .unknownUnit(let unit): "has an unknown unit '\(unit)'"
                    case .notWholeBytes: "is not a whole number of bytes"
                    case .tooLarge: "is too large"
                    }
                report(
                    .invalidQuantity,
                    "\(describe(path)): '\(s)' \(why)",
                    hint: "write a number with a unit: Ki, Mi, Gi, Ti (binary) or k, M, G, T (decimal), e.g. '4Gi'",
                    at: node
                )
                return nil
            }
        default:
            return wrongType(node, .quantity(rule), path, resolved: resolved)
        }
        if rule == .wholeMebibytes, !quantity.isWholeMebibytes {
            let text = scalar.text
            var hint = "Proxmox sizes are whole MiB: use a binary unit such as Mi or Gi"
            if let suggestion = Quantity.binarySuggestion(for: text) {
                hint = "Proxmox sizes are binary: did you mean '\(suggestion)'?"
            } else if case .int = resolved {
                hint = "a bare number is bytes: did you mean '\(text)Mi'?"
            }
            report(
                .invalidQuantity,
                "\(describe(path)): '\(text)' is \(quantity.bytes) bytes, not a whole number of MiB",
                hint: hint,
                at: node
            )
            return nil
        }
        return .int(quantity.bytes)
    }

    // MARK: - reporting

    mutating func wrongType(
        _ node: SourceNode,
        _ type: SchemaType,
        _ path: FieldPath,
        resolved: ResolvedScalar? = nil
    ) -> Value? {
        let got: String
        var hint: String?
        switch node.content {
        case .mapping: got = "a mapping"
        case .sequence: got = "a list"
        case .scalar(let scalar):
            let r = resolved ?? ScalarResolver.resolve(scalar)
            let shown = scalar.style == .plain ? scalar.text : "\"\(scalar.text)\""
            got = shown.isEmpty ? r.typeName : "\(r.typeName) \(shown)"
            switch (type, r) {
            case (_, .null):
                hint = "give a value, or remove the key ('#' starts a comment: quote a value that begins with it)"
            case (.string, .bool), (.string, .int), (.string, .double), (.string, .timestamp), (.string, .bigInt),
                (.enumeration, .bool), (.enumeration, .int), (.enumeration, .double), (.reference, .bool),
                (.reference, .int),
                (.reference, .double), (.quantity, .double), (.duration, .double):
                hint = "YAML 1.1 reads \(scalar.text) as \(r.typeName.withArticle); quote it: \"\(scalar.text)\""
            case (.integer, .string), (.number, .string), (.boolean, .string):
                hint = scalar.style == .plain ? nil : "remove the quotes"
            default: break
            }
        }
        report(.wrongType, "\(describe(path)): expected \(type.expectation), got \(got)", hint: hint, at: node)
        return nil
    }

    mutating func invalid(_ node: SourceNode, _ text: String, _ expectation: String, _ path: FieldPath) -> Value? {
        if path.description == "metadata.name" {
            let suggestion = String(text.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }.prefix(63))
                .trimmingCharacters(in: CharacterSet(charactersIn: "-"))
            report(
                .invalidName,
                "metadata.name: '\(text)' is not a valid name: expected \(expectation)",
                hint: suggestion.isEmpty ? "use lower-case letters, digits and '-'" : "try '\(suggestion)'",
                at: node
            )
            return nil
        }
        report(.invalidValue, "\(describe(path)): '\(text)' is not valid: expected \(expectation)", at: node)
        return nil
    }

    mutating func outOfRange(_ node: SourceNode, _ value: Int64, _ type: SchemaType, _ path: FieldPath) -> Value? {
        report(.invalidValue, "\(describe(path)): \(value) is out of range: expected \(type.expectation)", at: node)
        return nil
    }

    mutating func report(_ code: DiagnosticCode, _ summary: String, hint: String? = nil, at node: SourceNode) {
        diagnostics.append(Diagnostic(.error, code, summary, hint: hint, at: location(node), resource: resource))
    }

    func location(_ node: SourceNode) -> SourceLocation {
        SourceLocation(file: file, line: Int(node.line), column: Int(node.column))
    }

    func describe(_ path: FieldPath) -> String { path.components.isEmpty ? "the document" : path.description }
}

extension String {
    /// "an integer", "a boolean".
    var withArticle: String { (first.map { "aeiou".contains($0) } ?? false ? "an " : "a ") + self }
}

/// A set of field indices: one machine word for schemas of up to 64 fields, a heap array beyond.
struct FieldBits {
    private var word: UInt64 = 0
    private var overflow: [Bool]

    init(count: Int) { overflow = count > 64 ? Array(repeating: false, count: count) : [] }

    func contains(_ i: Int) -> Bool { overflow.isEmpty ? word & (1 << UInt64(i)) != 0 : overflow[i] }

    mutating func insert(_ i: Int) {
        if overflow.isEmpty { word |= 1 << UInt64(i) } else { overflow[i] = true }
    }
}
