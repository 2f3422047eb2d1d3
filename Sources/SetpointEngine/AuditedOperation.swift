public import SetpointCore
public import SetpointState

/// An operation made by hand on a managed system (a failover, a reinit): under the state's lease — never beside an
/// apply, a backup or a controller's pass — and recorded in the audit log however it ends: `succeeded` with what it
/// reports, `failed` with the error.
public enum AuditedOperation {
    /// The operation failed, or its record could not be written (recorded as `failed` if the log takes it); the lease
    /// failing is thrown as it is.
    public struct Failed: Error, CustomStringConvertible {
        public var underlying: any Error
        public var description: String { "\(underlying)" }
    }

    /// Runs `body` holding the lease and records it as `event` with `detail` and what `body` returns.
    public static func run(
        store: any StateStore,
        event: AuditEvent,
        actor: String,
        clock: any SetpointClock,
        detail: [String: Value],
        whenHeld: String,
        _ body: () async throws -> [String: Value]
    ) async throws -> [String: Value] {
        try await LeaseKeeper.holding(store, timeout: .zero, clock: clock, whenHeld: whenHeld) {
            try await record(store: store, event: event, actor: actor, clock: clock, detail: detail, body)
        }
    }

    /// Runs `body` and records it, for a caller that already holds the lease (the leading controller).
    public static func record(
        store: any StateStore,
        event: AuditEvent,
        actor: String,
        clock: any SetpointClock,
        detail: [String: Value],
        _ body: () async throws -> [String: Value]
    ) async throws -> [String: Value] {
        let audit = AuditTrail(log: store, actor: actor, clock: clock)
        do {
            let outcome = try await body()
            try await audit.record(event, result: "succeeded", detail: .map(detail.merging(outcome) { _, b in b }))
            return outcome
        } catch {
            var recorded = detail
            recorded["error"] = .string("\(error)")
            _ = try? await audit.record(event, result: "failed", detail: .map(recorded))
            throw Failed(underlying: error)
        }
    }
}
