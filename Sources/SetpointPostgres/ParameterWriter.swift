public import SetpointCore
import SetpointPG

/// Writes server parameters the way PostgreSQL wants them changed from outside: `ALTER SYSTEM SET` (or `RESET`),
/// then `pg_reload_conf()`, then a look at `pg_settings` to tell which took effect and which wait for a restart.
public struct ParameterWriter: Sendable {
    /// What became of one parameter.
    public enum Outcome: Sendable, Equatable {
        /// The running value is the one written.
        case live
        /// Written to `postgresql.auto.conf`; a `postmaster` parameter takes it at the next restart.
        case pendingRestart
    }

    /// Re-reads of `pg_settings` wait on it.
    public let clock: any SetpointClock

    public init(clock: any SetpointClock = SystemClock()) { self.clock = clock }

    /// - Parameter changes: name → value to set, or nil to `RESET` it (back to the config files' or built-in value).
    /// - Throws: `PGError` as PostgreSQL words it (`42704` unknown parameter, `22023` invalid value); PostgreSQL checks
    ///   each `ALTER SYSTEM` before writing it, so a refused value leaves the file as it was.
    public func apply(_ changes: [String: String?], on db: PGConnection) async throws -> [String: Outcome] {
        for name in changes.keys.sorted() {
            let target = try PGQuote.identifier(name)
            if let value = changes[name]! {
                _ = try await db.query("ALTER SYSTEM SET \(target) = \(try PGQuote.literal(value))")
            } else {
                _ = try await db.query("ALTER SYSTEM RESET \(target)")
            }
        }
        _ = try await db.query("SELECT pg_reload_conf()")
        // The postmaster applies a reload asynchronously: wait until every written value shows or is marked pending.
        var outcomes: [String: Outcome] = [:]
        for _ in 0..<100 {
            let rows = try await db.query(
                "SELECT name, setting, unit, pending_restart FROM pg_settings WHERE name = ANY($1::text[])",
                ["{" + changes.keys.sorted().map { "\"\($0)\"" }.joined(separator: ",") + "}"]
            )
            outcomes = [:]
            for r in rows.records {
                guard let name = r["name"], let change = changes[name] else { continue }
                if r.bool("pending_restart") == true {
                    outcomes[name] = .pendingRestart
                } else if let wanted = change {
                    if ParameterValues.equivalent(wanted, r["setting"] ?? "", unit: r["unit"]) {
                        outcomes[name] = .live
                    }
                } else {
                    outcomes[name] = .live
                }
            }
            if outcomes.count == changes.count { return outcomes }
            try await clock.sleep(for: .milliseconds(20))
        }
        return outcomes
    }
}
