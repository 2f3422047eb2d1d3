import Foundation
import SetpointCore

/// A PVE API value: what `{"data": …}` holds.
enum PVEJSON: Sendable, Equatable, Decodable {
    case null
    case number(Double)
    case string(String)
    case bool(Bool)
    case array([PVEJSON])
    case object([String: PVEJSON])

    static func parse(_ data: Data) throws -> PVEJSON {
        try JSONDecoder().decode(PVEJSON.self, from: data)
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([PVEJSON].self) { self = .array(a) }
        else { self = .object(try c.decode([String: PVEJSON].self)) }
    }

    subscript(key: String) -> PVEJSON? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// Text as PVE means it: numbers without a fraction print as integers (`"cores": 2` → `2`).
    var text: String? {
        switch self {
        case .string(let s): return s
        case .number(let d): return d == d.rounded() && abs(d) < 1e18 ? String(Int64(d)) : String(d)
        case .bool(let b): return b ? "1" : "0"
        default: return nil
        }
    }

    /// Integers sent as numbers or strings (`/cluster/nextid` sends `"100"`).
    var int: Int? {
        switch self {
        case .number(let d): return Int(exactly: d.rounded())
        case .string(let s): return Int(s)
        default: return nil
        }
    }

    var array: [PVEJSON] { if case .array(let a) = self { return a } else { return [] } }
    var object: [String: PVEJSON] { if case .object(let o) = self { return o } else { return [:] } }
}

/// What observation makes of a PVE answer, reachable from a fuzzer: the JSON, the items of `…/pending` as a guest's
/// state, and both guest mappings. Any bytes must give a value or an error, never a trap.
package enum PVEResponseDecoding {
    /// Every field a guest's manifest may set, so that every branch of the mappings runs.
    static let desired: Value = .map([
        "cluster": .string("pve"), "node": .string("pve1"), "vmid": .int(100), "hostname": .string("ct"), "tags": .list([.string("a")]),
        "cloudInit": .map(["user": .string("u"), "sshKeys": .list([.string("k")]), "nameserver": .string("1.1.1.1"),
                           "searchDomain": .string("x"), "storage": .string("local-lvm"), "ipConfig": .map(["net0": .string("dhcp")])]),
        "hotplug": .list([.string("cpu")]), "memory": .int(1 << 30), "disks": .map(["scsi0": .map(["size": .int(1 << 30)])]),
        "networks": .map(["net0": .map(["bridge": .string("vmbr0")])]), "rootfs": .map(["size": .int(1 << 30)]),
        "mounts": .map(["mp0": .map(["size": .int(1 << 30), "path": .string("/srv")])]),
    ])

    package static func decode(_ data: Data) {
        guard let json = try? PVEJSON.parse(data) else { return }
        let body = json["data"] ?? json
        _ = body.text
        _ = body.int
        var items = body.array
        if case .object(let config) = body {
            // A `…/config` answer: each key as a pending item.
            items += config.map { PVEJSON.object(["key": .string($0.key), "value": $0.value]) }
        }
        for kind in [GuestState.Kind.qemu, .lxc] {
            let guest = GuestState(vmid: 100, kind: kind, node: "pve1", running: true, template: false, pool: "p", pendingItems: items)
            _ = guest.isTagged
            _ = kind == .qemu ? VMMapping.spec(guest.merged, guest: guest, desired: desired) : CTMapping.spec(guest.merged, guest: guest, desired: desired)
        }
        for item in body.array {
            _ = (item["vmid"]?.int, item["type"]?.text, item["node"]?.text, item["status"]?.text, item["template"]?.int, item["t"]?.text)
        }
    }
}
