import FoundationEssentials
import SetpointCore
import Testing

/// Times become text in one place, ISO 8601 in UTC, and read back.
@Suite(.timeLimit(.minutes(1))) struct TimestampTests {
    @Test func bothFormsAreUTCAndReadBack() throws {
        let date = Date(timeIntervalSince1970: 1_796_637_600.123)
        #expect(Timestamp.seconds(date) == "2026-12-07T10:00:00Z")
        #expect(Timestamp.milliseconds(date) == "2026-12-07T10:00:00.123Z")
        let back = try #require(Timestamp.parse("2026-12-07T10:00:00.123Z"))
        #expect(abs(back.timeIntervalSince1970 - 1_796_637_600.123) < 0.0005)
        #expect(Timestamp.parse("2026-12-07T10:00:00Z")?.timeIntervalSince1970 == 1_796_637_600)
        #expect(Timestamp.parse("7 Dec 2026") == nil && Timestamp.parse("") == nil)
    }
}
