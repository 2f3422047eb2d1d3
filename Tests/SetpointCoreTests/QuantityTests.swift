import SetpointCore
import Testing

@Suite(.timeLimit(.minutes(2))) struct QuantityTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let text: String
        let bytes: Int64?
        let error: Quantity.ParseError?
        let reason: String
        var testDescription: String { "\(text): \(reason)" }
    }

    static let cases: [Case] = [
        Case(text: "4Gi", bytes: 4 << 30, error: nil, reason: "binary gibibytes"),
        Case(text: "512Mi", bytes: 512 << 20, error: nil, reason: "binary mebibytes"),
        Case(text: "1Ki", bytes: 1024, error: nil, reason: "binary kibibyte"),
        Case(text: "2Ti", bytes: 2 << 40, error: nil, reason: "binary tebibytes"),
        Case(text: "32G", bytes: 32_000_000_000, error: nil, reason: "decimal gigabytes are powers of 1000"),
        Case(text: "500M", bytes: 500_000_000, error: nil, reason: "decimal megabytes"),
        Case(text: "10k", bytes: 10_000, error: nil, reason: "lower-case k is decimal kilo"),
        Case(text: "1048576", bytes: 1_048_576, error: nil, reason: "a bare number is bytes"),
        Case(text: "1.5Gi", bytes: 1536 << 20, error: nil, reason: "a fraction that is whole bytes"),
        Case(text: "0.5Ki", bytes: 512, error: nil, reason: "half a kibibyte"),
        Case(text: "1.5", bytes: nil, error: .notWholeBytes, reason: "a fraction of a byte"),
        Case(text: "4Gx", bytes: nil, error: .unknownUnit("Gx"), reason: "unknown unit"),
        Case(text: "4gi", bytes: nil, error: .unknownUnit("gi"), reason: "units are case-sensitive"),
        Case(text: "4K", bytes: nil, error: .unknownUnit("K"), reason: "upper-case K is neither kilo nor kibi"),
        Case(text: "1Pi", bytes: nil, error: .unknownUnit("Pi"), reason: "the units end at Ti/T"),
        Case(text: "4 Gi", bytes: nil, error: .malformed, reason: "no space before the unit"),
        Case(text: "Gi", bytes: nil, error: .malformed, reason: "no number"),
        Case(text: "-1Gi", bytes: nil, error: .malformed, reason: "negative sizes do not exist"),
        Case(text: "1.Gi", bytes: nil, error: .malformed, reason: "a dot needs digits after it"),
        Case(text: "99999999999Ti", bytes: nil, error: .tooLarge, reason: "overflows 64 bits"),
        Case(text: "", bytes: nil, error: .malformed, reason: "empty"),
    ]

    @Test(arguments: cases)
    func parse(_ c: Case) {
        switch Quantity.parse(c.text) {
        case .success(let q):
            #expect(q.bytes == c.bytes, "\(c.reason)")
            #expect(c.error == nil, "\(c.reason): expected \(String(describing: c.error))")
        case .failure(let e):
            #expect(e == c.error, "\(c.reason)")
            #expect(c.bytes == nil, "\(c.reason): expected \(String(describing: c.bytes)) bytes")
        }
    }

    @Test func wholeMebibytesAndDescription() {
        #expect(Quantity(bytes: 4 << 30).isWholeMebibytes)
        #expect(!Quantity(bytes: 32_000_000_000).isWholeMebibytes)
        #expect(Quantity(bytes: 4 << 30).description == "4Gi")
        #expect(Quantity(bytes: 1536 << 20).description == "1536Mi")
        #expect(Quantity(bytes: 1000).description == "1000")
        #expect(Quantity(bytes: 0).description == "0")
    }

    @Test func binarySuggestion() {
        #expect(Quantity.binarySuggestion(for: "32G") == "32Gi")
        #expect(Quantity.binarySuggestion(for: "10k") == "10Ki")
        #expect(Quantity.binarySuggestion(for: "1.5T") == "1.5Ti")
        #expect(Quantity.binarySuggestion(for: "32Gi") == nil)
        #expect(Quantity.binarySuggestion(for: "4096") == nil)
    }
}

@Suite(.timeLimit(.minutes(2))) struct DurationValueTests {
    @Test(arguments: [
        ("30s", Int64(30_000)), ("5m", 300_000), ("1h30m", 5_400_000), ("250ms", 250), ("7d", 604_800_000),
        ("2w", 1_209_600_000), ("1h0m5s", 3_605_000), ("0s", 0),
    ])
    func parses(_ text: String, _ ms: Int64) {
        #expect(DurationValue.parse(text)?.milliseconds == ms)
    }

    @Test(arguments: ["", "5", "5 min", "5min", "m", "1h-", "5m1h", "1s1s", "1.5h", "-5m", "5M"])
    func rejects(_ text: String) {
        #expect(DurationValue.parse(text) == nil, "'\(text)' must not parse")
    }

    @Test func canonicalText() {
        #expect(DurationValue(milliseconds: 5_400_000).description == "1h30m")
        #expect(DurationValue(milliseconds: 0).description == "0s")
        #expect(DurationValue(milliseconds: 86_400_000 * 30).description == "4w2d")
    }
}

@Suite(.timeLimit(.minutes(2))) struct ResourceIDTests {
    @Test func parsesAndPrints() throws {
        let id = try #require(ResourceID(parsing: "VirtualMachine/api-1"))
        #expect(id.kind == .virtualMachine)
        #expect(id.name == "api-1")
        #expect(id.description == "VirtualMachine/api-1")
        #expect(ResourceID(parsing: "VirtualMachine") == nil)
        #expect(ResourceID(parsing: "/api-1") == nil)
        #expect(ResourceID(parsing: "A/b/c") == nil)
    }

    @Test func ordersByKindThenName() {
        let ids = [
            ResourceID(kind: .virtualMachine, name: "b"), ResourceID(kind: .container, name: "z"),
            ResourceID(kind: .virtualMachine, name: "a"),
        ]
        #expect(ids.sorted().map(\.description) == ["Container/z", "VirtualMachine/a", "VirtualMachine/b"])
    }
}
