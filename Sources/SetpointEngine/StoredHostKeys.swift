public import SetpointCore
public import SetpointState

/// Host keys trusted on first use, kept in the state store; each one trusted is written to the audit log with its
/// fingerprint. A read-only store (plan, doctor) reads them and never trusts a new one.
public struct StoredHostKeys: HostKeyTrust {
    public let store: any StateStore
    public let audit: AuditTrail
    /// Whether this process may write the state now: a controller that follows another reads and never trusts.
    let mayTrust: @Sendable () -> Bool

    public init(store: any StateStore, audit: AuditTrail, mayTrust: @escaping @Sendable () -> Bool = { true }) {
        self.store = store
        self.audit = audit
        self.mayTrust = mayTrust
    }

    public var canTrust: Bool { !store.isReadOnly && mayTrust() }

    public func trusted(host: String, endpoint: String) async throws -> [String] {
        try await store.trustedHostKeys(host: host).filter { $0.endpoint == endpoint }.map(\.key)
    }

    public func trust(host: String, endpoint: String, keys: [String], fingerprints: [String]) async throws {
        guard canTrust else {
            throw SetpointError(
                .stateFailed,
                "Host/\(host) (\(endpoint)): this run may not trust a host key (a read-only state, or a controller that follows)"
            )
        }
        let at = Timestamp.milliseconds(audit.clock.now)
        for (i, key) in keys.enumerated() {
            // The audit record first: a key in the state but not in the log would be trusted without a trace.
            try await audit.record(
                .hostKeyTrusted,
                resource: ResourceID(kind: .host, name: host),
                result: "trusted",
                detail: .map([
                    "endpoint": .string(endpoint), "key": .string(key),
                    "fingerprint": .string(i < fingerprints.count ? fingerprints[i] : ""),
                ])
            )
            try await store.recordTrustedHostKey(
                TrustedHostKey(host: host, endpoint: endpoint, key: key, trustedAt: at)
            )
        }
    }
}
