/// `ProxmoxCluster` (referenced): how to reach a Proxmox VE cluster's API.
public enum ProxmoxClusterKind {
    public static let spec = ObjectSchema([
        Field(
            "endpoints",
            .list(.string(.httpURL), minItems: 1, uniqueItems: true),
            required: true,
            "API endpoints, tried in order for failover, e.g. https://pve1.example.net:8006."
        ),
        Field("tokenId", .string(.pveTokenID), required: true, "API token id: USER@REALM!TOKENID."),
        Field("tokenSecret", .secret, required: true, "The token's secret, by reference."),
        Field(
            "tls",
            .object(tls),
            "How the server's certificate is verified (verified against the system CAs by default)."
        ),
        Field("maxConcurrentRequests", .integer(min: 1, max: 64), default: .int(8), "Requests in flight at once."),
        Field("requestTimeout", .duration, default: .int(30_000), "Timeout of one API request."),
        Field(
            "allowPlainHTTP",
            .boolean,
            default: .bool(false),
            "Allow http:// endpoints, which send the API token unencrypted (a TLS tunnel in front, a lab). Flagged by `setpoint doctor`."
        ),
    ])

    static let tls = ObjectSchema(
        [
            Field("caFile", .string(.absolutePath), "PEM file of the CA that signed the API certificate."),
            Field("pinnedPublicKey", .string(.pinnedKey), "Accept only this public key: sha256//BASE64."),
            Field("insecure", .boolean, default: .bool(false), "Skip verification. Flagged by `setpoint doctor`."),
        ],
        atMostOneOf: [["insecure", "caFile"], ["insecure", "pinnedPublicKey"]]
    )

    public static let definition = KindDefinition(
        ProxmoxClusterSpec.self,
        isManaged: false,
        summary: "A Proxmox VE cluster's API endpoints, token and TLS settings (referenced: never created or deleted).",
        spec: spec
    )
}

public struct ProxmoxClusterSpec: ResourceSpec {
    public static let kind = ResourceKind.proxmoxCluster
    public var endpoints: [String]
    public var tokenId: String
    public var tokenSecret: SecretReference
    public var tls: TLS?
    public var maxConcurrentRequests: Int?
    public var requestTimeout: DurationValue?
    public var allowPlainHTTP: Bool?

    public struct TLS: Codable, Sendable, Equatable {
        public var caFile: String?
        public var pinnedPublicKey: String?
        public var insecure: Bool?
    }
}
