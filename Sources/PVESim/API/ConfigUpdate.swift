import Foundation

/// Parameters of the config methods that are not config keys.
let configMethodParams: Set<String> = [
    "node", "vmid", "delete", "digest", "force", "revert", "skiplock", "background_delay",
]

extension PVESimulator {
    /// PVE's update flow (IMPACT.md §0): every set/delete goes to `[PENDING]`; pending values equal to the live ones
    /// are dropped; a running guest hot-applies what it can of this call's keys; a stopped one applies everything.
    func updateConfig(_ g: inout Guest, params: [String: String], caller: Auth.Caller) throws {
        try checkLock(g, skiplock: params["skiplock"] == "1")
        try takeFileLock(g)
        if let expected = params["digest"], expected != digest(g) {
            throw PVEError(
                g.type == .qemu
                    ? "checksum mismatch (file change by other user?)"
                    : "detected modified configuration - file changed by other user? Try again."
            )
        }
        let deletes = (params["delete"] ?? "").split(whereSeparator: { $0 == "," || $0 == ";" || $0 == " " }).map(
            String.init
        )
        let reverts = (params["revert"] ?? "").split(whereSeparator: { $0 == "," || $0 == ";" || $0 == " " }).map(
            String.init
        )
        let sets = params.filter { !configMethodParams.contains($0.key) }
        for key in Set(deletes).intersection(sets.keys) {
            throw PVEError.param(key, "cannot set and delete '\(key)' at the same time")
        }
        for key in Array(sets.keys) + deletes where !caller.privileges.contains(Auth.configPrivilege(key)) {
            throw PVEError("Permission check failed (/vms/\(g.vmid), \(Auth.configPrivilege(key)))", status: 403)
        }
        if g.type == .lxc {
            if sets["unprivileged"] != nil || deletes.contains("unprivileged") {
                throw PVEError.param("unprivileged", "unable to modify read-only option: 'unprivileged'")
            }
            for key in deletes where ["rootfs", "memory", "ostype", "arch"].contains(key) {
                throw PVEError("unable to delete required option '\(key)'")
            }
        }
        let protected = g.merged["protection"] == "1"
        for key in deletes where protected && (ConfigValues.isDisk(key, g.type) || IndexedKey.split(key)?.0 == "unused")
        {
            throw PVEError(
                "can't remove \(IndexedKey.split(key)?.0 == "unused" ? "unused disk" : "drive") '\(key)' - protection mode enabled"
            )
        }
        for key in reverts {
            g.pending[key] = nil
            g.pendingDelete[key] = nil
        }
        var touched: [String] = []
        for key in deletes {
            guard g.config[key] != nil || g.pending[key] != nil else { continue }
            if key == "tags" || IndexedKey.split(key)?.0 == "unused" || key == "vmstate" {
                // Acted on directly: an unused volume is destroyed at once (data loss).
                if IndexedKey.split(key)?.0 == "unused", let v = g.config[key] {
                    freeVolume(ConfigValues.splitDisk(v).volume, node: g.node)
                }
                g.config[key] = nil
                g.pending[key] = nil
                continue
            }
            g.pending[key] = nil
            if g.config[key] != nil { g.pendingDelete[key] = params["force"] == "1" ? 2 : 1 }
            touched.append(key)
        }
        for key in sets.keys.sorted() {
            let value = try canonical(key, sets[key]!, guest: g)
            if g.type == .qemu && key == "cipassword" || g.type == .qemu && QemuHotplug.isCloudInit(key) {
                g.config[key] = value
                continue
            }
            g.pending[key] = value
            g.pendingDelete[key] = nil
            touched.append(key)
        }
        // cleanup_pending: a pending value whose text equals the live one is no change.
        for (key, value) in g.pending where g.config[key] == value { g.pending[key] = nil }
        guard g.running else {
            applyAllPending(&g)
            return
        }
        for key in touched {
            let old = g.config[key]
            let new: String? = g.pending[key] ?? (g.pendingDelete[key] != nil ? nil : old)
            if g.pending[key] == nil && g.pendingDelete[key] == nil { continue }
            let outcome =
                g.type == .qemu
                ? QemuHotplug.decide(key, old: old, new: new, guest: g) : LXCHotplug.decide(key, old: old, new: new)
            if outcome == .live { applyPending(&g, key: key) }
        }
    }

    /// A value in the form PVE stores it: tags normalised, NIC MACs generated (a NIC sent without its MAC gets a new
    /// one), disks allocated (`local-lvm:4` → `local-lvm:vm-100-disk-0,size=4G`), booleans as 0/1.
    func canonical(_ key: String, _ value: String, guest g: Guest) throws -> String {
        if key == "tags" { return ConfigValues.normalizeTags(value) }
        if ConfigValues.isNIC(key), let keys = ConfigValues.configSchema(g.type).schema(for: key)?.propertyKeys {
            var nic = try parsed(key, value, keys)
            if g.type == .qemu {
                if nic["macaddr"] == nil { nic["macaddr"] = newMAC() }
                return PropertyString.print(nic, keys: keys)
            }
            if nic["hwaddr"] == nil { nic["hwaddr"] = newMAC() }
            if nic["type"] == nil { nic["type"] = "veth" }
            let name = nic.removeValue(forKey: "name").map { "name=\($0)" }
            return ([name].compactMap { $0 } + nic.keys.sorted().map { "\($0)=\(nic[$0]!)" }).joined(separator: ",")
        }
        if ConfigValues.isDisk(key, g.type) { return try allocateDisk(key, value, guest: g) }
        if let schema = ConfigValues.configSchema(g.type).schema(for: key), schema.type == "boolean" {
            return ParamValidator.parseBoolean(value).map { $0 ? "1" : "0" } ?? value
        }
        return value
    }

    private func parsed(_ key: String, _ value: String, _ keys: [String: ParamSchema]) throws -> [String: String] {
        do { return try PropertyString.parse(value, keys: keys, path: key) } catch {
            throw PVEError.param(key, "invalid format - \(error.message)")
        }
    }

    func allocateDisk(_ key: String, _ value: String, guest g: Guest) throws -> String {
        var (volume, options) = ConfigValues.splitDisk(value)
        if volume == "none" || options.contains(where: { $0 == ("media", "cdrom") }) || volume.hasSuffix(".iso") {
            if !options.contains(where: { $0.0 == "media" }) { options.append(("media", "cdrom")) }
            return ConfigValues.joinDisk(volume, options.sorted { $0.0 < $1.0 })
        }
        if volume.hasPrefix("/") { return value }  // a bind mount or device path (root only in PVE)
        let parts = volume.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, let storage = state.storage(parts[0]) else {
            throw PVEError("storage '\(parts.first ?? volume)' does not exist")
        }
        options.removeAll { $0.0 == "size" || $0.0 == "format" || $0.0 == "import-from" }
        let wanted = g.type == .qemu ? "images" : "rootdir"
        if parts[1] == "cloudinit" && g.type == .qemu {
            let name = "vm-\(g.vmid)-cloudinit"
            if let refusal = thinPoolRefusal(storage, node: g.node, volume: name) { throw PVEError(refusal) }
            state.volumes[state.volumeKey(storage: storage.id, name: name, node: g.node)] =
                Volume(
                    storage: storage.id,
                    name: name,
                    node: g.node,
                    size: 4 << 20,
                    vmid: g.vmid,
                    content: "images",
                    ctime: Int(now)
                )
            options.removeAll { $0.0 == "media" }
            return ConfigValues.joinDisk(
                "\(storage.id):\(name)",
                ([("media", "cdrom"), ("size", "4M")] + options).sorted { $0.0 < $1.0 }
            )
        }
        if let gib = Double(parts[1]) {
            guard storage.content.contains(wanted) else {
                throw PVEError("storage '\(storage.id)' does not support content-type '\(wanted)'")
            }
            let bytes = Int64(gib * 1_073_741_824)
            var n = 0
            while state.volumes[state.volumeKey(storage: storage.id, name: "vm-\(g.vmid)-disk-\(n)", node: g.node)]
                != nil
            { n += 1 }
            let name = "vm-\(g.vmid)-disk-\(n)"
            if storage.isThin {
                // A thin volume may be larger than the pool's free space: nothing is written yet.
                if let refusal = thinPoolRefusal(storage, node: g.node, volume: name) { throw PVEError(refusal) }
            } else {
                let free = storage.total - state.used(storage: storage.id, node: g.node)
                guard bytes <= free else {
                    throw PVEError(
                        "unable to create image: storage '\(storage.id)' has not enough free space (requested \(ConfigValues.formatSize(bytes)), available \(ConfigValues.formatSize(max(0, free))))"
                    )
                }
            }
            state.volumes[state.volumeKey(storage: storage.id, name: name, node: g.node)] =
                Volume(
                    storage: storage.id,
                    name: name,
                    node: g.node,
                    size: bytes,
                    vmid: g.vmid,
                    content: wanted,
                    ctime: Int(now),
                    used: storage.isThin ? 0 : nil
                )
            volume = "\(storage.id):\(name)"
            options.append(("size", ConfigValues.formatSize(bytes)))
        } else {
            guard let v = state.volumes[state.volumeKey(storage: storage.id, name: parts[1], node: g.node)] else {
                throw PVEError("volume '\(volume)' does not exist")
            }
            options.append(("size", ConfigValues.formatSize(v.size)))  // refreshed from storage
        }
        return ConfigValues.joinDisk(volume, options.sorted { $0.0 < $1.0 })
    }

    func freeVolume(_ volid: String, node: String) {
        let parts = volid.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return }
        state.volumes[state.volumeKey(storage: parts[0], name: parts[1], node: node)] = nil
    }

    /// Applies one pending set or delete to the live config; a replaced or removed disk's volume becomes `unusedN`
    /// (or is freed with `force`).
    func applyPending(_ g: inout Guest, key: String) {
        let old = g.config[key]
        if let value = g.pending.removeValue(forKey: key) {
            if let old, ConfigValues.isDisk(key, g.type),
                ConfigValues.splitDisk(old).volume != ConfigValues.splitDisk(value).volume
            {
                keepAsUnused(&g, old)
            }
            g.config[key] = value
        } else if let mode = g.pendingDelete.removeValue(forKey: key) {
            if let old, ConfigValues.isDisk(key, g.type) {
                if mode == 2 {
                    freeVolume(ConfigValues.splitDisk(old).volume, node: g.node)
                } else {
                    keepAsUnused(&g, old)
                }
            }
            g.config[key] = nil
        }
    }

    func applyAllPending(_ g: inout Guest) {
        for key in Array(g.pendingDelete.keys).sorted() + Array(g.pending.keys).sorted() { applyPending(&g, key: key) }
    }

    private func keepAsUnused(_ g: inout Guest, _ value: String) {
        let volume = ConfigValues.splitDisk(value).volume
        guard volume.contains(":"), !value.contains("media=cdrom"), volume != "none" else { return }
        var n = 0
        while g.config["unused\(n)"] != nil { n += 1 }
        g.config["unused\(n)"] = volume
    }

    /// Grows a disk: the volume and every `size=` that names it.
    func resizeDisk(_ g: inout Guest, key: String, bytes: Int64) {
        guard let value = g.config[key] else { return }
        let volume = ConfigValues.splitDisk(value).volume
        let parts = volume.split(separator: ":", maxSplits: 1).map(String.init)
        if parts.count == 2 {
            state.volumes[state.volumeKey(storage: parts[0], name: parts[1], node: g.node)]?.size = bytes
        }
        func resized(_ v: String) -> String {
            var (vol, options) = ConfigValues.splitDisk(v)
            guard vol == volume else { return v }
            options.removeAll { $0.0 == "size" }
            options.append(("size", ConfigValues.formatSize(bytes)))
            vol = volume
            return ConfigValues.joinDisk(vol, options.sorted { $0.0 < $1.0 })
        }
        g.config[key] = resized(value)
        if let p = g.pending[key] { g.pending[key] = resized(p) }
    }
}
