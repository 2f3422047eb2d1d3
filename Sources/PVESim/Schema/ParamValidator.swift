import Foundation

/// Checks request parameters against a method's schema with pve-common JSONSchema's wording
/// (`property is missing and it is not optional`, `type check ('integer') failed - got 'x'` …).
public enum ParamValidator {
    /// Errors by parameter name, each message ending in a newline as PVE's do. Booleans in `params` are normalised to 0/1.
    public static func validate(_ params: inout [String: String], method: APIMethod) -> [String: String] {
        var errors: [String: String] = [:]
        for (name, schema) in method.parameters where !name.hasSuffix("[n]") {
            check(params[name], schema: schema, path: name, errors: &errors)
        }
        for name in params.keys.sorted() {
            guard let schema = method.schema(for: name) else {
                if method.additionalProperties == 0 {
                    errors[name] =
                        "property is not defined in schema and the schema does not allow additional properties\n"
                }
                continue
            }
            if name.contains(where: \.isNumber), method.parameters[name] == nil {
                check(params[name], schema: schema, path: name, errors: &errors)
            }
            if let requires = schema.requires, params[requires] == nil {
                errors[requires] = "missing property - '\(name)' requires this property\n"
            }
            if schema.type == "boolean", errors[name] == nil, let b = parseBoolean(params[name]!) {
                params[name] = b ? "1" : "0"
            }
        }
        return errors
    }

    /// pve-common `check_prop` for one scalar value.
    static func check(_ value: String?, schema: ParamSchema, path: String, errors: inout [String: String]) {
        guard let value else {
            if !schema.optional && schema.alias == nil { errors[path] = "property is missing and it is not optional\n" }
            return
        }
        switch schema.type {
        case "boolean":
            if parseBoolean(value) == nil {
                errors[path] = "type check ('boolean') failed - got '\(value)'\n"
                return
            }
        case "integer":
            if Int(value.hasPrefix("+") ? String(value.dropFirst()) : value) == nil {
                errors[path] = "type check ('integer') failed - got '\(value)'\n"
                return
            }
        case "number":
            if Double(value) == nil || value.lowercased().contains("n") {
                errors[path] = "type check ('number') failed - got '\(value)'\n"
                return
            }
        default: break
        }
        if let format = schema.format {
            switch format {
            case .named(let name):
                if let problem = NamedFormats.check(name, value) {
                    errors[path] = "invalid format - \(problem)"
                    return
                }
            case .properties(let keys):
                do { _ = try PropertyString.parse(value, keys: keys, path: path) } catch {
                    errors[path] = "invalid format - \(error.message)"
                    return
                }
            }
        }
        if let pattern = schema.pattern, !matches(pattern, value) {
            errors[path] = "value does not match the regex pattern\n"
            return
        }
        if let max = schema.maxLength, value.count > max {
            errors[path] = "value may only be \(max) characters long\n"
            return
        }
        if let min = schema.minLength, value.count < min {
            errors[path] = "value must be at least \(min) characters long\n"
            return
        }
        if let number = Double(value), schema.type == "integer" || schema.type == "number" {
            if let max = schema.maximum, number > max {
                errors[path] = "value must have a maximum value of \(format(max))\n"
                return
            }
            if let min = schema.minimum, number < min {
                errors[path] = "value must have a minimum value of \(format(min))\n"
                return
            }
        }
        if let values = schema.enumValues, !values.contains(value) {
            errors[path] =
                "value '\(value)' does not have a value in the enumeration '\(values.joined(separator: ", "))'\n"
        }
    }

    /// PVE accepts 1/0, on/off, yes/no, true/false (any case).
    public static func parseBoolean(_ value: String) -> Bool? {
        switch value.lowercased() {
        case "1", "on", "yes", "true": return true
        case "0", "off", "no", "false": return false
        default: return nil
        }
    }

    private static func format(_ d: Double) -> String { Int(exactly: d).map(String.init) ?? String(d) }

    nonisolated(unsafe) private static var regexCache: [String: NSRegularExpression] = [:]
    private static let cacheLock = NSLock()

    /// PVE anchors patterns: `m/^$pattern$/`.
    static func matches(_ pattern: String, _ value: String) -> Bool {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        let regex: NSRegularExpression
        if let cached = regexCache[pattern] {
            regex = cached
        } else {
            guard let compiled = try? NSRegularExpression(pattern: "^(?:\(pattern))$") else { return true }
            regexCache[pattern] = compiled
            regex = compiled
        }
        return regex.firstMatch(in: value, range: NSRange(value.startIndex..., in: value)) != nil
    }
}

/// The named formats of pve-common (`register_format`) that the implemented methods use; others pass.
enum NamedFormats {
    static func check(_ name: String, _ value: String) -> String? {
        func list(_ separators: String = ",;") -> [String] {
            value.split(whereSeparator: { separators.contains($0) || $0 == " " }).map(String.init)
        }
        switch name {
        case "pve-vmid":
            return Int(value).map { $0 >= 100 && $0 <= 999_999_999 } == true
                ? nil : "value does not look like a valid VM ID\n"
        case "pve-vmid-list":
            return list().allSatisfy { Int($0) != nil } ? nil : "value does not look like a valid VM ID\n"
        case "pve-node":
            return ParamValidator.matches("[a-zA-Z0-9]([a-zA-Z0-9\\-]*[a-zA-Z0-9])?", value)
                ? nil : "value does not look like a valid node name\n"
        case "pve-storage-id":
            return ParamValidator.matches("[a-z][a-z0-9\\-_.]*[a-z0-9]", value.lowercased())
                ? nil
                : "storage ID '\(value)' contains illegal characters\n"
        case "pve-configid":
            return ParamValidator.matches("[a-z][a-z_\\-0-9]*", value) ? nil : "invalid configuration ID '\(value)'\n"
        case "pve-configid-list":
            for id in list() where !ParamValidator.matches("[a-z][a-z_\\-0-9]*", id) {
                return "invalid configuration ID '\(id)'\n"
            }
            return nil
        case "pve-tag-list":
            for tag in list(",; ") where !ParamValidator.matches("[a-zA-Z0-9_][a-zA-Z0-9_\\-+.]*", tag) {
                return "invalid tag '\(tag)'\n"
            }
            return nil
        case "pve-poolid":
            return ParamValidator.matches("[A-Za-z0-9_\\-]+(/[A-Za-z0-9_\\-]+){0,2}", value)
                ? nil : "invalid pool ID '\(value)'\n"
        case "mac-addr":
            return ParamValidator.matches("[a-fA-F0-9]{2}(:[a-fA-F0-9]{2}){5}", value)
                ? nil : "value does not look like a valid MAC address\n"
        case "pve-bridge-id":
            return ParamValidator.matches("[-_.\\w\\d]+", value) ? nil : "invalid bridge ID '\(value)'\n"
        case "pve-hotplug-features":
            if ["0", "1"].contains(value) { return nil }
            for f in list(",") where !["network", "disk", "cpu", "memory", "usb", "cloudinit"].contains(f) {
                return "invalid hotplug feature '\(f)'\n"
            }
            return nil
        case "pve-userid":
            return ParamValidator.matches("[^\\s:/]+@[A-Za-z][A-Za-z0-9.\\-_]+", value)
                ? nil : "value '\(value)' does not look like a valid user name\n"
        case "pve-realm":
            return ParamValidator.matches("[A-Za-z][A-Za-z0-9.\\-_]+", value)
                ? nil : "value '\(value)' does not look like a valid realm\n"
        case "pve-storage-id-list":
            for s in list() where check("pve-storage-id", s) != nil {
                return "storage ID '\(s)' contains illegal characters\n"
            }
            return nil
        case "ipv4", "ipv6", "ip":
            return value.contains(".") || value.contains(":") ? nil : "value does not look like a valid IP address\n"
        default:
            return nil
        }
    }
}
