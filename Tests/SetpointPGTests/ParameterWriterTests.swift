import SetpointPG
import SetpointPostgres
import Testing

/// ALTER SYSTEM + reload on a real PostgreSQL 15.
@Suite(.timeLimit(.minutes(2)), .enabled(if: PGServer.enabled, "needs PostgreSQL 15 (scripts/test)"))
struct ParameterWriterTests {
    @Test func aReloadParameterIsLiveAndAPostmasterOneWaitsForARestart() async throws {
        try await PGTestCluster.with { cluster in
            let db = try await PGConnection.connect(cluster.primaryConfig)
            defer { db.close() }
            let outcomes = try await ParameterWriter().apply(
                [
                    "work_mem": "16MB", "log_min_duration_statement": "250ms",
                    "max_connections": "150",
                ],
                on: db
            )
            #expect(
                outcomes == [
                    "work_mem": .live, "log_min_duration_statement": .live, "max_connections": .pendingRestart,
                ]
            )
            let other = try await PGConnection.connect(cluster.primaryConfig)
            defer { other.close() }
            // pg_reload_conf() only signals the postmaster, which reloads and signals the sessions: poll briefly.
            #expect(try await Self.eventually(other, "16MB") == "16MB", "a new session sees the reloaded value")
            // RESET goes back to the built-in value.
            #expect(try await ParameterWriter().apply(["work_mem": nil], on: db) == ["work_mem": .live])
            #expect(try await Self.eventually(other, "4MB") == "4MB")
        }
    }

    /// `SHOW work_mem` on `db` until it says `value` (at most 5 s); the last answer.
    static func eventually(_ db: PGConnection, _ value: String) async throws -> String? {
        var got: String?
        for _ in 0..<50 {
            got = try await db.query("SHOW work_mem").first?["work_mem"]
            if got == value { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        return got
    }

    @Test func anUnknownParameterOrABadValueIsPostgreSQLsErrorAndChangesNothing() async throws {
        try await PGTestCluster.with { cluster in
            let db = try await PGConnection.connect(cluster.primaryConfig)
            defer { db.close() }
            do {
                _ = try await ParameterWriter().apply(["work_meme": "16MB"], on: db)
                Issue.record("an unknown parameter must be refused")
            } catch let error as PGError {
                #expect(error.sqlState == "42704" && error.message.contains("work_meme"), "\(error)")
            }
            do {
                _ = try await ParameterWriter().apply(["work_mem": "lots"], on: db)
                Issue.record("a bad value must be refused")
            } catch let error as PGError {
                #expect(error.sqlState == "22023" && error.message.contains("work_mem"), "\(error)")
            }
            let file = try await db.query(
                "SELECT count(*) AS n FROM pg_file_settings WHERE sourcefile LIKE '%postgresql.auto.conf'"
            )
            #expect(file.first?.int("n") == 0, "postgresql.auto.conf holds nothing")
            // A value that would break SQL if spliced in stays a value.
            let outcomes = try await ParameterWriter().apply(["application_name": "it's \\ fine"], on: db)
            #expect(outcomes["application_name"] == .live)
        }
    }
}
