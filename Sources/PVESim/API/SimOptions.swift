import Foundation

/// How the simulated cluster looks and misbehaves. Every random choice comes from `seed`.
public struct SimOptions: Sendable {
    public var nodes = 3
    /// Guests to pre-populate (VMIDs from 100, spread over the nodes).
    public var guests = 0
    /// Tags the pre-populated guests carry (`setpoint` makes them look like guests Setpoint created).
    public var guestTags: [String] = []
    /// How long a worker task runs.
    public var taskSeconds = 0.3
    /// Added to every request.
    public var latency: Duration = .zero
    /// Chance of a 5xx: half before the handler runs, half after it has committed.
    public var failRate = 0.0
    /// Chance that a config write finds the config file locked (`can't lock file … got timeout`).
    public var lockContention = 0.0
    /// Chance that a worker task ends in error.
    public var taskFailureRate = 0.0
    public var seed: UInt64 = 1
    /// Run on every lifecycle event of a guest; its task ends when the hook has (``GuestHook``).
    public var guestHook: GuestHook?
    /// JSON file the cluster is kept in across restarts.
    public var stateFile: String?
    /// Memory per node, bytes.
    public var nodeMemory: Int64 = 64 << 30
    /// Capacity of each node's `local-lvm`, bytes. It is an LVM thin pool: disks may add up to more than this; only
    /// the data written to them counts against it.
    public var localStorageSize: Int64 = 512 << 30
    /// Every thin pool (`local-lvm`) is full: storage status reports it all used, and a new thin volume (create, a
    /// new disk, clone, `POST …/storage/{storage}/content`) fails as LVM refuses it at its threshold. A pool also
    /// becomes full without this when the data written to its volumes reaches its size.
    public var thinPoolsFull = false
    /// Capacity of the shared `ceph` storage, bytes.
    public var sharedStorageSize: Int64 = 2 << 40
    /// `root@pam`'s password (tickets).
    public var rootPassword = "setpoint"
    /// API tokens.
    public var tokens: [TokenSpec] = [
        TokenSpec(id: "root@pam!setpoint", secret: "5e7d0000-0000-4000-8000-000000000001", role: "Administrator")
    ]

    public init() {}
}

/// An API token: `USER@REALM!NAME`, its secret, and the role it holds on `/`.
public struct TokenSpec: Sendable, Codable, Hashable {
    public var id: String
    public var secret: String
    /// `Administrator`, `PVEAuditor`, `PVEVMAdmin`, or a comma-separated privilege list.
    public var role: String

    public init(id: String, secret: String, role: String = "Administrator") {
        self.id = id
        self.secret = secret
        self.role = role
    }

    /// Parses `USER@REALM!NAME=SECRET[:ROLE]`.
    public init?(parsing text: String) {
        guard let eq = text.firstIndex(of: "=") else { return nil }
        id = String(text[..<eq])
        let rest = text[text.index(after: eq)...]
        if let colon = rest.firstIndex(of: ":") {
            secret = String(rest[..<colon])
            role = String(rest[rest.index(after: colon)...])
        } else {
            secret = String(rest)
            role = "Administrator"
        }
        guard id.contains("@"), id.contains("!"), !secret.isEmpty else { return nil }
    }
}

/// SplitMix64: small, fast, reproducible from a seed.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func chance(_ p: Double) -> Bool { p > 0 && Double.random(in: 0..<1, using: &self) < p }
}
