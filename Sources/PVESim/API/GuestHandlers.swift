import Foundation

/// `/nodes/{node}/qemu|lxc/…`: lists, config, pending, status, create, destroy, power, clone, resize, migrate.
extension PVESimulator {
    /// Create-only parameters: not config keys.
    static let createOnly: Set<String> = [
        "node", "vmid", "pool", "start", "storage", "archive", "force", "unique", "live-restore", "bwlimit",
        "ostemplate",
        "password", "ssh-public-keys", "restore", "ignore-unpack-errors",
    ]

    func guestUsage(_ g: Guest) -> [String: JSONValue] {
        let maxdisk =
            g.config.filter { ConfigValues.isDisk($0.key, g.type) && !$0.value.contains("media=cdrom") }
            .compactMap { ConfigValues.diskSize($0.value) }.first ?? 0
        let mem = Int64(ConfigValues.memoryMiB(g)) << 20
        let uptime = g.startedAt.map { Int(now - $0) } ?? 0
        var o: [String: JSONValue] = [
            "vmid": .int(g.vmid), "name": .string(g.name), "status": .string(g.running ? "running" : "stopped"),
            "maxcpu": .int(Int(g.merged["cores"] ?? "1") ?? 1), "maxmem": .int(Int(mem)),
            "mem": .int(g.running ? Int(mem / 3) : 0),
            "maxdisk": .int(Int(maxdisk)), "disk": .int(0), "uptime": .int(uptime),
            "cpu": .double(g.running ? 0.013 : 0),
            "netin": .int(g.running ? uptime * 1200 : 0), "netout": .int(g.running ? uptime * 800 : 0),
            "diskread": .int(g.running ? uptime * 4096 : 0), "diskwrite": .int(g.running ? uptime * 2048 : 0),
            "template": .int(g.isTemplate ? 1 : 0),
        ]
        if let tags = g.config["tags"] { o["tags"] = .string(tags) }
        if let lock = g.lock { o["lock"] = .string(lock) }
        return o
    }

    func guestList(_ node: String, _ type: GuestType) throws -> JSONValue {
        try requireNode(node)
        return .array(
            state.guests.values.filter { $0.node == node && $0.type == type }.sorted { $0.vmid < $1.vmid }.map { g in
                var o = guestUsage(g)
                o["cpus"] = o["maxcpu"]
                o["maxcpu"] = nil
                if type == .lxc {
                    o["type"] = .string("lxc")
                    o["maxswap"] = .int((Int(g.config["swap"] ?? "512") ?? 512) << 20)
                    o["swap"] = .int(0)
                    o["vmid"] = .string(String(g.vmid))  // the CT list sends VMIDs as strings (PVE 7.4 capture)
                }
                if g.running { o["pid"] = .int(10_000 + g.vmid) }
                return .object(o)
            }
        )
    }

    func guestIndex(_ p: [String: String], _ type: GuestType) throws -> JSONValue {
        _ = try guest(p, type)
        let subdirs =
            type == .qemu
            ? ["config", "pending", "status", "clone", "migrate", "resize", "rrd", "firewall", "agent", "snapshot"]
            : ["config", "pending", "status", "clone", "migrate", "resize", "rrd", "firewall", "snapshot"]
        return .array(subdirs.map { .object(["subdir": .string($0)]) })
    }

    func config(_ p: [String: String], _ type: GuestType) throws -> JSONValue {
        let g = try guest(p, type)
        let values = p["current"] == "1" ? g.config : g.merged
        var o = values.filter { $0.key != "cipassword" }.mapValues { JSONValue.string($0) }
        for (k, v) in values { o[k] = ConfigValues.typed(k, v, type) }
        if values["cipassword"] != nil { o["cipassword"] = .string("**********") }
        o["digest"] = .string(digest(g))
        return .object(o)
    }

    /// One item per key: live `value`, `pending` value, `delete` (1, or 2 = force); values as strings.
    func pending(_ p: [String: String], _ type: GuestType) throws -> JSONValue {
        let g = try guest(p, type)
        var items: [JSONValue] = []
        for key in Set(g.config.keys).union(g.pending.keys).union(g.pendingDelete.keys).sorted() {
            var o: [String: JSONValue] = ["key": .string(key)]
            if let v = g.config[key] { o["value"] = .string(key == "cipassword" ? "**********" : v) }
            if let v = g.pending[key] { o["pending"] = .string(v) }
            if let d = g.pendingDelete[key] { o["delete"] = .int(d) }
            items.append(.object(o))
        }
        items.append(.object(["key": .string("digest"), "value": .string(digest(g))]))
        return .array(items)
    }

    func guestStatus(_ g: Guest) -> JSONValue {
        var o = guestUsage(g)
        o["cpus"] = o["maxcpu"]
        o["maxcpu"] = nil
        o["ha"] = .object(["managed": .int(0)])
        if g.type == .qemu {
            o["qmpstatus"] = .string(g.running ? "running" : "stopped")
            if g.running {
                let mem = Int(ConfigValues.memoryMiB(g)) << 20
                o["pid"] = .int(10_000 + g.vmid)
                o["running-machine"] = .string("pc-i440fx-9.2+pve1")
                o["running-qemu"] = .string("9.2.0")
                o["shares"] = .int(Int(g.config["shares"] ?? "1000") ?? 1000)
                o["spice"] = .int(0)
                o["balloon"] = .int(mem)
                o["balloon_min"] = .int((Int(g.config["balloon"] ?? "0") ?? 0) << 20)
                o["freemem"] = .int(mem / 2)
                o["ballooninfo"] = .object([
                    "actual": .int(mem), "max_mem": .int(mem), "total_mem": .int(mem), "free_mem": .int(mem / 2),
                    "last_update": .int(Int(now)), "major_page_faults": .int(0), "minor_page_faults": .int(0),
                    "mem_swapped_in": .int(0), "mem_swapped_out": .int(0),
                ])
                o["proxmox-support"] = .object([
                    "backup-max-workers": .bool(true), "pbs-dirty-bitmap": .bool(true),
                    "pbs-dirty-bitmap-migration": .bool(true),
                    "pbs-dirty-bitmap-savevm": .bool(true), "pbs-masterkey": .bool(true),
                    "query-bitmap-info": .bool(true),
                    "pbs-library-version": .string("1.5.2 (UNKNOWN)"),
                ])
                o["blockstat"] = .object(
                    Dictionary(
                        uniqueKeysWithValues: g.config.keys.filter { ConfigValues.isDisk($0, .qemu) }.map {
                            (
                                $0,
                                JSONValue.object([
                                    "rd_bytes": .int(0), "wr_bytes": .int(0), "rd_operations": .int(0),
                                    "wr_operations": .int(0),
                                ])
                            )
                        }
                    )
                )
                o["nics"] = .object(
                    Dictionary(
                        uniqueKeysWithValues: g.config.keys.filter(ConfigValues.isNIC).map {
                            (
                                "tap\(g.vmid)i\($0.dropFirst(3))",
                                JSONValue.object(["netin": .int(0), "netout": .int(0)])
                            )
                        }
                    )
                )
            }
            o["agent"] = .int(g.config["agent"].map { $0.hasPrefix("1") || $0.contains("enabled=1") } == true ? 1 : 0)
        } else {
            o["type"] = .string("lxc")
            o["maxswap"] = .int((Int(g.config["swap"] ?? "512") ?? 512) << 20)
            o["swap"] = .int(0)
            if g.running { o["pid"] = .int(20_000 + g.vmid) }
        }
        return .object(o)
    }

    // MARK: Create and destroy

    func createGuest(_ p: [String: String], _ type: GuestType, caller: Auth.Caller) throws -> JSONValue {
        let node = p["node"]!
        try requireNode(node)
        let vmid = Int(p["vmid"]!)!
        let noun = type == .qemu ? "VM" : "CT"
        if let existing = state.guests[vmid] {
            throw PVEError(
                "unable to create \(noun) \(vmid) - \(noun) \(vmid) already exists on node '\(existing.node)'"
            )
        }
        if let pool = p["pool"], state.pools[pool] == nil { throw PVEError("pool '\(pool)' does not exist") }
        var g = Guest(vmid: vmid, type: type, node: node, config: [:])
        var config: [String: String] = [:]
        let wrap = { (e: PVEError) -> PVEError in
            e.paramErrors != nil ? e : PVEError("unable to create \(noun) \(vmid) - \(e.message)")
        }
        if type == .lxc {
            let template = p["ostemplate"]!
            let parts = template.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, state.volumes[state.volumeKey(storage: parts[0], name: parts[1], node: node)] != nil
            else {
                throw PVEError("unable to create CT \(vmid) - volume '\(template)' does not exist")
            }
            config = [
                "hostname": "CT\(vmid)", "memory": "512", "swap": "512", "arch": "amd64", "unprivileged": "1",
                "ostype": template.contains("ubuntu") ? "ubuntu" : template.contains("alpine") ? "alpine" : "debian",
            ]
            if p["rootfs"] == nil { config["rootfs"] = "\(p["storage"] ?? "local"):4" }
        }
        for (k, v) in p where !Self.createOnly.contains(k) { config[k] = v }
        do {
            for key in config.keys.sorted() {
                let value = try canonical(key, config[key]!, guest: g)
                g.config[key] = value
            }
        } catch let e as PVEError {
            for (key, v) in state.volumes where v.vmid == vmid && v.content != "backup" && v.content != "vztmpl" {
                state.volumes[key] = nil
            }
            throw wrap(e)
        }
        if type == .qemu {
            g.config["smbios1"] = g.config["smbios1"] ?? "uuid=\(uuid())"
            g.config["vmgenid"] = g.config["vmgenid"] ?? uuid()
            g.config["meta"] = "creation-qemu=9.2.0,ctime=\(Int(now))"
            if g.config["boot"] == nil {
                let disks = g.config.keys.filter {
                    ConfigValues.isDisk($0, .qemu) && !g.config[$0]!.contains("media=cdrom")
                }.sorted()
                let nets = g.config.keys.filter(ConfigValues.isNIC).sorted()
                if let first = disks.first {
                    g.config["boot"] = "order=" + ([first] + nets).joined(separator: ";")
                } else if !nets.isEmpty {
                    g.config["boot"] = "order=" + nets.joined(separator: ";")
                }
            }
        }
        g.config["lock"] = "create"
        state.guests[vmid] = g
        if let pool = p["pool"] { state.pools[pool]?.vmids.insert(vmid) }
        return .string(
            startTask(
                node: node,
                type: type == .qemu ? "qmcreate" : "vzcreate",
                id: String(vmid),
                caller: caller,
                effect: .create(vmid: vmid, start: p["start"] == "1"),
                log: type == .lxc
                    ? ["extracting archive '\(p["ostemplate"]!)'", "Total bytes read: 524288000 (500MiB, 250MiB/s)"]
                    : []
            )
        )
    }

    func destroyGuest(_ p: [String: String], _ type: GuestType, caller: Auth.Caller) throws -> JSONValue {
        let g = try guest(p, type)
        try checkLock(g, skiplock: p["skiplock"] == "1")
        if g.config["protection"] == "1" {
            throw PVEError("can't remove \(g.type.label) \(g.vmid) - protection mode enabled")
        }
        if g.running { throw PVEError("\(g.type.label) \(g.vmid) is running - destroy failed") }
        state.guests[g.vmid]?.config["lock"] = "destroyed"
        return .string(
            startTask(
                node: g.node,
                type: type == .qemu ? "qmdestroy" : "vzdestroy",
                id: String(g.vmid),
                caller: caller,
                effect: .destroy(vmid: g.vmid)
            )
        )
    }

    // MARK: Power

    func power(_ p: [String: String], _ type: GuestType, action: String, caller: Auth.Caller) throws -> JSONValue {
        let g = try guest(p, type)
        try checkLock(g, skiplock: p["skiplock"] == "1")
        let prefix = type == .qemu ? "qm" : "vz"
        let effect: TaskEffect
        switch action {
        case "start":
            if g.running { throw PVEError("\(g.type.label) \(g.vmid) already running") }
            if g.isTemplate { throw PVEError("you can't start a vm if it's a template") }
            effect = .start(vmid: g.vmid)
        case "reboot":
            if !g.running { throw PVEError("\(g.type.label) \(g.vmid) not running") }
            effect = .reboot(vmid: g.vmid)
        default:
            if !g.running { throw PVEError("\(g.type.label) \(g.vmid) not running") }
            effect = .stop(vmid: g.vmid)
        }
        return .string(
            startTask(node: g.node, type: prefix + action, id: String(g.vmid), caller: caller, effect: effect)
        )
    }

    // MARK: Clone

    func clone(_ p: [String: String], _ type: GuestType, caller: Auth.Caller) throws -> JSONValue {
        var source = try guest(p, type)
        let newid = Int(p["newid"]!)!
        if let existing = state.guests[newid] {
            throw PVEError("unable to create \(type.label) \(newid): config file already exists (\(existing.node))")
        }
        if let lock = source.lock, lock != "clone" { throw PVEError("\(type.label) is locked (\(lock))") }
        try takeFileLock(source)
        if let pool = p["pool"], state.pools[pool] == nil { throw PVEError("pool '\(pool)' does not exist") }
        let full = p["full"].map { $0 == "1" } ?? !source.isTemplate
        if !full && !source.isTemplate {
            throw PVEError("parameter 'full' - linked clone feature is only available for templates")
        }
        if type == .lxc && full && source.running {
            throw PVEError("cannot clone a running container without a snapshot")
        }
        let target = p["target"] ?? source.node
        try requireNode(target)
        var g = Guest(vmid: newid, type: type, node: target, config: [:])
        for (key, value) in source.config
        where !["lock", "template", "digest", "meta", "vmgenid", "smbios1"].contains(key)
            && IndexedKey.split(key)?.0 != "unused"
        {
            if ConfigValues.isNIC(key), type == .qemu,
                let keys = ConfigValues.qemuConfig.schema(for: key)?.propertyKeys,
                var nic = try? PropertyString.parse(value, keys: keys, path: key)
            {
                nic["macaddr"] = newMAC()  // a clone always gets new MACs
                g.config[key] = PropertyString.print(nic, keys: keys)
            } else if ConfigValues.isDisk(key, type), !value.contains("media=cdrom") {
                var (volume, options) = ConfigValues.splitDisk(value)
                let parts = volume.split(separator: ":", maxSplits: 1).map(String.init)
                let storageID = p["storage"] ?? parts[0]
                let size = ConfigValues.diskSize(value) ?? 0
                guard let storage = state.storage(storageID) else {
                    throw PVEError("storage '\(storageID)' does not exist")
                }
                if target != source.node && !storage.shared && storageID == parts[0] {
                    throw PVEError("can't clone to node '\(target)' (VM uses local storage)")
                }
                var n = 0
                while state.volumes[state.volumeKey(storage: storageID, name: "vm-\(newid)-disk-\(n)", node: target)]
                    != nil
                { n += 1 }
                if storage.isThin {
                    if let refusal = thinPoolRefusal(storage, node: target, volume: "vm-\(newid)-disk-\(n)") {
                        throw PVEError("clone failed: \(refusal)")
                    }
                } else {
                    guard size <= storage.total - state.used(storage: storageID, node: target) else {
                        throw PVEError("clone failed: storage '\(storageID)' has not enough free space")
                    }
                }
                let name =
                    full ? "vm-\(newid)-disk-\(n)" : "\(parts.count == 2 ? parts[1] : volume)/vm-\(newid)-disk-\(n)"
                // On a thin pool a full clone writes what its source holds; a linked clone shares its base's blocks.
                var written: Int64?
                if storage.isThin {
                    if !full {
                        written = 0
                    } else if parts.count == 2,
                        let from = state.volumes[state.volumeKey(storage: parts[0], name: parts[1], node: source.node)]
                    {
                        written = min(from.allocated, size)
                    } else {
                        written = size
                    }
                }
                state.volumes[state.volumeKey(storage: storageID, name: name, node: target)] =
                    Volume(
                        storage: storageID,
                        name: name,
                        node: target,
                        size: size,
                        vmid: newid,
                        content: type == .qemu ? "images" : "rootdir",
                        ctime: Int(now),
                        used: written
                    )
                volume = "\(storageID):\(name)"
                g.config[key] = ConfigValues.joinDisk(volume, options)
            } else {
                g.config[key] = value
            }
        }
        let nameKey = type == .qemu ? "name" : "hostname"
        g.config[nameKey] = p[type == .qemu ? "name" : "hostname"] ?? "Copy-of-VM-\(source.name)"
        if let d = p["description"] { g.config["description"] = d }
        if type == .qemu {
            g.config["smbios1"] = "uuid=\(uuid())"
            if source.config["vmgenid"] != nil { g.config["vmgenid"] = uuid() }
            g.config["meta"] = "creation-qemu=9.2.0,ctime=\(Int(now))"
        }
        g.config["lock"] = "clone"
        g.clonedFrom = Guest.ClonedFrom(vmid: source.vmid, name: source.name)
        state.guests[newid] = g
        if let pool = p["pool"] { state.pools[pool]?.vmids.insert(newid) }
        let upid = startTask(
            node: source.node,
            type: type == .qemu ? "qmclone" : "vzclone",
            id: String(source.vmid),
            caller: caller,
            effect: .clone(source: source.vmid, vmid: newid),
            log: g.config.keys.sorted().filter { ConfigValues.isDisk($0, type) }.map {
                "create \(full ? "full" : "linked") clone of drive \($0) (\(source.config[$0].map { ConfigValues.splitDisk($0).volume } ?? ""))"
            }
        )
        source.flockTask = upid
        state.guests[source.vmid] = source
        return .string(upid)
    }

    // MARK: Resize

    func resize(_ p: [String: String], _ type: GuestType, caller: Auth.Caller) throws -> JSONValue {
        let g = try guest(p, type)
        try checkLock(g, skiplock: p["skiplock"] == "1")
        if let expected = p["digest"], expected != digest(g) {
            throw PVEError("checksum mismatch (file change by other user?)")
        }
        let disk = p["disk"]!
        guard let value = g.config[disk] else { throw PVEError("disk '\(disk)' does not exist") }
        if value.contains("media=cdrom") { throw PVEError("you can't resize a cdrom") }
        let current = ConfigValues.diskSize(value) ?? 0
        let text = p["size"]!
        guard let amount = ConfigValues.parseSize(text.hasPrefix("+") ? String(text.dropFirst()) : text) else {
            throw PVEError.param("size", "value does not match the regex pattern")
        }
        let target = text.hasPrefix("+") ? current + amount : amount
        if target < current {
            throw PVEError(type == .qemu ? "shrinking disks is not supported" : "unable to shrink disk size")
        }
        if target == current && type == .lxc { throw PVEError("disk is already at specified size") }
        let volume = ConfigValues.splitDisk(value).volume.split(separator: ":").map(String.init)
        // Growing a thin volume writes nothing: a thin pool takes it even when full.
        if let storage = volume.first, let s = state.storage(storage), !s.isThin,
            target - current > s.total - state.used(storage: storage, node: g.node)
        {
            throw PVEError("unable to resize: storage '\(storage)' has not enough free space")
        }
        return .string(
            startTask(
                node: g.node,
                type: "resize",
                id: String(g.vmid),
                caller: caller,
                effect: .resize(vmid: g.vmid, disk: disk, bytes: target)
            )
        )
    }

    // MARK: Migrate

    private func localDisks(_ g: Guest) -> [String] {
        g.config.filter { ConfigValues.isDisk($0.key, g.type) && !$0.value.contains("media=cdrom") }.compactMap { kv in
            let storage = String(ConfigValues.splitDisk(kv.value).volume.split(separator: ":").first ?? "")
            return state.storage(storage)?.shared == true ? nil : ConfigValues.splitDisk(kv.value).volume
        }.sorted()
    }

    func migrationCheck(_ p: [String: String], _ type: GuestType) throws -> JSONValue {
        let g = try guest(p, type)
        let others = state.nodes.map(\.name).filter { $0 != g.node }
        return .object([
            "running": .int(g.running ? 1 : 0),
            "allowed_nodes": .array(others.map { .string($0) }),
            "not_allowed_nodes": .object([:]),
            "local_disks": .array(localDisks(g).map { .object(["volid": .string($0)]) }),
            "local_resources": .array([]),
        ])
    }

    func migrate(_ p: [String: String], _ type: GuestType, caller: Auth.Caller) throws -> JSONValue {
        let g = try guest(p, type)
        let target = p["target"]!
        try requireNode(target)
        if target == g.node { throw PVEError("target is local node.") }
        try checkLock(g)
        var restart = false
        if g.running {
            if type == .lxc {
                if p["online"] == "1" { throw PVEError("lxc live migration is currently not implemented") }
                if p["restart"] != "1" { throw PVEError("CT is running - use online or restart migration") }
                restart = true
            } else {
                if p["online"] != "1" { throw PVEError("can't migrate running VM without --online") }
                if !localDisks(g).isEmpty && p["with-local-disks"] != "1" {
                    throw PVEError("can't live migrate attached local disks without with-local-disks option")
                }
            }
        }
        state.guests[g.vmid]?.config["lock"] = "migrate"
        if restart { state.guests[g.vmid]?.running = false }
        return .string(
            startTask(
                node: g.node,
                type: type == .qemu ? "qmigrate" : "vzmigrate",
                id: String(g.vmid),
                caller: caller,
                effect: .migrate(vmid: g.vmid, target: target, restart: restart),
                log: ["starting migration of \(type.label) \(g.vmid) to node '\(target)' (\(state.node(target)!.ip))"]
            )
        )
    }
}
