import Foundation
import SetpointCore

/// What observation makes of a PVE answer, reachable from a fuzzer: the JSON, the items of `…/pending` as a guest's
/// state, and both guest mappings. Any bytes must give a value or an error, never a trap.
package enum PVEResponseDecoding {
    /// Every field a guest's manifest may set, so that every branch of the mappings runs.
    static let desired: Value = .map([
        "cluster": .string("pve"), "node": .string("pve1"), "vmid": .int(100), "hostname": .string("ct"),
        "tags": .list([.string("a")]),
        "cloudInit": .map([
            "user": .string("u"), "sshKeys": .list([.string("k")]), "nameserver": .string("1.1.1.1"),
            "searchDomain": .string("x"), "storage": .string("local-lvm"), "ipConfig": .map(["net0": .string("dhcp")]),
        ]),
        "hotplug": .list([.string("cpu")]), "memory": .int(1 << 30),
        "disks": .map(["scsi0": .map(["size": .int(1 << 30)])]),
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
            let guest = GuestState(
                vmid: 100,
                kind: kind,
                node: "pve1",
                running: true,
                template: false,
                pool: "p",
                pendingItems: items
            )
            _ = guest.isTagged
            _ = kind.fields.observe(guest.merged, guest: guest, desired: desired)
        }
        for item in body.array {
            _ = (
                item["vmid"]?.int, item["type"]?.text, item["node"]?.text, item["status"]?.text, item["template"]?.int,
                item["t"]?.text
            )
        }
    }
}
