import SetpointCore

/// `Container` ⇄ LXC config.
enum CTMapping {
    static func isMountKey(_ key: String) -> Bool { key.hasPrefix("mp") && Int(key.dropFirst(2)) != nil }

    static func spec(_ config: [String: String], guest g: GuestState, desired: Value) -> Value {
        var s: [String: Value] = [:]
        let d = desired.mapValue
        if let cluster = d["cluster"] { s["cluster"] = cluster }
        if d["node"] != nil { s["node"] = .string(g.node) }
        if d["vmid"] != nil { s["vmid"] = .int(Int64(g.vmid)) }
        if let hostname = config["hostname"], d["hostname"] != nil { s["hostname"] = .string(hostname) }
        if let cores = config["cores"] { s["cores"] = Int64(cores).map(Value.int) }
        s["memory"] = .int((Int64(config["memory"] ?? "512") ?? 512) << 20)
        s["swap"] = .int((Int64(config["swap"] ?? "512") ?? 512) << 20)
        func volume(_ text: String) -> (storage: String, size: Int64, options: [String: String]) {
            let pairs = PVEValues.pairs(text)
            let vol = pairs.first { $0.key.isEmpty || $0.key == "volume" }?.value ?? ""
            let options = Dictionary(
                pairs.filter { !$0.key.isEmpty }.map { ($0.key, $0.value) },
                uniquingKeysWith: { a, _ in a }
            )
            return (
                String(vol.split(separator: ":").first ?? ""), options["size"].flatMap(PVEValues.size) ?? 0, options
            )
        }
        if let rootfs = config["rootfs"] {
            let v = volume(rootfs)
            s["rootfs"] = .map(["storage": .string(v.storage), "size": .int(v.size)])
        }
        var mounts: [String: Value] = [:]
        for (key, value) in config where isMountKey(key) {
            let v = volume(value)
            mounts[key] = .map([
                "storage": .string(v.storage), "size": .int(v.size), "path": .string(v.options["mp"] ?? ""),
                "backup": .bool(PVEValues.bool(v.options["backup"]) ?? false),
                "readOnly": .bool(PVEValues.bool(v.options["ro"]) ?? false),
            ])
        }
        s["mountPoints"] = .map(mounts)
        var networks: [String: Value] = [:]
        for (key, value) in config where VMMapping.isNICKey(key) {
            var nic: [String: Value] = ["firewall": .bool(false)]
            for (k, v) in PVEValues.pairs(value) {
                switch k {
                case "name": nic["name"] = .string(v)
                case "bridge": nic["bridge"] = .string(v)
                case "ip": nic["ip"] = .string(v)
                case "gw": nic["gateway"] = .string(v)
                case "ip6": nic["ip6"] = .string(v)
                case "gw6": nic["gateway6"] = .string(v)
                case "tag": nic["vlan"] = Int64(v).map(Value.int)
                case "firewall": nic["firewall"] = .bool(PVEValues.bool(v) ?? false)
                case "mtu": nic["mtu"] = Int64(v).map(Value.int)
                case "hwaddr": nic["macaddr"] = .string(v)
                default: break
                }
            }
            networks[key] = .map(nic)
        }
        s["networks"] = .map(networks)
        s["unprivileged"] = .bool(PVEValues.bool(config["unprivileged"]) ?? false)
        let features = PVEValues.dict(config["features"] ?? "")
        s["features"] = .map([
            "nesting": .bool(PVEValues.bool(features["nesting"]) ?? false),
            "keyctl": .bool(PVEValues.bool(features["keyctl"]) ?? false),
            "fuse": .bool(PVEValues.bool(features["fuse"]) ?? false),
        ])
        if let ns = config["nameserver"] { s["nameserver"] = .string(ns) }
        if let sd = config["searchdomain"] { s["searchDomain"] = .string(sd) }
        if let pool = g.pool { s["pool"] = .string(pool) }
        s["tags"] = PVEValues.inDesiredOrder(PVEValues.tags(config["tags"]), desired: d["tags"])
        s["state"] = .string(g.running ? "running" : "stopped")
        s["onBoot"] = .bool(PVEValues.bool(config["onboot"]) ?? false)
        s["protection"] = .bool(PVEValues.bool(config["protection"]) ?? false)
        if let description = config["description"] { s["description"] = .string(description) }
        return .map(s)
    }

    /// The LXC config keys a spec sets (`current` keeps volumes and MACs).
    static func config(_ spec: ContainerSpec, name: String, current: [String: String]) -> [String: String] {
        var c: [String: String] = ["hostname": spec.hostname ?? name]
        if let v = spec.cores { c["cores"] = String(v) }
        if let v = spec.memory { c["memory"] = String(v.bytes >> 20) }
        if let v = spec.swap { c["swap"] = String(v.bytes >> 20) }
        func existingVolume(_ key: String, storage: String) -> (String, String?)? {
            guard let text = current[key] else { return nil }
            let pairs = PVEValues.pairs(text)
            guard let vol = pairs.first(where: { $0.key.isEmpty || $0.key == "volume" })?.value,
                vol.hasPrefix(storage + ":")
            else { return nil }
            return (vol, pairs.first { $0.key == "size" }?.value)
        }
        if let existing = existingVolume("rootfs", storage: spec.rootfs.storage) {
            c["rootfs"] = existing.0 + (existing.1.map { ",size=\($0)" } ?? "")
        } else {
            c["rootfs"] = "\(spec.rootfs.storage):\(PVEValues.gib(spec.rootfs.size.bytes))"
        }
        for (slot, mp) in spec.mountPoints ?? [:] {
            var options = ["mp=\(mp.path)"]
            if let v = mp.backup { options.append("backup=\(PVEValues.flag(v))") }
            if let v = mp.readOnly { options.append("ro=\(PVEValues.flag(v))") }
            if let existing = existingVolume(slot, storage: mp.storage) {
                c[slot] = ([existing.0] + (options + (existing.1.map { ["size=\($0)"] } ?? [])).sorted()).joined(
                    separator: ","
                )
            } else {
                c[slot] = (["\(mp.storage):\(PVEValues.gib(mp.size.bytes))"] + options).joined(separator: ",")
            }
        }
        for (slot, nic) in spec.networks ?? [:] {
            var parts = ["bridge=\(nic.bridge)"]
            if let v = nic.ip { parts.append("ip=\(v)") }
            if let v = nic.gateway { parts.append("gw=\(v)") }
            if let v = nic.ip6 { parts.append("ip6=\(v)") }
            if let v = nic.gateway6 { parts.append("gw6=\(v)") }
            if let v = nic.vlan { parts.append("tag=\(v)") }
            if let v = nic.firewall { parts.append("firewall=\(PVEValues.flag(v))") }
            if let v = nic.mtu { parts.append("mtu=\(v)") }
            var mac = nic.macaddr
            if mac == nil, let existing = current[slot] { mac = PVEValues.dict(existing)["hwaddr"] }
            if let mac { parts.append("hwaddr=\(mac)") }
            parts.append("type=veth")
            c[slot] = (["name=\(nic.name)"] + parts.sorted()).joined(separator: ",")
        }
        if let f = spec.features {
            var parts: [String] = []
            if let v = f.fuse { parts.append("fuse=\(PVEValues.flag(v))") }
            if let v = f.keyctl { parts.append("keyctl=\(PVEValues.flag(v))") }
            if let v = f.nesting { parts.append("nesting=\(PVEValues.flag(v))") }
            if !parts.isEmpty { c["features"] = parts.joined(separator: ",") }
        }
        if let v = spec.nameserver { c["nameserver"] = v }
        if let v = spec.searchDomain { c["searchdomain"] = v }
        PVEValues.setLifecycle(
            &c,
            onBoot: spec.onBoot,
            protection: spec.protection,
            description: spec.description,
            tags: spec.tags,
            current: current
        )
        return c
    }

    static func keys(for path: FieldPath, desired: ContainerSpec, current: [String: String]) -> [String] {
        let keys = path.keyNames
        guard let first = keys.first else { return [] }
        let simple = [
            "hostname": "hostname", "cores": "cores", "memory": "memory", "swap": "swap", "features": "features",
            "nameserver": "nameserver", "searchDomain": "searchdomain", "onBoot": "onboot", "protection": "protection",
            "description": "description", "tags": "tags", "rootfs": "rootfs",
        ]
        if let key = simple[first] { return [key] }
        switch first {
        case "mountPoints":
            if keys.count > 1 { return [keys[1]] }
            return Array((desired.mountPoints ?? [:]).keys) + current.keys.filter(isMountKey)
        case "networks":
            if keys.count > 1 { return [keys[1]] }
            return Array((desired.networks ?? [:]).keys) + current.keys.filter(VMMapping.isNICKey)
        default:
            return []
        }
    }
}
