public import SetpointCore

/// A host key trusted on first use: which Host, where it answered (`ADDRESS:PORT`), the key (`TYPE BASE64`, public),
/// and when.
public struct TrustedHostKey: Sendable, Equatable, Codable {
    public var host: String
    public var endpoint: String
    public var key: String
    public var trustedAt: String

    public init(host: String, endpoint: String, key: String, trustedAt: String) {
        self.host = host
        self.endpoint = endpoint
        self.key = key
        self.trustedAt = trustedAt
    }
}

/// Where host keys trusted on first use are kept (public keys only: nothing secret).
public protocol HostKeyStore: Sendable {
    /// Records a trusted key (again: keeps the first time it was trusted).
    func recordTrustedHostKey(_ key: TrustedHostKey) async throws
    /// The keys trusted for a Host, oldest first.
    func trustedHostKeys(host: String) async throws -> [TrustedHostKey]
    /// Every trusted key, by Host, oldest first (moving a state copies them all).
    func allTrustedHostKeys() async throws -> [TrustedHostKey]
}
