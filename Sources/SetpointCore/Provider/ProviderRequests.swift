import Synchronization

/// Requests providers send to the systems they manage (PVE API calls, Prometheus and Alertmanager calls, PostgreSQL
/// connections), by system, and how many failed: the controller's `setpoint_provider_requests_total` and
/// `setpoint_provider_errors_total`. Counting only; nothing here talks to anything.
public final class ProviderRequests: Sendable {
    public struct Count: Sendable, Equatable {
        public var requests = 0
        public var errors = 0
    }

    public static let shared = ProviderRequests()
    private let counts = Mutex<[String: Count]>([:])

    public init() {}

    public func record(_ system: String, ok: Bool) {
        counts.withLock { c in
            c[system, default: Count()].requests += 1
            if !ok { c[system, default: Count()].errors += 1 }
        }
    }

    public var snapshot: [String: Count] { counts.withLock { $0 } }
}
