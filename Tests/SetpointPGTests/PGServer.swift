import Foundation
import SetpointPG
import SetpointTesting
import Testing

/// The PostgreSQL 15 server scripts/test starts (SETPOINT_TEST_PG_*). Tests that need it are enabled when it is
/// there, and under CI=true always: then a missing server fails them.
enum PGServer {
    static let environment = ProcessInfo.processInfo.environment
    static var isAvailable: Bool { environment["SETPOINT_TEST_PG_PORT"] != nil }
    static var enabled: Bool { isAvailable || ExternalTool.isCI }

    static func config(password: String? = nil, database: String = "postgres") throws -> PGConfig {
        let port = try #require(
            environment["SETPOINT_TEST_PG_PORT"].flatMap(Int.init),
            "SETPOINT_TEST_PG_PORT is not set: run the tests through scripts/test, which starts PostgreSQL"
        )
        return PGConfig(
            host: environment["SETPOINT_TEST_PG_HOST"] ?? "127.0.0.1",
            port: port,
            user: "postgres",
            password: password ?? environment["SETPOINT_TEST_PG_PASSWORD"],
            database: database,
            sslmode: "disable",
            connectTimeoutSeconds: 5,
            applicationName: "setpoint-tests"
        )
    }

    /// A connection, and a database of the test's own (dropped by `cleanup`).
    static func connect() async throws -> PGConnection { try await PGConnection.connect(try config()) }
}
