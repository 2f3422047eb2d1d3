import Foundation
import SetpointPG
import Testing

/// SetpointPG against a real PostgreSQL 15.
@Suite(.timeLimit(.minutes(2)), .enabled(if: PGServer.enabled, "needs the PostgreSQL that scripts/test starts"))
struct PGConnectionTests {
    @Test func parameterisedQueriesReturnTypedRows() async throws {
        let db = try await PGServer.connect()
        defer { db.close() }
        #expect(db.serverVersion >= 150000)
        let r = try await db.query(
            "SELECT name, setting, context FROM pg_settings WHERE name = ANY($1::text[]) ORDER BY name",
            ["{max_connections,work_mem}"]
        )
        #expect(r.columns == ["name", "setting", "context"])
        #expect(r.records.map { $0["name"] } == ["max_connections", "work_mem"])
        #expect(r.first?.int("setting") ?? 0 > 0)
        #expect(r.first?["context"] == "postmaster")
        let typed = try await db.query(
            "SELECT $1::int + 1 AS n, $2::bool AS b, NULL::text AS nothing, 2.5::float8 AS d",
            ["41", "true"]
        )
        let row = try #require(typed.first)
        #expect(row.int("n") == 42 && row.bool("b") == true && row["nothing"] == nil && row.double("d") == 2.5)
        let inRecovery = try await db.query("SELECT pg_is_in_recovery() AS r")
        #expect(inRecovery.first?.bool("r") == false)
    }

    @Test func valuesAreParametersNeverSQL() async throws {
        let db = try await PGServer.connect()
        defer { db.close() }
        let hostile = "x'); DROP TABLE pg_class; --"
        let echoed = try await db.query("SELECT $1::text AS v", [hostile])
        #expect(echoed.first?["v"] == hostile)
        // Where SQL cannot take a parameter (identifiers, ALTER SYSTEM values), quoting keeps values values.
        let table = "weird \"table\" name"
        _ = try await db.query("CREATE TEMP TABLE \(try PGQuote.identifier(table)) (v text)")
        _ = try await db.query(
            "INSERT INTO \(try PGQuote.identifier(table)) VALUES (\(try PGQuote.literal("it's a \\ path")))"
        )
        let back = try await db.query("SELECT v FROM \(try PGQuote.identifier(table))")
        #expect(back.first?["v"] == "it's a \\ path")
        #expect(throws: PGQuoteError.self) { try PGQuote.literal("nul\0byte") }
    }

    @Test func serverErrorsCarrySQLStateAndMessage() async throws {
        let db = try await PGServer.connect()
        defer { db.close() }
        do {
            _ = try await db.query("SELEC 1")
            Issue.record("a syntax error must throw")
        } catch let error as PGError {
            #expect(error.sqlState == "42601")
            #expect(error.severity == "ERROR")
            #expect(error.message.contains("syntax error"))
        }
        do {
            _ = try await db.query("SELECT 1/0")
            Issue.record("division by zero must throw")
        } catch let error as PGError {
            #expect(error.sqlState == "22012" && error.message == "division by zero")
        }
        // The connection is still usable after an error.
        #expect(try await db.query("SELECT 1 AS one").first?.int("one") == 1)
    }

    @Test func aWrongPasswordIsAClearErrorThatNeverShowsThePassword() async throws {
        let secret = "wrong-\(UUID().uuidString)"
        do {
            _ = try await PGConnection.connect(try PGServer.config(password: secret))
            Issue.record("a wrong password must be refused")
        } catch let error as PGError {
            #expect(error.sqlState == "28P01", "\(error)")
            #expect(error.message.contains("password authentication failed"))
            #expect(!"\(error)".contains(secret))
            #expect(!error.isTransient)
        }
    }

    @Test func anUnreachableServerIsATransientConnectionError() async throws {
        var config = try PGServer.config()
        config.port = 1
        config.connectTimeoutSeconds = 2
        do {
            _ = try await PGConnection.connect(config)
            Issue.record("nothing listens on port 1")
        } catch let error as PGError {
            #expect(error.severity == "CONNECTION" && error.isTransient)
            #expect(error.endpoint == "127.0.0.1:1")
        }
    }

    @Test func simpleQueriesRunSeveralStatements() async throws {
        let db = try await PGServer.connect()
        defer { db.close() }
        let results = try await db.simpleQuery("SELECT 1 AS a; SELECT 'two' AS b; SHOW server_version_num")
        #expect(results.count == 3)
        #expect(results[1].first?["b"] == "two")
        #expect(results[2].first?.int("server_version_num") ?? 0 >= 150000)
    }

    @Test func manyConnectionsWorkAtOnceWithoutBlockingTheCooperativePool() async throws {
        // Eight connections each sleeping in the server: they all finish, which they could not if libpq's blocking
        // calls held the (two) threads of the cooperative pool.
        let results = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<8 {
                group.addTask {
                    let db = try await PGServer.connect()
                    defer { db.close() }
                    return try await db.query("SELECT pg_sleep(0.2), $1::int AS i", [String(i)]).first?.int("i") ?? -1
                }
            }
            var seen: [Int] = []
            for try await i in group { seen.append(i) }
            return seen.sorted()
        }
        #expect(results == Array(0..<8))
    }

    @Test func aClosedConnectionRefusesWork() async throws {
        let db = try await PGServer.connect()
        db.close()
        await #expect(throws: PGError.self) { try await db.query("SELECT 1") }
    }
}
