import Foundation
public import SetpointCore
public import SetpointState

/// Takes a state store's apply lease for one apply, keeps it renewed, and gives it back.
///
/// A second apply waits up to `timeout` for the lease, or fails naming the holder (host, pid, since when). A
/// holder that died without releasing it is recognised two ways: its lease expires (`ttl` after its last renewal),
/// and a holder on this host whose process no longer exists is broken at once.
public final class LeaseKeeper: Sendable {
    public let holder: LeaseHolder
    private let store: any ApplyLease
    private let ttl: Duration
    private let renewal: Task<Void, Never>

    private init(holder: LeaseHolder, store: any ApplyLease, ttl: Duration, renewal: Task<Void, Never>) {
        self.holder = holder
        self.store = store
        self.ttl = ttl
        self.renewal = renewal
    }

    /// Acquires the lease, waiting up to `timeout`.
    /// - Throws: `SetpointError(.leaseHeld, …)` naming the holder when it stays held.
    /// - Parameter onLost: called when a renewal finds the lease taken by someone else (this process was paused past
    ///   the lease's expiry): the apply must stop starting actions.
    public static func acquire(
        _ store: any ApplyLease,
        timeout: Duration,
        ttl: Duration = .seconds(30),
        clock: any SetpointClock = SystemClock(),
        onLost: @escaping @Sendable () -> Void = {}
    ) async throws -> LeaseKeeper {
        let id = UUID().uuidString
        let host = ProcessInfo.processInfo.hostName
        let pid = ProcessInfo.processInfo.processIdentifier
        let since = Timestamp.milliseconds(clock.now)
        let deadline = clock.elapsed + timeout
        while true {
            let now = clock.now
            let candidate = LeaseHolder(
                id: id,
                host: host,
                pid: pid,
                since: since,
                expiresAt: Timestamp.milliseconds(now.addingTimeInterval(ttl.inSeconds))
            )
            guard let current = try await store.acquireLease(candidate, now: Timestamp.milliseconds(now)) else {
                let renewal = Task.detached {
                    while !Task.isCancelled {
                        try? await clock.sleep(for: ttl / 3)
                        if Task.isCancelled { break }
                        var renewed = candidate
                        renewed.expiresAt = Timestamp.milliseconds(clock.now.addingTimeInterval(ttl.inSeconds))
                        if (try? await store.renewLease(renewed)) == false {
                            onLost()
                            break
                        }
                    }
                }
                return LeaseKeeper(holder: candidate, store: store, ttl: ttl, renewal: renewal)
            }
            if current.host == host, current.pid != pid, kill(current.pid, 0) != 0, errno == ESRCH {
                // The holder died on this host without releasing the lease: break it.
                try await store.releaseLease(id: current.id)
                continue
            }
            if clock.elapsed >= deadline {
                throw SetpointError(
                    .leaseHeld,
                    "another apply holds the state lease: \(current) (until \(current.expiresAt) unless renewed); "
                        + "wait for it, or retry with --lock-timeout 5m"
                )
            }
            try await clock.sleep(for: min(.milliseconds(250), deadline - clock.elapsed))
        }
    }

    /// Runs `body` holding the store's apply lease, and gives the lease back afterwards whatever `body` does: the one
    /// way commands hold it. When someone else holds it past `timeout`, throws `.leaseHeld` naming the holder, with
    /// `whenHeld` added (who usually holds it, and what to do).
    public static func holding<T>(
        _ store: any ApplyLease,
        timeout: Duration,
        ttl: Duration = .seconds(30),
        clock: any SetpointClock = SystemClock(),
        whenHeld: String? = nil,
        onLost: @escaping @Sendable () -> Void = {},
        _ body: () async throws -> T
    ) async throws -> T {
        let lease: LeaseKeeper
        do {
            lease = try await acquire(store, timeout: timeout, ttl: ttl, clock: clock, onLost: onLost)
        } catch let error as SetpointError where error.code == .leaseHeld && whenHeld != nil {
            throw SetpointError(.leaseHeld, "\(error.message) (\(whenHeld!))")
        }
        do {
            let result = try await body()
            await lease.release()
            return result
        } catch {
            await lease.release()
            throw error
        }
    }

    /// Stops renewing and releases the lease.
    public func release() async {
        renewal.cancel()
        try? await store.releaseLease(id: holder.id)
    }
}
