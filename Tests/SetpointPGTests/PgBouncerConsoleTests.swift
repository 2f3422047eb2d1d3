import Foundation
import SetpointPG
import SetpointTesting
import Testing

/// SetpointPG against PgBouncer (scripts/test starts it in front of its PostgreSQL): the admin console speaks the
/// simple query protocol only; routes defined in an %include file take effect on RELOAD.
@Suite(
    .timeLimit(.minutes(2)),
    .serialized,
    .enabled(
        if: ProcessInfo.processInfo.environment["SETPOINT_TEST_PGBOUNCER_PORT"] != nil || ExternalTool.isCI,
        "needs the PgBouncer that scripts/test starts"
    )
)
struct PgBouncerConsoleTests {
    static func config(database: String) throws -> PGConfig {
        let port = try #require(
            ProcessInfo.processInfo.environment["SETPOINT_TEST_PGBOUNCER_PORT"].flatMap(Int.init),
            "SETPOINT_TEST_PGBOUNCER_PORT is not set: run the tests through scripts/test"
        )
        return PGConfig(
            host: "127.0.0.1",
            port: port,
            user: "postgres",
            database: database,
            sslmode: "disable",
            connectTimeoutSeconds: 5
        )
    }

    @Test func theAdminConsoleListsDatabasesAndReloadsAnIncludedFile() async throws {
        let dir = try #require(ProcessInfo.processInfo.environment["SETPOINT_TEST_PGBOUNCER_DIR"])
        let console = try await PGConnection.connect(try Self.config(database: "pgbouncer"))
        defer { console.close() }
        let databases = try await console.simpleQuery("SHOW DATABASES")
        let names = databases.first?.records.compactMap { $0["name"] } ?? []
        #expect(names.contains("app") && names.contains("pgbouncer"), "\(names)")
        // A new route in the included file appears on RELOAD.
        let file = dir + "/databases.ini"
        let original = try String(contentsOfFile: file, encoding: .utf8)
        defer { try? original.write(toFile: file, atomically: false, encoding: .utf8) }
        let extra = original.split(separator: "\n").first!.replacingOccurrences(of: "app =", with: "app_extra =")
        try (original + extra + "\n").write(toFile: file, atomically: false, encoding: .utf8)
        _ = try await console.simpleQuery("RELOAD")
        let after = try await console.simpleQuery("SHOW DATABASES").first?.records.compactMap { $0["name"] } ?? []
        #expect(after.contains("app_extra"), "\(after)")
        // The extended protocol is refused by the console, as PgBouncer documents.
        await #expect(throws: PGError.self) { try await console.query("SHOW POOLS") }
    }

    @Test func queriesRunThroughARoute() async throws {
        let app = try await PGConnection.connect(try Self.config(database: "app"))
        defer { app.close() }
        let r = try await app.query("SELECT $1::int * 2 AS doubled, pg_is_in_recovery() AS replica", ["21"])
        #expect(r.first?.int("doubled") == 42 && r.first?.bool("replica") == false)
    }
}
