import Foundation
import SetpointCore
import SetpointEngine
import SetpointState
import SetpointTesting
import Testing

/// The `HostKeyStore` half of the state contract, against every store, and `StoredHostKeys` over it: a key trusted
/// on first use comes back for its Host and endpoint only, once, and is in the audit log first.
@Suite(.timeLimit(.minutes(2))) struct HostKeyStoreTests {
    static func key(
        _ host: String,
        _ endpoint: String,
        _ key: String,
        at: String = "2026-12-07T10:00:00.000Z"
    )
        -> TrustedHostKey
    {
        TrustedHostKey(host: host, endpoint: endpoint, key: key, trustedAt: at)
    }

    @Test(arguments: StoreKind.allCases)
    func keysComeBackPerHostOnce(kind: StoreKind) async throws {
        let folder = try TemporaryFolder()
        let store = try await kind.makeStore(in: folder)
        #expect(try await store.trustedHostKeys(host: "pg-1").isEmpty)
        let a = Self.key("pg-1", "10.0.0.1:22", "ssh-ed25519 AAAAone")
        let b = Self.key("pg-1", "10.0.0.9:22", "ssh-ed25519 AAAAtwo", at: "2026-12-07T11:00:00.000Z")
        let c = Self.key("pg-2", "10.0.0.2:22", "ssh-ed25519 AAAAthree")
        for k in [a, b, c] { try await store.recordTrustedHostKey(k) }
        // Again, later: the first time it was trusted stays.
        try await store.recordTrustedHostKey(
            Self.key("pg-1", "10.0.0.1:22", "ssh-ed25519 AAAAone", at: "2026-12-08T00:00:00.000Z")
        )
        #expect(try await store.trustedHostKeys(host: "pg-1") == [a, b])
        #expect(try await store.trustedHostKeys(host: "pg-2") == [c])
    }

    @Test(arguments: StoreKind.durable)
    func aReadOnlyStoreReadsAndRefusesToTrust(kind: StoreKind) async throws {
        let folder = try TemporaryFolder()
        let a = Self.key("pg-1", "10.0.0.1:22", "ssh-ed25519 AAAAone")
        do {
            let store = try await kind.makeStore(in: folder)
            try await store.recordTrustedHostKey(a)
        }
        let reopened = try #require(try kind.reopen(in: folder, readOnly: true))
        #expect(try await reopened.trustedHostKeys(host: "pg-1") == [a])
        await #expect(throws: SetpointError.self) {
            try await reopened.recordTrustedHostKey(Self.key("pg-1", "x:22", "k"))
        }
        let trust = StoredHostKeys(store: reopened, audit: AuditTrail(log: reopened, actor: "test"))
        #expect(!trust.canTrust)
        #expect(try await trust.trusted(host: "pg-1", endpoint: "10.0.0.1:22") == ["ssh-ed25519 AAAAone"])
        #expect(
            try await trust.trusted(host: "pg-1", endpoint: "10.0.0.7:22").isEmpty,
            "another address is not trusted"
        )
    }

    @Test func trustingWritesTheAuditRecordWithTheFingerprint() async throws {
        let store = InMemoryStateStore()
        let trust = StoredHostKeys(store: store, audit: AuditTrail(log: store, actor: "ops@test"))
        #expect(trust.canTrust)
        try await trust.trust(
            host: "pg-4",
            endpoint: "10.0.0.14:22",
            keys: ["ssh-ed25519 AAAAfour"],
            fingerprints: ["ED25519 SHA256:abc"]
        )
        let records = try await store.auditRecords(after: 0, limit: 10)
        #expect(records.map(\.entry.event) == [.hostKeyTrusted])
        #expect(records.first?.entry.resource == ResourceID(kind: .host, name: "pg-4"))
        #expect(records.first?.entry.detail["fingerprint"] == .string("ED25519 SHA256:abc"))
        #expect(records.first?.entry.detail["endpoint"] == .string("10.0.0.14:22"))
        #expect(try await trust.trusted(host: "pg-4", endpoint: "10.0.0.14:22") == ["ssh-ed25519 AAAAfour"])
    }
}
