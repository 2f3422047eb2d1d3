import Foundation

/// `/version`, `/access/ticket`, `/cluster/*`, `/nodes`, node status and storage.
extension PVESimulator {
    static let pveVersion = "9.1.2"

    func version() -> JSONValue {
        .object([
            "version": .string(Self.pveVersion), "release": .string("9.1"), "repoid": .string("5e7d0c1a"),
            "console": .string("html5"),
        ])
    }

    func ticket(_ p: [String: String]) throws -> JSONValue {
        var user = p["username"]!
        if let realm = p["realm"], !user.contains("@") { user += "@\(realm)" }
        guard let (ticket, csrf) = auth.ticket(username: user, password: p["password"]!, now: Int(now)) else {
            throw PVEError("authentication failure", status: 401)
        }
        let caps = Auth.capabilities(Auth.allPrivileges)
        return .object([
            "username": .string(user), "ticket": .string(ticket), "CSRFPreventionToken": .string(csrf),
            "clustername": .string(state.clusterName), "cap": caps,
        ])
    }

    func nextID(_ p: [String: String]) throws -> JSONValue {
        if let wanted = p["vmid"].flatMap(Int.init) {
            if state.guests[wanted] != nil { throw PVEError.param("vmid", "VM \(wanted) already exists") }
            return .string(String(wanted))
        }
        var id = 100
        while state.guests[id] != nil { id += 1 }
        return .string(String(id))  // typed integer in the schema, a string on the wire
    }

    func clusterStatus() -> JSONValue {
        var items: [JSONValue] = [
            .object([
                "type": .string("cluster"), "id": .string("cluster"), "name": .string(state.clusterName),
                "nodes": .int(state.nodes.count), "quorate": .int(1), "version": .int(state.nodes.count + 1),
            ])
        ]
        for (i, n) in state.nodes.enumerated() {
            items.append(
                .object([
                    "type": .string("node"), "id": .string("node/\(n.name)"), "name": .string(n.name),
                    "nodeid": .int(i + 1),
                    "online": .int(n.online ? 1 : 0), "local": .int(i == 0 ? 1 : 0), "ip": .string(n.ip),
                    "level": .string(""),
                ])
            )
        }
        return .array(items)
    }

    private func nodeUsage(_ n: SimNode) -> [String: JSONValue] {
        let rootfs: Int64 = 100 << 30
        return [
            "node": .string(n.name), "status": .string(n.online ? "online" : "offline"), "maxcpu": .int(n.maxcpu),
            "maxmem": .int(Int(n.maxmem)), "mem": .int(Int(state.usedMemory(node: n.name) + (2 << 30))),
            "maxdisk": .int(Int(rootfs)), "disk": .int(Int(rootfs / 10)), "uptime": .int(86_400),
            "cpu": .double(0.02 + Double(state.guests.values.filter { $0.node == n.name && $0.running }.count) * 0.01),
            "level": .string(""),
        ]
    }

    func nodes() -> JSONValue {
        .array(
            state.nodes.map { n in
                var o = nodeUsage(n)
                o["type"] = .string("node")
                o["id"] = .string("node/\(n.name)")
                o["ssl_fingerprint"] = .string(
                    "5E:7D:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00"
                )
                return .object(o)
            }
        )
    }

    func nodeStatus(_ name: String) throws -> JSONValue {
        try requireNode(name)
        let n = state.node(name)!
        let used = state.usedMemory(node: name) + (2 << 30)
        return .object([
            "cpu": .double(0.02), "wait": .double(0), "idle": .int(0), "uptime": .int(86_400),
            "pveversion": .string("pve-manager/\(Self.pveVersion)/5e7d0c1a"),
            "kversion": .string("Linux 6.14.8-2-pve #1 SMP PREEMPT_DYNAMIC PMX 6.14.8-2 (2025-07-22T10:04Z)"),
            "memory": .object([
                "total": .int(Int(n.maxmem)), "used": .int(Int(used)), "free": .int(Int(n.maxmem - used)),
            ]),
            "swap": .object(["total": .int(0), "used": .int(0), "free": .int(0)]),
            "rootfs": .object([
                "total": .int(100 << 30), "used": .int(10 << 30), "avail": .int(90 << 30), "free": .int(90 << 30),
            ]),
            "cpuinfo": .object([
                "cpus": .int(n.maxcpu), "sockets": .int(1), "cores": .int(n.maxcpu), "model": .string("pve-sim vCPU"),
                "mhz": .string("3000.000"), "hvm": .string("1"), "user_hz": .int(100),
                "flags": .string("fpu vme de pse tsc msr pae"),
            ]),
            "loadavg": .array([.string("0.05"), .string("0.10"), .string("0.08")]),
            "ksm": .object(["shared": .int(0)]),
            "boot-info": .object(["mode": .string("efi"), "secureboot": .int(0)]),
            "current-kernel": .object([
                "sysname": .string("Linux"), "release": .string("6.14.8-2-pve"), "machine": .string("x86_64"),
                "version": .string("#1 SMP PREEMPT_DYNAMIC PMX 6.14.8-2"),
            ]),
        ])
    }

    func resources(type: String?) -> JSONValue {
        var items: [JSONValue] = []
        if type == nil || type == "node" {
            for n in state.nodes {
                var o = nodeUsage(n)
                o["type"] = .string("node")
                o["id"] = .string("node/\(n.name)")
                o["cgroup-mode"] = .int(2)
                items.append(.object(o))
            }
        }
        if type == nil || type == "vm" {
            for g in state.guests.values.sorted(by: { $0.vmid < $1.vmid }) {
                var o = guestUsage(g)
                o["id"] = .string("\(g.type.rawValue)/\(g.vmid)")
                o["type"] = .string(g.type.rawValue)
                o["node"] = .string(g.node)
                if let pool = state.pool(of: g.vmid) { o["pool"] = .string(pool) }
                items.append(.object(o))
            }
        }
        if type == nil || type == "storage" {
            for n in state.nodes {
                for s in state.storages {
                    items.append(
                        .object([
                            "id": .string("storage/\(n.name)/\(s.id)"), "type": .string("storage"),
                            "storage": .string(s.id), "node": .string(n.name),
                            "status": .string("available"), "plugintype": .string(s.type),
                            "content": .string(s.content.joined(separator: ",")),
                            "shared": .int(s.shared ? 1 : 0), "maxdisk": .int(Int(s.total)),
                            "disk": .int(Int(reportedUsed(s, node: n.name))),
                        ])
                    )
                }
            }
        }
        if type == nil || type == "pool" {
            for p in state.pools.keys.sorted() {
                items.append(.object(["id": .string("/pool/\(p)"), "type": .string("pool"), "pool": .string(p)]))
            }
        }
        return .array(items)
    }

    // MARK: Storage

    func storageConfig(_ p: [String: String]) -> JSONValue {
        .array(
            state.storages.filter { p["type"] == nil || $0.type == p["type"] }.map { s in
                var o: [String: JSONValue] = [
                    "storage": .string(s.id), "type": .string(s.type),
                    "content": .string(s.content.joined(separator: ",")),
                    "digest": .string("5e7d0c1a5e7d0c1a5e7d0c1a5e7d0c1a5e7d0c1a"),
                ]
                if s.shared { o["shared"] = .int(1) }
                return .object(o)
            }
        )
    }

    func createStorage(_ p: [String: String]) throws -> JSONValue {
        let id = p["storage"]!
        if state.storage(id) != nil { throw PVEError("create storage failed: storage ID '\(id)' already defined") }
        let content = (p["content"] ?? "images,rootdir").split(separator: ",").map(String.init)
        state.storages.append(
            SimStorage(id: id, type: p["type"]!, content: content, shared: p["shared"] == "1", total: 1 << 40)
        )
        return .object(["storage": .string(id), "type": .string(p["type"]!)])
    }

    /// Bytes a storage reports used on `node`: what its volumes take. A thin pool reports the data written (at most
    /// its size), or all of it when `thinPoolsFull` is set.
    func reportedUsed(_ s: SimStorage, node: String) -> Int64 {
        let used = state.used(storage: s.id, node: node)
        guard s.isThin else { return used }
        return options.thinPoolsFull ? s.total : min(used, s.total)
    }

    /// Why a thin pool takes no new volume `name`, or nil when it does: volumes overcommit a thin pool, so only a pool
    /// whose data space is used up refuses one, with LVM's message as PVE quotes it (`lvcreate … error: …`).
    func thinPoolRefusal(_ s: SimStorage, node: String, volume name: String) -> String? {
        guard s.isThin, reportedUsed(s, node: node) >= s.total else { return nil }
        return
            "lvcreate 'pve/\(name)' error:   Cannot create new thin volume, free space in thin pool pve/data reached threshold."
    }

    private func storageJSON(_ s: SimStorage, node: String) -> [String: JSONValue] {
        let used = reportedUsed(s, node: node)
        return [
            "storage": .string(s.id), "type": .string(s.type), "content": .string(s.content.joined(separator: ",")),
            "active": .int(1), "enabled": .int(1), "shared": .int(s.shared ? 1 : 0), "total": .int(Int(s.total)),
            "used": .int(Int(used)), "avail": .int(Int(s.total - used)),
            "used_fraction": .double(Double(used) / Double(s.total)),
        ]
    }

    func nodeStorages(_ p: [String: String]) throws -> JSONValue {
        let node = p["node"]!
        try requireNode(node)
        return .array(
            state.storages.filter { s in
                (p["storage"] == nil || s.id == p["storage"])
                    && (p["content"] == nil
                        || p["content"]!.split(separator: ",").allSatisfy { s.content.contains(String($0)) })
            }.map { .object(storageJSON($0, node: node)) }
        )
    }

    func existingStorage(_ p: [String: String]) throws -> SimStorage {
        try requireNode(p["node"]!)
        guard let s = state.storage(p["storage"]!) else { throw PVEError("storage '\(p["storage"]!)' does not exist") }
        return s
    }

    func storageStatus(_ p: [String: String]) throws -> JSONValue {
        .object(storageJSON(try existingStorage(p), node: p["node"]!))
    }

    func storageContent(_ p: [String: String]) throws -> JSONValue {
        let s = try existingStorage(p)
        let node = p["node"]!
        return .array(
            state.volumes.values
                .filter { $0.storage == s.id && (s.shared || $0.node == node) }
                .filter { p["content"] == nil || $0.content == p["content"] }
                .filter { p["vmid"] == nil || $0.vmid.map(String.init) == p["vmid"] }
                .sorted { $0.name < $1.name }
                .map { v in
                    var o: [String: JSONValue] = [
                        "volid": .string(v.volid), "size": .int(Int(v.size)), "content": .string(v.content),
                        "ctime": .int(v.ctime),
                        "format": .string(v.content == "images" ? "raw" : v.name.hasSuffix(".zst") ? "tzst" : "raw"),
                    ]
                    if let vmid = v.vmid { o["vmid"] = .int(vmid) }
                    return .object(o)
                }
        )
    }

    func allocateVolume(_ p: [String: String]) throws -> JSONValue {
        let s = try existingStorage(p)
        let node = p["node"]!
        guard let bytes = ConfigValues.parseSize(p["size"]!) else {
            throw PVEError.param("size", "unable to parse size '\(p["size"]!)'")
        }
        let name = p["filename"]!
        let key = state.volumeKey(storage: s.id, name: name, node: node)
        if state.volumes[key] != nil { throw PVEError("volume '\(s.id):\(name)' already exists") }
        if s.isThin {
            if let refusal = thinPoolRefusal(s, node: node, volume: name) { throw PVEError(refusal) }
        } else {
            guard bytes <= s.total - state.used(storage: s.id, node: node) else {
                throw PVEError("not enough free space on storage '\(s.id)'")
            }
        }
        state.volumes[key] = Volume(
            storage: s.id,
            name: name,
            node: node,
            size: bytes,
            vmid: Int(p["vmid"]!),
            content: "images",
            ctime: Int(now),
            used: s.isThin ? 0 : nil
        )
        return .string("\(s.id):\(name)")
    }

    // MARK: Populating a fresh cluster

    static func populate(_ state: inout ClusterState, options: SimOptions, now: Int) {
        for i in 1...max(1, options.nodes) {
            state.nodes.append(SimNode(name: "pve\(i)", maxmem: options.nodeMemory, maxcpu: 16, ip: "10.0.0.\(10 + i)"))
        }
        state.storages = [
            SimStorage(
                id: "local",
                type: "dir",
                content: ["iso", "vztmpl", "backup", "snippets"],
                shared: false,
                total: 100 << 30
            ),
            SimStorage(
                id: "local-lvm",
                type: "lvmthin",
                content: ["images", "rootdir"],
                shared: false,
                total: options.localStorageSize
            ),
            SimStorage(
                id: "ceph",
                type: "rbd",
                content: ["images", "rootdir"],
                shared: true,
                total: options.sharedStorageSize
            ),
        ]
        for n in state.nodes {
            for (name, content, size) in [
                ("vztmpl/debian-12-standard_12.7-1_amd64.tar.zst", "vztmpl", Int64(126 << 20)),
                ("iso/debian-12.7.0-amd64-netinst.iso", "iso", Int64(631 << 20)),
            ] {
                state.volumes[state.volumeKey(storage: "local", name: name, node: n.name)] =
                    Volume(
                        storage: "local",
                        name: name,
                        node: n.name,
                        size: size,
                        vmid: nil,
                        content: content,
                        ctime: now
                    )
            }
        }
        for i in 0..<options.guests {
            let vmid = 100 + i
            let node = state.nodes[i % state.nodes.count].name
            let disk = "vm-\(vmid)-disk-0"
            state.volumes[state.volumeKey(storage: "ceph", name: disk, node: node)] =
                Volume(
                    storage: "ceph",
                    name: disk,
                    node: node,
                    size: 8 << 30,
                    vmid: vmid,
                    content: "images",
                    ctime: now
                )
            let hex = String(format: "%06X", vmid & 0xFFFFFF)
            let mac = "BC:24:11:\(hex.prefix(2)):\(hex.dropFirst(2).prefix(2)):\(hex.suffix(2))"
            state.guests[vmid] = Guest(
                vmid: vmid,
                type: .qemu,
                node: node,
                config: [
                    "name": "sim-\(vmid)", "memory": "2048", "cores": "2", "sockets": "1", "ostype": "l26",
                    "scsihw": "virtio-scsi-single",
                    "scsi0": "ceph:\(disk),size=8G", "net0": "virtio=\(mac),bridge=vmbr0", "boot": "order=scsi0;net0",
                    "smbios1": "uuid=00000000-0000-4000-8000-\(String(format: "%012d", vmid))",
                    "meta": "creation-qemu=9.2.0,ctime=\(now)",
                ]
            )
            if !options.guestTags.isEmpty {
                state.guests[vmid]?.config["tags"] = ConfigValues.normalizeTags(
                    options.guestTags.joined(separator: ";")
                )
            }
        }
    }
}
