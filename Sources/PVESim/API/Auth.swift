import Crypto
import Foundation

/// Who is calling and what they may do: API tokens, tickets with CSRF tokens, roles, and the schema's
/// permission checks (`["perm", "/vms/{vmid}", ["VM.Audit"]]`).
struct Auth: Sendable {
    struct Caller: Sendable {
        /// `root@pam` or `root@pam!setpoint`.
        var id: String
        var privileges: Set<String>
        var isToken: Bool
    }

    static let allPrivileges: Set<String> = [
        "Datastore.Allocate", "Datastore.AllocateSpace", "Datastore.AllocateTemplate", "Datastore.Audit",
        "Pool.Allocate", "Pool.Audit", "Sys.Audit", "Sys.Console", "Sys.Modify", "Sys.PowerMgmt", "Sys.Syslog",
        "Sys.Incoming", "Permissions.Modify", "User.Modify", "Group.Allocate", "Realm.Allocate", "SDN.Audit", "SDN.Use",
        "VM.Allocate", "VM.Audit", "VM.Backup", "VM.Clone", "VM.Config.CDROM", "VM.Config.CPU", "VM.Config.Cloudinit",
        "VM.Config.Disk", "VM.Config.HWType", "VM.Config.Memory", "VM.Config.Network", "VM.Config.Options",
        "VM.Console",
        "VM.Migrate", "VM.PowerMgmt", "VM.Snapshot", "VM.Snapshot.Rollback", "VM.GuestAgent.Audit",
    ]

    static func privileges(role: String) -> Set<String> {
        switch role {
        case "Administrator": return allPrivileges
        case "PVEAuditor": return allPrivileges.filter { $0.hasSuffix(".Audit") }
        case "PVEVMAdmin":
            return allPrivileges.filter { $0.hasPrefix("VM.") }.union([
                "Datastore.AllocateSpace", "Datastore.Audit", "Pool.Audit", "Sys.Audit",
            ])
        case "NoAccess": return []
        default: return Set(role.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) })
        }
    }

    let tokens: [String: TokenSpec]
    let rootPassword: String
    /// Signs tickets and CSRF tokens.
    let key: SymmetricKey

    init(tokens: [TokenSpec], rootPassword: String, seed: UInt64) {
        self.tokens = Dictionary(tokens.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        self.rootPassword = rootPassword
        var rng = SeededRandom(state: seed ^ 0x5EC2_E7)
        self.key = SymmetricKey(data: (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) })
    }

    static func hexTime(_ t: Int) -> String {
        let s = String(t, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 8 - s.count)) + s
    }

    private func sign(_ text: String) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: key)).base64EncodedString()
    }

    /// `POST /access/ticket`: a ticket and a CSRF token for `root@pam`.
    func ticket(username: String, password: String, now: Int) -> (ticket: String, csrf: String)? {
        // Renewal: the old ticket as password.
        if password.hasPrefix("PVE:"), let user = verifyTicket(password, now: now), user == username {
            return issue(username, now)
        }
        guard username == "root@pam", password == rootPassword else { return nil }
        return issue(username, now)
    }

    private func issue(_ user: String, _ now: Int) -> (String, String) {
        let plain = "PVE:\(user):\(Self.hexTime(now))"
        let csrfPlain = "\(Self.hexTime(now)):\(user)"
        return ("\(plain)::\(sign(plain))", "\(Self.hexTime(now)):\(sign(csrfPlain))")
    }

    /// The user a ticket names, when its signature holds and it is under 2 hours old.
    func verifyTicket(_ ticket: String, now: Int) -> String? {
        let parts = ticket.components(separatedBy: "::")
        guard parts.count == 2, sign(parts[0]) == parts[1] else { return nil }
        let fields = parts[0].split(separator: ":")
        guard fields.count == 3, let t = Int(fields[2], radix: 16), now - t < 7200, t - now < 300 else { return nil }
        return String(fields[1])
    }

    func verifyCSRF(_ token: String, user: String, now: Int) -> Bool {
        let parts = token.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, let t = Int(parts[0], radix: 16), now - t < 7200 else { return false }
        return sign("\(parts[0]):\(user)") == parts[1]
    }

    enum Failure: Error {
        case unauthorized(String)
    }

    /// Authenticates a request: a token header, or a ticket cookie (plus CSRF for non-GET).
    func authenticate(_ request: SimRequest, now: Int) throws(Failure) -> Caller {
        let authorization = request.headers["authorization"] ?? ""
        if authorization.hasPrefix("PVEAPIToken=") || authorization.hasPrefix("PVEAPIToken ") {
            var value = String(authorization.dropFirst("PVEAPIToken=".count))
            if let semi = value.firstIndex(of: ";") { value = String(value[..<semi]) }
            guard let eq = value.firstIndex(of: "="), let token = tokens[String(value[..<eq])],
                token.secret == String(value[value.index(after: eq)...])
            else {
                throw .unauthorized("authentication failure")
            }
            return Caller(id: token.id, privileges: Self.privileges(role: token.role), isToken: true)
        }
        var ticket: String?
        if let cookies = request.headers["cookie"] {
            for c in cookies.split(separator: ";") {
                let kv = c.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if kv.count == 2, kv[0] == "PVEAuthCookie" {
                    ticket = String(kv[1]).removingPercentEncoding ?? String(kv[1])
                }
            }
        }
        if ticket == nil, authorization.hasPrefix("PVEAuthCookie=") { ticket = String(authorization.dropFirst(14)) }
        guard let ticket else { throw .unauthorized("authentication failure") }
        guard let user = verifyTicket(ticket, now: now) else { throw .unauthorized("authentication failure") }
        if request.method != "GET" {
            guard let csrf = request.headers["csrfpreventiontoken"], verifyCSRF(csrf, user: user, now: now) else {
                throw .unauthorized("Permission denied - invalid csrf token")
            }
        }
        return Caller(id: user, privileges: Self.allPrivileges, isToken: false)
    }

    /// Evaluates a schema permission check; returns the failing `(path, privilege)` or nil when allowed.
    static func check(_ check: JSONValue, caller: Caller, params: [String: String]) -> (String, String)? {
        guard case .array(let items) = check, case .string(let op)? = items.first else { return nil }
        switch op {
        case "perm":
            guard items.count >= 3, case .string(let template) = items[1], case .array(let privs) = items[2] else {
                return nil
            }
            var path = template
            for (k, v) in params { path = path.replacingOccurrences(of: "{\(k)}", with: v) }
            let wanted = privs.compactMap(\.stringValue)
            let any = items.count >= 5 && items[3].stringValue == "any"
            if path.contains("{") { return (path, wanted.first ?? "") }
            let missing = wanted.filter { !caller.privileges.contains($0) }
            if any ? missing.count < wanted.count || wanted.isEmpty : missing.isEmpty { return nil }
            return (path, any ? wanted.joined(separator: "|") : missing[0])
        case "and":
            for sub in items.dropFirst() {
                if let failure = Self.check(sub, caller: caller, params: params) { return failure }
            }
            return nil
        case "or":
            var first: (String, String)?
            for sub in items.dropFirst() {
                guard let failure = Self.check(sub, caller: caller, params: params) else { return nil }
                first = first ?? failure
            }
            return first
        default:
            return nil  // userid-param, userid-group …: any authenticated caller passes in the simulator
        }
    }

    /// The privilege PVE requires to set or delete one QEMU/LXC config key (qemu-server `check_vm_modify_config_perm`).
    static func configPrivilege(_ key: String) -> String {
        let base = IndexedKey.split(key)?.0 ?? key
        switch base {
        case "memory", "balloon", "shares", "swap": return "VM.Config.Memory"
        case "cores", "sockets", "vcpus", "cpu", "cpulimit", "cpuunits", "affinity", "numa": return "VM.Config.CPU"
        case "net": return "VM.Config.Network"
        case "scsi", "virtio", "ide", "sata", "efidisk", "tpmstate", "unused", "rootfs", "mp": return "VM.Config.Disk"
        case "ipconfig", "ciuser", "cipassword", "citype", "ciupgrade", "cicustom", "sshkeys", "nameserver",
            "searchdomain":
            return "VM.Config.Cloudinit"
        case "machine", "bios", "scsihw", "vga", "ostype", "usb", "serial", "parallel", "hostpci", "audio", "rng",
            "tablet", "kvm", "acpi":
            return "VM.Config.HWType"
        default: return "VM.Config.Options"
        }
    }

    /// The `cap` of a ticket: privileges grouped as the GUI uses them (vms, storage, nodes, access, dc, sdn).
    static func capabilities(_ privileges: Set<String>) -> JSONValue {
        func group(_ match: (String) -> Bool) -> JSONValue {
            .object(Dictionary(uniqueKeysWithValues: privileges.filter(match).map { ($0, JSONValue.int(1)) }))
        }
        return .object([
            "vms": group { $0.hasPrefix("VM.") || $0 == "Permissions.Modify" },
            "storage": group { $0.hasPrefix("Datastore.") || $0 == "Permissions.Modify" },
            "nodes": group { $0.hasPrefix("Sys.") || $0 == "Permissions.Modify" },
            "access": group { ["User.Modify", "Group.Allocate", "Permissions.Modify"].contains($0) },
            "dc": group { $0.hasPrefix("SDN.") || $0 == "Sys.Audit" },
            "sdn": group { $0.hasPrefix("SDN.") || $0 == "Permissions.Modify" },
        ])
    }

    /// `GET /access/permissions`: the caller's privileges by path.
    static func permissions(_ caller: Caller, path: String?) -> JSONValue {
        let privs = JSONValue.object(Dictionary(uniqueKeysWithValues: caller.privileges.map { ($0, JSONValue.int(1)) }))
        let paths = path.map { [$0] } ?? ["/", "/vms", "/storage", "/nodes", "/pool", "/access"]
        return .object(Dictionary(uniqueKeysWithValues: paths.map { ($0, privs) }))
    }
}
