/// A duration as written in a manifest, Prometheus style: `30s`, `5m`, `1h30m`, `7d`, `250ms`, `2w`.
///
/// Units: `ms s m h d w` (a day is 24 h, a week 7 d). Units must be in decreasing order and not repeat.
public struct DurationValue: Sendable, Hashable, Codable, CustomStringConvertible {
    public var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    public var duration: Duration { .milliseconds(milliseconds) }

    /// The JSON Schema pattern for the same syntax: units largest first, each at most once.
    public static let pattern = "^(?=[0-9])([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?$"

    static let units: [(suffix: String, ms: Int64)] = [
        ("w", 604_800_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1),
    ]

    /// Parses a duration; nil when malformed (empty, unknown unit, units out of order).
    public static func parse(_ text: String) -> DurationValue? {
        let utf8 = Array(text.utf8)
        guard !utf8.isEmpty else { return nil }
        var i = 0
        var total: Int64 = 0
        var lastRank = -1
        while i < utf8.count {
            var n: Int64 = 0
            var digits = 0
            while i < utf8.count, utf8[i] >= 48, utf8[i] <= 57 {
                let (m, o1) = n.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int64(utf8[i] - 48))
                if o1 || o2 { return nil }
                n = a
                i += 1
                digits += 1
            }
            guard digits > 0 else { return nil }
            var j = i
            while j < utf8.count, !(utf8[j] >= 48 && utf8[j] <= 57) { j += 1 }
            let suffix = String(decoding: utf8[i..<j], as: UTF8.self)
            guard let rank = units.firstIndex(where: { $0.suffix == suffix }), rank > lastRank else { return nil }
            lastRank = rank
            let (m, o1) = n.multipliedReportingOverflow(by: units[rank].ms)
            let (a, o2) = total.addingReportingOverflow(m)
            if o1 || o2 { return nil }
            total = a
            i = j
        }
        return DurationValue(milliseconds: total)
    }

    /// Canonical text: `1h30m`, `5m`, `0s`.
    public var description: String {
        guard milliseconds > 0 else { return "0s" }
        var rest = milliseconds
        var out = ""
        for (suffix, ms) in DurationValue.units where rest >= ms {
            out += "\(rest / ms)\(suffix)"
            rest %= ms
        }
        return out
    }

    public init(from decoder: any Decoder) throws {
        milliseconds = try decoder.singleValueContainer().decode(Int64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(milliseconds)
    }
}
