import CLibPQ
import Foundation
import Synchronization

/// One PostgreSQL connection. libpq is blocking, so each connection has a thread of its own that runs its calls in
/// order; callers await them, and Swift's cooperative pool never blocks.
///
/// ```swift
/// let db = try await PGConnection.connect(PGConfig(host: "127.0.0.1", port: 5432, user: "postgres", database: "postgres"))
/// let r = try await db.query("SELECT name, setting, context FROM pg_settings WHERE name = $1", ["max_connections"])
/// print(r.first?["setting"] ?? "?")
/// db.close()
/// ```
public final class PGConnection: Sendable {
    private let worker: PGWorker
    public let endpoint: String
    /// `server_version_num`, e.g. 150018.
    public let serverVersion: Int

    private init(worker: PGWorker, endpoint: String, serverVersion: Int) {
        self.worker = worker
        self.endpoint = endpoint
        self.serverVersion = serverVersion
    }

    /// Connects (on the connection's own thread).
    public static func connect(_ config: PGConfig) async throws -> PGConnection {
        let worker = PGWorker()
        let endpoint = config.endpoint
        do {
            let version: Int = try await worker.run { slot in
                let keywords = config.keywords + [("client_encoding", "UTF8")]
                let conn = PGWorker.withCStrings(keywords.map(\.0)) { keys in
                    PGWorker.withCStrings(keywords.map(\.1)) { values in
                        PQconnectdbParams(keys, values, 1)
                    }
                }
                guard let conn else {
                    throw PGError(sqlState: "", severity: "CONNECTION", message: "out of memory", endpoint: endpoint)
                }
                guard PQstatus(conn) == CONNECTION_OK else {
                    let message = String(cString: PQerrorMessage(conn)).trimmingCharacters(in: .whitespacesAndNewlines)
                    PQfinish(conn)
                    throw PGError(
                        sqlState: PGError.sqlState(forConnectionMessage: message),
                        severity: "CONNECTION",
                        message: message,
                        endpoint: endpoint
                    )
                }
                slot = conn
                return Int(PQserverVersion(conn))
            }
            return PGConnection(worker: worker, endpoint: endpoint, serverVersion: version)
        } catch {
            worker.stop()
            throw error
        }
    }

    /// Runs one statement with `$1 …` parameters (extended protocol, text format). Values are sent apart from the
    /// SQL, never spliced into it.
    public func query(_ sql: String, _ parameters: [String?] = []) async throws -> PGResult {
        let endpoint = self.endpoint
        return try await worker.run { slot in
            guard let conn = slot else { throw PGError.closed(endpoint) }
            let result = PGWorker.withOptionalCStrings(parameters) { values in
                PQexecParams(conn, sql, Int32(parameters.count), nil, values, nil, nil, 0)
            }
            return try PGWorker.collect(result, conn: conn, endpoint: endpoint)
        }
    }

    /// Runs SQL with the simple query protocol (what PgBouncer's admin console speaks); several statements give
    /// several results.
    public func simpleQuery(_ sql: String) async throws -> [PGResult] {
        let endpoint = self.endpoint
        return try await worker.run { slot in
            guard let conn = slot else { throw PGError.closed(endpoint) }
            guard PQsendQuery(conn, sql) == 1 else {
                throw PGError(
                    sqlState: "",
                    severity: "CONNECTION",
                    message: String(cString: PQerrorMessage(conn)),
                    endpoint: endpoint
                )
            }
            var results: [PGResult] = []
            var failure: (any Error)?
            while let result = PQgetResult(conn) {
                do { results.append(try PGWorker.collect(result, conn: conn, endpoint: endpoint)) } catch {
                    failure = failure ?? error
                }
            }
            if let failure { throw failure }
            return results
        }
    }

    /// Closes the connection and ends its thread.
    public func close() {
        worker.stop()
    }

    deinit { worker.stop() }
}

extension PGError {
    static func closed(_ endpoint: String) -> PGError {
        PGError(sqlState: "08003", severity: "CONNECTION", message: "the connection is closed", endpoint: endpoint)
    }

    /// libpq reports startup failures as text only: the SQLSTATEs the server would have sent.
    static func sqlState(forConnectionMessage message: String) -> String {
        if message.contains("password authentication failed") || message.contains("no password supplied") {
            return "28P01"
        }
        if message.contains("no pg_hba.conf entry") { return "28000" }
        if message.contains("database") && message.contains("does not exist") { return "3D000" }
        if message.contains("role") && message.contains("does not exist") { return "28000" }
        if message.contains("the database system is starting up") { return "57P03" }
        if message.contains("the database system is shutting down") { return "57P03" }
        return "08001"
    }
}

/// A connection's thread: runs closures one at a time with the connection in `slot`.
final class PGWorker: Sendable {
    private struct Job: @unchecked Sendable {  // `body` runs once, on the worker thread
        let body: (inout OpaquePointer?) -> Void
    }

    private struct State {
        var jobs: [Job] = []
        var stopped = false
    }

    private let state = Mutex(State())
    private let available = DispatchSemaphore(value: 0)

    init() {
        let thread = Thread { [self] in self.loop() }
        thread.name = "setpoint-pg"
        thread.start()
    }

    private func loop() {
        var conn: OpaquePointer?
        while true {
            available.wait()
            let next = state.withLock { s -> (Job?, Bool) in
                s.jobs.isEmpty ? (nil, s.stopped) : (s.jobs.removeFirst(), false)
            }
            if let job = next.0 {
                job.body(&conn)
                continue
            }
            if next.1 { break }
        }
        if let conn { PQfinish(conn) }
    }

    func run<T: Sendable>(_ body: @escaping @Sendable (inout OpaquePointer?) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job = Job { slot in
                do { continuation.resume(returning: try body(&slot)) } catch { continuation.resume(throwing: error) }
            }
            let accepted = state.withLock { s -> Bool in
                guard !s.stopped else { return false }
                s.jobs.append(job)
                return true
            }
            if accepted {
                available.signal()
            } else {
                continuation.resume(
                    throwing: PGError(
                        sqlState: "08003",
                        severity: "CONNECTION",
                        message: "the connection is closed",
                        endpoint: ""
                    )
                )
            }
        }
    }

    func stop() {
        let first = state.withLock { s -> Bool in
            defer { s.stopped = true }
            return !s.stopped
        }
        if first { available.signal() }
    }

    /// Reads a result: rows and command tag, or the server's error fields.
    static func collect(_ result: OpaquePointer?, conn: OpaquePointer, endpoint: String) throws -> PGResult {
        guard let result else {
            throw PGError(
                sqlState: "",
                severity: "CONNECTION",
                message: String(cString: PQerrorMessage(conn)).trimmingCharacters(in: .whitespacesAndNewlines),
                endpoint: endpoint
            )
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY, PGRES_SINGLE_TUPLE:
            let columns = (0..<PQnfields(result)).map { String(cString: PQfname(result, $0)) }
            var rows: [[String?]] = []
            rows.reserveCapacity(Int(PQntuples(result)))
            for r in 0..<PQntuples(result) {
                rows.append(
                    (0..<PQnfields(result)).map { c in
                        PQgetisnull(result, r, c) == 1 ? nil : String(cString: PQgetvalue(result, r, c))
                    }
                )
            }
            return PGResult(columns: columns, rows: rows, commandTag: String(cString: PQcmdStatus(result)))
        default:
            func field(_ code: Int32) -> String? {
                guard let p = PQresultErrorField(result, code) else { return nil }
                return String(cString: p)
            }
            let message =
                field(Int32(UInt8(ascii: "M")))
                ?? String(cString: PQresultErrorMessage(result)).trimmingCharacters(in: .whitespacesAndNewlines)
            throw PGError(
                sqlState: field(Int32(UInt8(ascii: "C"))) ?? "",
                severity: field(Int32(UInt8(ascii: "S"))) ?? "ERROR",
                message: message,
                detail: field(Int32(UInt8(ascii: "D"))),
                hint: field(Int32(UInt8(ascii: "H"))),
                endpoint: endpoint
            )
        }
    }

    static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
        let pointers = strings.map { strdup($0) } + [nil]
        defer { pointers.forEach { free($0) } }
        return pointers.map { UnsafePointer($0) }.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    static func withOptionalCStrings<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R
    {
        let pointers = strings.map { $0.map { strdup($0) } ?? nil }
        defer { pointers.forEach { free($0) } }
        return pointers.map { UnsafePointer($0) }.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}
