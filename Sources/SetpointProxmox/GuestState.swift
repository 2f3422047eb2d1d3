import SetpointCore

/// One guest as observed: where it is, whether it runs, its live config and its pending section.
struct GuestState: Sendable {
    enum Kind: String, Sendable {
        case qemu, lxc

        /// The field table of the guest kind.
        var fields: GuestFieldTable { self == .qemu ? VirtualMachineFields.table : ContainerFields.table }
    }

    var vmid: Int
    var kind: Kind
    var node: String
    var running: Bool
    var template: Bool
    var pool: String?
    /// Live values (`GET …/pending` "value").
    var live: [String: String]
    /// Pending sets and deletes.
    var pending: [String: String]
    var pendingDelete: Set<String>
    var digest: String?

    /// The config with pending changes applied (what `GET …/config` shows).
    var merged: [String: String] {
        var c = live
        for (k, v) in pending { c[k] = v }
        for k in pendingDelete { c[k] = nil }
        return c
    }

    /// Carries Setpoint's ownership tag.
    var isTagged: Bool {
        (merged["tags"] ?? "").split(whereSeparator: { $0 == ";" || $0 == "," || $0 == " " }).contains {
            $0 == PVEValues.ownershipTag
        }
    }

    var path: String { "/nodes/\(node)/\(kind.rawValue)/\(vmid)" }

    /// Builds it from the items of `GET …/pending`.
    init(vmid: Int, kind: Kind, node: String, running: Bool, template: Bool, pool: String?, pendingItems: [PVEJSON]) {
        self.vmid = vmid
        self.kind = kind
        self.node = node
        self.running = running
        self.template = template
        self.pool = pool
        live = [:]
        pending = [:]
        pendingDelete = []
        for item in pendingItems {
            guard let key = item["key"]?.text else { continue }
            if key == "digest" {
                digest = item["value"]?.text
                continue
            }
            if let v = item["value"]?.text { live[key] = v }
            if let p = item["pending"]?.text { pending[key] = p }
            if let d = item["delete"]?.int, d > 0 { pendingDelete.insert(key) }
        }
    }
}
