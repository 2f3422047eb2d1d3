/// A size in bytes as written in a manifest: `4Gi`, `512Mi`, `32G`, `1.5Ti`, `1048576`.
///
/// `Ki Mi Gi Ti` are binary (1024ⁿ), `k M G T` decimal (1000ⁿ); a bare number is bytes.
/// A fraction must come out as a whole number of bytes.
public struct Quantity: Sendable, Hashable, Codable, CustomStringConvertible {
    public var bytes: Int64

    public init(bytes: Int64) { self.bytes = bytes }

    public static let mebibyte: Int64 = 1 << 20

    /// Why a text is not a quantity.
    public enum ParseError: Error, Sendable, Equatable {
        case malformed
        case unknownUnit(String)
        case notWholeBytes
        case tooLarge
    }

    static let units: [(suffix: String, factor: Int64)] = [
        ("Ki", 1 << 10), ("Mi", 1 << 20), ("Gi", 1 << 30), ("Ti", 1 << 40),
        ("k", 1_000), ("M", 1_000_000), ("G", 1_000_000_000), ("T", 1_000_000_000_000),
    ]

    /// Parses a quantity. Accepts digits with an optional fraction and one unit suffix.
    public static func parse(_ text: String) -> Result<Quantity, ParseError> {
        let utf8 = Array(text.utf8)
        var i = 0
        var whole: Int64 = 0
        var digits = 0
        while i < utf8.count, utf8[i] >= 48, utf8[i] <= 57 {
            let (m, o1) = whole.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(utf8[i] - 48))
            if o1 || o2 { return .failure(.tooLarge) }
            whole = a
            i += 1
            digits += 1
        }
        guard digits > 0 else { return .failure(.malformed) }
        var fraction: [UInt8] = []
        if i < utf8.count, utf8[i] == 46 {  // "."
            i += 1
            while i < utf8.count, utf8[i] >= 48, utf8[i] <= 57 {
                fraction.append(utf8[i] - 48)
                i += 1
            }
            if fraction.isEmpty { return .failure(.malformed) }
        }
        let suffix = String(decoding: utf8[i...], as: UTF8.self)
        var factor: Int64 = 1
        if !suffix.isEmpty {
            guard let unit = units.first(where: { $0.suffix == suffix }) else {
                return .failure(suffix.allSatisfy(\.isLetter) ? .unknownUnit(suffix) : .malformed)
            }
            factor = unit.factor
        }
        let (base, overflow) = whole.multipliedReportingOverflow(by: factor)
        if overflow { return .failure(.tooLarge) }
        // fraction × factor must be a whole number of bytes
        var numerator: Int64 = 0
        var denominator: Int64 = 1
        for d in fraction {
            guard denominator < 1_000_000_000_000_000 else { return .failure(.notWholeBytes) }
            numerator = numerator * 10 + Int64(d)
            denominator *= 10
        }
        if numerator != 0 {
            let (scaled, o) = numerator.multipliedReportingOverflow(by: factor)
            if o { return .failure(.tooLarge) }
            guard scaled % denominator == 0 else { return .failure(.notWholeBytes) }
            let (sum, o2) = base.addingReportingOverflow(scaled / denominator)
            if o2 { return .failure(.tooLarge) }
            return .success(Quantity(bytes: sum))
        }
        return .success(Quantity(bytes: base))
    }

    /// True when the size is a whole number of MiB, as Proxmox sizes and memory must be.
    public var isWholeMebibytes: Bool { bytes % Quantity.mebibyte == 0 }

    /// The shortest exact binary form: `4Gi`, `1536Mi`, `512Ki`, or bytes.
    public var description: String {
        for (suffix, factor) in [("Ti", Int64(1) << 40), ("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)]
        where bytes != 0 && bytes % factor == 0 {
            return "\(bytes / factor)\(suffix)"
        }
        return String(bytes)
    }

    /// For a decimal size that is not a whole MiB, the binary size the author most likely meant (`32G` → `32Gi`).
    public static func binarySuggestion(for text: String) -> String? {
        guard let last = text.last, "kMGT".contains(last) else { return nil }
        let number = text.dropLast()
        let unit = last == "k" ? "Ki" : "\(last)i"
        return "\(number)\(unit)"
    }

    public init(from decoder: any Decoder) throws {
        bytes = try decoder.singleValueContainer().decode(Int64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(bytes)
    }
}
