import Foundation
import Testing

@testable import SetpointCore

/// Canonical JSON, written byte by byte for speed, says what Foundation's encoder says of the same values (keys sorted,
/// no whitespace), so digests mean what they always meant.
@Suite(.timeLimit(.minutes(1))) struct CanonicalJSONTests {
    @Test(arguments: [Int64.min, -1_000_000_007, -10, -1, 0, 1, 9, 10, 42, 1_000_000, Int64.max])
    func integersAreTheirDecimalDigits(_ n: Int64) {
        #expect(CanonicalJSON.encode(.int(n)) == String(n))
    }

    @Test(arguments: [
        "", "plain", "é中😀", "quote \" and \\ backslash", "line\nfeed\r\ttab", "\u{01}\u{1f}", "/slash", "a\u{7f}b",
    ])
    func stringsAreEscapedAsJSON(_ text: String) throws {
        let encoded = CanonicalJSON.encode(.string(text))
        #expect(try JSONDecoder().decode(String.self, from: Data(encoded.utf8)) == text, "\(encoded)")
        #expect(!encoded.unicodeScalars.dropFirst().dropLast().contains { $0.value < 0x20 })
    }

    @Test func mapsAreSortedByKeyAtEveryLevel() {
        let value: Value = .map([
            "b": .list([.int(2), .map(["z": .null, "a": .bool(true)])]), "a": .string("x"), "é": .int(-3),
            "A": .secret(.env("TOKEN")),
        ])
        #expect(
            CanonicalJSON.encode(value)
                == #"{"A":{"$secretEnv":"TOKEN"},"a":"x","b":[2,{"a":true,"z":null}],"é":-3}"#
        )
    }
}
