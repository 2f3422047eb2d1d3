import Foundation
import SetpointBackup
import Testing

/// Target times as operators paste them (PostgreSQL's `now()`, ISO 8601), read to the microsecond, without a server.
@Suite(.timeLimit(.minutes(2))) struct RecoveryTargetTests {
    @Test func microsecondsAndZonesSurvive() throws {
        #expect(
            try #require(RecoveryTarget("2026-12-06 14:23:03.684922+00")).pgBackRest == "2026-12-06 14:23:03.684922+00"
        )
        #expect(try #require(RecoveryTarget("2026-12-06T10:15:00Z")).pgBackRest == "2026-12-06 10:15:00.000000+00")
        #expect(
            try #require(RecoveryTarget("2026-12-06 11:15:00.5+0100")).pgBackRest == "2026-12-06 10:15:00.500000+00"
        )
        #expect(
            try #require(RecoveryTarget("2026-12-06 10:15:00")).pgBackRest == "2026-12-06 10:15:00.000000+00",
            "UTC without a zone"
        )
    }

    @Test func notATimeIsRefused() {
        #expect(RecoveryTarget("yesterday") == nil)
        #expect(RecoveryTarget("2026-13-06 10:15:00") == nil)
    }
}
