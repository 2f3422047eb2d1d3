import SetpointCore
import SetpointTesting
import Testing

@testable import SetpointState

/// The reader behind the stored specs: exact for canonical text, strict about anything else.
@Suite(.timeLimit(.minutes(2))) struct CanonicalJSONReaderTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let text: String
        let value: Value?  // nil: malformed
        let reason: String
        var testDescription: String { "\(text): \(reason)" }
    }

    static let cases: [Case] = [
        Case(text: "1", value: .int(1), reason: "an integer stays an integer"),
        Case(text: "1.0", value: .double(1.0), reason: "a whole double stays a double"),
        Case(text: "1e+18", value: .double(1e18), reason: "an exponent makes a double"),
        Case(text: "-9223372036854775808", value: .int(.min), reason: "the smallest Int64"),
        Case(text: "9223372036854775808", value: nil, reason: "an integer beyond Int64 is not silently a double"),
        Case(text: #"{"$secretEnv":"PVE_TOKEN"}"#, value: .secret(.env("PVE_TOKEN")), reason: "a secret reference"),
        Case(
            text: #"{"$secretEnv":"A","x":1}"#,
            value: .m(["$secretEnv": .string("A"), "x": .int(1)]),
            reason: "the marker alone makes a reference"
        ),
        Case(text: #""\u00e9\ud83d\ude80\/""#, value: .string("é🚀/"), reason: "escapes and surrogate pairs"),
        Case(
            text: " [ 1 , { \"a\" : null } ] ",
            value: .list([.int(1), .m(["a": .null])]),
            reason: "spaces are allowed"
        ),
        Case(text: "", value: nil, reason: "empty text"),
        Case(text: "[1,]", value: nil, reason: "trailing comma"),
        Case(text: "{\"a\":1", value: nil, reason: "unterminated object"),
        Case(text: "\"abc", value: nil, reason: "unterminated string"),
        Case(text: "1 2", value: nil, reason: "text after the value"),
        Case(text: "tru", value: nil, reason: "truncated literal"),
        Case(text: "1e999", value: nil, reason: "a double that is not finite"),
        Case(text: #""\ud83d""#, value: nil, reason: "a lone high surrogate"),
    ]

    @Test(arguments: cases)
    func reads(_ c: Case) throws {
        if let value = c.value {
            #expect(try CanonicalJSONReader.value(from: c.text) == value)
        } else {
            #expect(throws: CanonicalJSONReader.Malformed.self) { try CanonicalJSONReader.value(from: c.text) }
        }
    }

    @Test func readsBackWhatCanonicalJSONWrites() throws {
        let spec = StateStoreConformanceTests.nestedSpec
        #expect(try CanonicalJSONReader.value(from: CanonicalJSON.encode(spec)) == spec)
    }
}
