/// `Host` (referenced): a machine Setpoint reaches over SSH to act on the services it runs. Setpoint never creates or
/// deletes one; a plan checks it answers with a pinned key.
public enum HostKind {
    public static let ssh = ObjectSchema(
        [
            Field("user", .string(.nonEmpty), required: true, "The user Setpoint logs in as."),
            Field("port", .integer(min: 1, max: 65535), default: .int(22), "sshd's port."),
            Field(
                "privateKey",
                .secret,
                "The private key (without a passphrase), by reference: {file: /etc/setpoint/keys/ops} or {env: NAME}."
            ),
            Field(
                "agentSocket",
                .string(.absolutePath),
                "An ssh-agent's socket holding the key, instead of privateKey."
            ),
            Field(
                "hostKeys",
                .list(.string(.sshHostKey), minItems: 1, uniqueItems: true),
                "The host's public keys as pinned: 'ssh-ed25519 AAAA…' (its /etc/ssh/ssh_host_ed25519_key.pub), or "
                    + "'@cert-authority ssh-ed25519 AAAA…' for a CA that signs host keys. Any other key is refused. "
                    + "Required unless trustOnFirstUse."
            ),
            Field(
                "trustOnFirstUse",
                .boolean,
                default: .bool(false),
                "With no hostKeys: the first `setpoint apply` (or controller pass) that logs in trusts the key the host "
                    + "offers, records it in the state and the audit log, and checks every later login against it. "
                    + "plan and doctor never trust a key."
            ),
            Field("jump", .reference(.host), "A Host to reach this one through (ProxyJump), with its own pinned keys."),
            Field("connectTimeout", .duration, default: .int(10_000), "How long connecting may take."),
        ],
        exactlyOneOf: [["privateKey", "agentSocket"]]
    )

    public static let spec = ObjectSchema([
        Field("address", .string(.host), required: true, "The host's name or IP address, as SSH dials it."),
        Field("ssh", .object(ssh), required: true, "How Setpoint logs in, and the host keys it trusts."),
        Field(
            "become",
            .enumeration(["sudo", "none"]),
            default: .string("sudo"),
            "How Setpoint acts as another OS user (postgres): sudo -n -u USER, or none when the SSH user already is."
        ),
    ])

    public static let definition = KindDefinition(
        HostSpec.self,
        isManaged: false,
        summary:
            "A machine Setpoint reaches over SSH, with its pinned host keys (referenced: never created or deleted).",
        spec: spec
    )
}

public struct HostSpec: ResourceSpec {
    public static let kind = ResourceKind.host

    /// The declared Host of that name (nil when none is declared or its spec does not decode): how providers read a
    /// Host's address, jump host or key settings from the manifests without connecting.
    public static func named(_ name: String, in declared: [ResourceID: Resource]) -> HostSpec? {
        try? declared[ResourceID(kind: .host, name: name)]?.decodeSpec(HostSpec.self)
    }
    public var address: String
    public var ssh: SSH
    public var become: String?

    public struct SSH: Codable, Sendable, Equatable {
        public var user: String
        public var port: Int?
        public var privateKey: SecretReference?
        public var agentSocket: String?
        public var hostKeys: [String]
        public var trustOnFirstUse: Bool?
        public var jump: String?

        enum CodingKeys: String, CodingKey {
            case user, port, privateKey, agentSocket, hostKeys, trustOnFirstUse, jump, connectTimeout
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            user = try c.decode(String.self, forKey: .user)
            port = try c.decodeIfPresent(Int.self, forKey: .port)
            privateKey = try c.decodeIfPresent(SecretReference.self, forKey: .privateKey)
            agentSocket = try c.decodeIfPresent(String.self, forKey: .agentSocket)
            hostKeys = try c.decodeIfPresent([String].self, forKey: .hostKeys) ?? []
            trustOnFirstUse = try c.decodeIfPresent(Bool.self, forKey: .trustOnFirstUse)
            jump = try c.decodeIfPresent(String.self, forKey: .jump)
            connectTimeout = try c.decodeIfPresent(DurationValue.self, forKey: .connectTimeout)
        }
        public var connectTimeout: DurationValue?
    }
}
