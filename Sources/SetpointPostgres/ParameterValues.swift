import Foundation

/// PostgreSQL parameter values compared as PostgreSQL means them: `16MB` ≡ `16384kB` ≡ `16384` (for a kB
/// parameter), `1min` ≡ `60s`, `on` ≡ `true`.
public enum ParameterValues {
    static let memoryUnits: [(String, Double)] = [
        ("TB", 1_099_511_627_776), ("GB", 1_073_741_824), ("MB", 1_048_576), ("kB", 1024), ("B", 1),
    ]
    static let timeUnits: [(String, Double)] = [
        ("us", 1e-6), ("ms", 1e-3), ("min", 60), ("s", 1), ("h", 3600), ("d", 86_400),
    ]

    /// The bytes or seconds a value means, given the parameter's unit in `pg_settings` (`8kB`, `kB`, `ms`, `s` …);
    /// nil when the value is not a number with an optional unit.
    public static func magnitude(_ value: String, unit: String?) -> Double? {
        let text = value.trimmingCharacters(in: .whitespaces)
        let digits = text.prefix { $0.isNumber || $0 == "." || $0 == "-" }
        guard let number = Double(digits) else { return nil }
        let suffix = text.dropFirst(digits.count).trimmingCharacters(in: .whitespaces)
        let table = unit.map { u in memoryUnits.contains { u.hasSuffix($0.0) } } == true ? memoryUnits : timeUnits
        if suffix.isEmpty {
            // A bare number is in the parameter's own unit (`8kB` blocks, `kB`, `ms` …).
            guard let unit else { return number }
            let count = Double(unit.prefix { $0.isNumber }) ?? 1
            let base = String(unit.drop { $0.isNumber })
            guard let factor = (memoryUnits + timeUnits).first(where: { $0.0 == base })?.1 else { return number }
            return number * count * factor
        }
        guard let factor = table.first(where: { $0.0 == suffix })?.1 else { return nil }
        return number * factor
    }

    /// Whether two values of one parameter mean the same.
    public static func equivalent(_ a: String, _ b: String, unit: String?) -> Bool {
        if a == b { return true }
        if let x = boolean(a), let y = boolean(b) { return x == y }
        if let x = magnitude(a, unit: unit), let y = magnitude(b, unit: unit) {
            return abs(x - y) < 1e-9 * max(1, abs(x))
        }
        return a.lowercased() == b.lowercased() && !a.contains("'")
    }

    /// A running value as people write it: `16384` of unit `8kB` is `128MB`, `300` of `s` is `5min`.
    public static func display(_ setting: String, unit: String?) -> String {
        guard let unit, let value = magnitude(setting, unit: unit), value == value.rounded(), value >= 0 else {
            return setting
        }
        let isMemory = memoryUnits.contains { unit.hasSuffix($0.0) }
        let table: [(String, Double)] =
            isMemory
            ? [("TB", 1_099_511_627_776), ("GB", 1_073_741_824), ("MB", 1_048_576), ("kB", 1024), ("B", 1)]
            : [("d", 86_400), ("h", 3600), ("min", 60), ("s", 1), ("ms", 1e-3)]
        if value == 0 { return "0" }
        for (name, factor) in table {
            let n = value / factor
            if n >= 1, abs(n - n.rounded()) < 1e-9, let whole = Int64(exactly: n.rounded()) { return "\(whole)\(name)" }
        }
        return setting
    }

    static func boolean(_ s: String) -> Bool? {
        switch s.lowercased() {
        case "on", "true", "yes", "1": true
        case "off", "false", "no", "0": false
        default: nil
        }
    }

    /// `synchronous_standby_names` for `count` of these standbys: `ANY 1 ("pg_2", "pg_3")`, or empty for none.
    public static func synchronousStandbyNames(count: Int, standbys: [String]) -> String {
        guard count > 0, !standbys.isEmpty else { return "" }
        let names = standbys.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(
            separator: ", "
        )
        return "ANY \(count) (\(names))"
    }
}
