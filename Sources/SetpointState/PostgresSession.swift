import Foundation
import SetpointPG
import Synchronization

/// One PostgreSQL connection used by one task at a time (a FIFO async lock), reconnected after it broke. Transactions
/// run under the lock from BEGIN to COMMIT.
final class PostgresSession: Sendable {
    let config: PGConfig
    private let lock = AsyncLock()
    private let state = Mutex<PGConnection?>(nil)

    init(config: PGConfig) {
        self.config = config
    }

    func close() {
        state.withLock { c in
            c?.close()
            c = nil
        }
    }

    /// Runs `body` with the connection, alone.
    func withConnection<T: Sendable>(_ body: @Sendable (PGConnection) async throws -> T) async throws -> T {
        await lock.lock()
        do {
            let db = try await connection()
            let result = try await body(db)
            await lock.unlock()
            return result
        } catch {
            if let pg = error as? PGError, pg.severity == "CONNECTION" || pg.sqlState.hasPrefix("08") { close() }
            await lock.unlock()
            throw error
        }
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    func transaction<T: Sendable>(_ body: @Sendable (PGConnection) async throws -> T) async throws -> T {
        try await withConnection { db in
            _ = try await db.query("BEGIN")
            do {
                let result = try await body(db)
                _ = try await db.query("COMMIT")
                return result
            } catch {
                _ = try? await db.query("ROLLBACK")
                throw error
            }
        }
    }

    private func connection() async throws -> PGConnection {
        if let c = state.withLock({ $0 }) { return c }
        let c = try await PGConnection.connect(config)
        state.withLock { $0 = c }
        return c
    }
}

/// A FIFO lock for async code (an actor alone would let other calls in at every await).
actor AsyncLock {
    private var locked = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func lock() async {
        if !locked {
            locked = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func unlock() {
        if waiters.isEmpty { locked = false } else { waiters.removeFirst().resume() }
    }
}
