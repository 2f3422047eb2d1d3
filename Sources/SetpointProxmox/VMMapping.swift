import SetpointCore

/// `VirtualMachine` ⇄ QEMU config: the observed spec in the manifest's shape, and the PVE keys a spec sets.
enum VMMapping {
    static let diskBuses = ["scsi", "virtio", "sata", "ide"]

    static func isDiskKey(_ key: String) -> Bool {
        diskBuses.contains { key.hasPrefix($0) && Int(key.dropFirst($0.count)) != nil }
    }

    static func isNICKey(_ key: String) -> Bool { key.hasPrefix("net") && Int(key.dropFirst(3)) != nil }

    static func isCloudInitDrive(_ value: String) -> Bool { value.contains("cloudinit") }

    /// `[current=]2048` → MiB.
    static func memoryMiB(_ text: String?) -> Int64 {
        guard let text else { return 512 }
        for (k, v) in PVEValues.pairs(text) where k.isEmpty || k == "current" { return Int64(v) ?? 512 }
        return 512
    }

    /// The spec PVE's config says, shaped like `desired` (fields the manifest leaves out that PVE always has are
    /// still reported; reference-like fields are echoed).
    static func spec(_ config: [String: String], guest g: GuestState, desired: Value) -> Value {
        var s: [String: Value] = [:]
        let d = desired.mapValue
        if let cluster = d["cluster"] { s["cluster"] = cluster }
        if d["node"] != nil { s["node"] = .string(g.node) }
        if d["vmid"] != nil { s["vmid"] = .int(Int64(g.vmid)) }
        s["cores"] = .int(Int64(config["cores"] ?? "1") ?? 1)
        s["sockets"] = .int(Int64(config["sockets"] ?? "1") ?? 1)
        if let cpu = config["cpu"] {
            let pairs = PVEValues.pairs(cpu)
            s["cpu"] = .string(pairs.first { $0.key.isEmpty || $0.key == "cputype" }?.value ?? cpu)
        }
        s["memory"] = .int(memoryMiB(config["memory"]) << 20)
        if let balloon = config["balloon"], let mib = Int64(balloon) { s["balloon"] = .int(mib << 20) }
        s["numa"] = .bool(PVEValues.bool(config["numa"]) ?? false)
        let hotplug: [String] = {
            guard let h = config["hotplug"] else { return ["network", "disk", "usb"] }
            if h == "1" { return ["network", "disk", "usb"] }
            if h == "0" { return [] }
            return h.split(separator: ",").map(String.init)
        }()
        s["hotplug"] = PVEValues.inDesiredOrder(hotplug, desired: d["hotplug"])
        s["bios"] = .string(config["bios"] ?? "seabios")
        if let machine = config["machine"] { s["machine"] = .string(machine) }
        s["osType"] = .string(config["ostype"] ?? "other")
        if let agent = config["agent"] {
            let pairs = PVEValues.pairs(agent)
            s["agent"] = .bool(PVEValues.bool(pairs.first { $0.key.isEmpty || $0.key == "enabled" }?.value) ?? false)
        } else {
            s["agent"] = .bool(false)
        }
        s["scsiController"] = .string(config["scsihw"] ?? "lsi")
        var disks: [String: Value] = [:]
        var cloudStorage: String?
        for (key, value) in config where isDiskKey(key) {
            let pairs = PVEValues.pairs(value)
            let options = Dictionary(
                pairs.filter { !$0.key.isEmpty }.map { ($0.key, $0.value) },
                uniquingKeysWith: { a, _ in a }
            )
            let volume = pairs.first { $0.key.isEmpty || $0.key == "file" }?.value ?? ""
            if isCloudInitDrive(volume) {
                cloudStorage = String(volume.split(separator: ":").first ?? "")
                continue
            }
            if options["media"] == "cdrom" { continue }
            var disk: [String: Value] = [
                "storage": .string(String(volume.split(separator: ":").first ?? "")),
                "size": .int(options["size"].flatMap(PVEValues.size) ?? 0),
                "cache": .string(options["cache"] ?? "none"),
                "discard": .bool(options["discard"] == "on"),
                "ssd": .bool(PVEValues.bool(options["ssd"]) ?? false),
                "iothread": .bool(PVEValues.bool(options["iothread"]) ?? false),
                "backup": .bool(PVEValues.bool(options["backup"]) ?? true),
            ]
            if let format = options["format"] { disk["format"] = .string(format) }
            disks[key] = .map(disk)
        }
        s["disks"] = .map(disks)
        var networks: [String: Value] = [:]
        for (key, value) in config where isNICKey(key) {
            var nic: [String: Value] = [:]
            for (k, v) in PVEValues.pairs(value) {
                switch k {
                case "bridge": nic["bridge"] = .string(v)
                case "tag": nic["vlan"] = Int64(v).map(Value.int)
                case "firewall": nic["firewall"] = .bool(PVEValues.bool(v) ?? false)
                case "mtu": nic["mtu"] = Int64(v).map(Value.int)
                case "rate": nic["rate"] = Double(v).map(Value.double)
                case "macaddr": nic["macaddr"] = .string(v)
                case "model": nic["model"] = .string(v)
                case "": nic["model"] = .string(v)
                default:
                    if k.count > 1, v.count == 17, v.filter({ $0 == ":" }).count == 5 {  // virtio=BC:24:…
                        nic["model"] = .string(k)
                        nic["macaddr"] = .string(v)
                    }
                }
            }
            if nic["firewall"] == nil { nic["firewall"] = .bool(false) }
            networks[key] = .map(nic)
        }
        s["networks"] = .map(networks)
        var cloud: [String: Value] = [:]
        if let user = config["ciuser"] { cloud["user"] = .string(user) }
        if let keys = config["sshkeys"] { cloud["sshKeys"] = .list(PVEValues.decodeKeys(keys).map(Value.string)) }
        if let ns = config["nameserver"] { cloud["nameserver"] = .string(ns) }
        if let sd = config["searchdomain"] { cloud["searchDomain"] = .string(sd) }
        if let storage = cloudStorage { cloud["storage"] = .string(storage) }
        var ipConfig: [String: Value] = [:]
        for (key, value) in config where key.hasPrefix("ipconfig") {
            var ip: [String: Value] = [:]
            for (k, v) in PVEValues.pairs(value) {
                switch k {
                case "ip": ip["ip"] = .string(v)
                case "gw": ip["gateway"] = .string(v)
                case "ip6": ip["ip6"] = .string(v)
                case "gw6": ip["gateway6"] = .string(v)
                default: break
                }
            }
            ipConfig["net" + key.dropFirst("ipconfig".count)] = .map(ip)
        }
        if !ipConfig.isEmpty { cloud["ipConfig"] = .map(ipConfig) }
        if !cloud.isEmpty || d["cloudInit"] != nil { s["cloudInit"] = .map(cloud) }
        if let pool = g.pool { s["pool"] = .string(pool) }
        s["tags"] = PVEValues.inDesiredOrder(PVEValues.tags(config["tags"]), desired: d["tags"])
        s["state"] = .string(g.running ? "running" : "stopped")
        s["onBoot"] = .bool(PVEValues.bool(config["onboot"]) ?? false)
        s["protection"] = .bool(PVEValues.bool(config["protection"]) ?? false)
        if let description = config["description"] { s["description"] = .string(description) }
        return .map(s)
    }

    /// The PVE config keys a spec sets, in PVE's text. `current` is the config as it is (to keep volumes and MACs).
    static func config(
        _ spec: VirtualMachineSpec,
        name: String,
        current: [String: String],
        secrets: any SecretResolver,
        forCreate: Bool
    ) throws -> [String: String] {
        var c: [String: String] = ["name": name]
        if let v = spec.cores { c["cores"] = String(v) }
        if let v = spec.sockets { c["sockets"] = String(v) }
        if let v = spec.cpu { c["cpu"] = v }
        if let v = spec.memory { c["memory"] = String(v.bytes >> 20) }
        if let v = spec.balloon { c["balloon"] = String(v.bytes >> 20) }
        if let v = spec.numa { c["numa"] = PVEValues.flag(v) }
        if let v = spec.hotplug { c["hotplug"] = v.isEmpty ? "0" : v.joined(separator: ",") }
        if let v = spec.bios { c["bios"] = v }
        if let v = spec.machine { c["machine"] = v }
        if let v = spec.osType { c["ostype"] = v }
        if let v = spec.agent { c["agent"] = PVEValues.flag(v) }
        if let v = spec.scsiController { c["scsihw"] = v }
        for (slot, disk) in spec.disks ?? [:] {
            var options: [(String, String)] = []
            if let v = disk.cache { options.append(("cache", v)) }
            if let v = disk.discard { options.append(("discard", v ? "on" : "ignore")) }
            if let v = disk.ssd { options.append(("ssd", PVEValues.flag(v))) }
            if let v = disk.iothread { options.append(("iothread", PVEValues.flag(v))) }
            if disk.backup == false { options.append(("backup", "0")) }
            let existing = current[slot].map { PVEValues.pairs($0) }
            if let existing, let volume = existing.first(where: { $0.key.isEmpty || $0.key == "file" })?.value,
                volume.hasPrefix(disk.storage + ":")
            {
                // Same volume: options change, the size stays what storage says (resize is its own call).
                let size = existing.first { $0.key == "size" }?.value
                options += size.map { [("size", $0)] } ?? []
                c[slot] = ([volume] + options.sorted { $0.0 < $1.0 }.map { "\($0.0)=\($0.1)" }).joined(separator: ",")
            } else {
                if forCreate, let f = disk.format { options.append(("format", f)) }
                c[slot] = (["\(disk.storage):\(PVEValues.gib(disk.size.bytes))"] + options.map { "\($0.0)=\($0.1)" })
                    .joined(separator: ",")
            }
        }
        for (slot, nic) in spec.networks ?? [:] {
            let model = nic.model ?? "virtio"
            var currentMAC: String?
            if let existing = current[slot] {
                for (k, v) in PVEValues.pairs(existing)
                where k == "macaddr" || (v.count == 17 && v.filter({ $0 == ":" }).count == 5) { currentMAC = v }
            }
            // Always the current MAC back: without it PVE generates a new one (a NIC replug, or a pending change).
            let mac = nic.macaddr ?? currentMAC
            var parts = [mac.map { "\(model)=\($0)" } ?? model, "bridge=\(nic.bridge)"]
            if let v = nic.firewall { parts.append("firewall=\(PVEValues.flag(v))") }
            if let v = nic.mtu { parts.append("mtu=\(v)") }
            if let v = nic.rate { parts.append("rate=\(v == v.rounded() ? String(Int(v)) : String(v))") }
            if let v = nic.vlan { parts.append("tag=\(v)") }
            c[slot] = ([parts[0]] + parts.dropFirst().sorted()).joined(separator: ",")
        }
        if let ci = spec.cloudInit {
            if let v = ci.user { c["ciuser"] = v }
            if let v = ci.password { c["cipassword"] = try secrets.resolve(v) }
            if let v = ci.sshKeys { c["sshkeys"] = PVEValues.encodeKeys(v) }
            if let v = ci.nameserver { c["nameserver"] = v }
            if let v = ci.searchDomain { c["searchdomain"] = v }
            for (slot, ip) in ci.ipConfig ?? [:] {
                var parts: [String] = []
                if let v = ip.ip { parts.append("ip=\(v)") }
                if let v = ip.gateway { parts.append("gw=\(v)") }
                if let v = ip.ip6 { parts.append("ip6=\(v)") }
                if let v = ip.gateway6 { parts.append("gw6=\(v)") }
                c["ipconfig" + slot.dropFirst(3)] = parts.joined(separator: ",")
            }
            let hasDrive = current.contains { isDiskKey($0.key) && isCloudInitDrive($0.value) }
            if !hasDrive {
                let storage = ci.storage ?? spec.disks?.values.first?.storage ?? "local-lvm"
                let free =
                    ["ide2", "ide0", "ide1", "ide3"].first { current[$0] == nil && spec.disks?[$0] == nil } ?? "ide2"
                c[free] = "\(storage):cloudinit"
            }
        }
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

    /// The PVE keys behind a changed spec path (`disks.scsi1.cache` → `scsi1`, `cloudInit.ipConfig.net0` → `ipconfig0`).
    static func keys(for path: FieldPath, desired: VirtualMachineSpec, current: [String: String]) -> [String] {
        let keys = path.keyNames
        guard let first = keys.first else { return [] }
        let simple = [
            "cores": "cores", "sockets": "sockets", "cpu": "cpu", "memory": "memory", "balloon": "balloon",
            "numa": "numa",
            "hotplug": "hotplug", "bios": "bios", "machine": "machine", "osType": "ostype", "agent": "agent",
            "scsiController": "scsihw", "onBoot": "onboot", "protection": "protection", "description": "description",
            "tags": "tags",
        ]
        if let key = simple[first] { return [key] }
        switch first {
        case "disks", "networks":
            if keys.count > 1 { return [keys[1]] }
            let slots = first == "disks" ? Array((desired.disks ?? [:]).keys) : Array((desired.networks ?? [:]).keys)
            return slots
                + current.keys.filter {
                    first == "disks"
                        ? isDiskKey($0) && !current[$0]!.contains("media=cdrom") && !isCloudInitDrive(current[$0]!)
                        : isNICKey($0)
                }
        case "cloudInit":
            let map = [
                "user": ["ciuser"], "password": ["cipassword"], "sshKeys": ["sshkeys"], "nameserver": ["nameserver"],
                "searchDomain": ["searchdomain"],
            ]
            if keys.count > 1 {
                if keys[1] == "ipConfig" {
                    if keys.count > 2 { return ["ipconfig" + keys[2].dropFirst(3)] }
                    return (desired.cloudInit?.ipConfig ?? [:]).keys.map { "ipconfig" + $0.dropFirst(3) }
                        + current.keys.filter { $0.hasPrefix("ipconfig") }
                }
                return map[keys[1]] ?? []
            }
            return ["ciuser", "cipassword", "sshkeys", "nameserver", "searchdomain"]
                + current.keys.filter { $0.hasPrefix("ipconfig") }
                + (desired.cloudInit?.ipConfig ?? [:]).keys.map { "ipconfig" + $0.dropFirst(3) }
        default:
            return []
        }
    }
}
