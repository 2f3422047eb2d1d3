/// How a change to a running guest takes effect, per `IMPACT.md` (qemu-server `vmconfig_hotplug_pending`,
/// pve-container `update_pct_config`).
public enum HotplugOutcome: Sendable, Equatable {
    /// Applied now.
    case live
    /// Stays in `[PENDING]` until PVE stops/starts the guest.
    case pending
}

enum QemuHotplug {
    /// `hotplug`: unset or `1` = network,disk,usb; `0` = none.
    static func features(_ value: String?) -> Set<String> {
        guard let value else { return ["network", "disk", "usb"] }
        if value == "1" { return ["network", "disk", "usb"] }
        if value == "0" { return [] }
        return Set(value.split(separator: ",").map(String.init))
    }

    static let fastPlug: Set<String> = [
        "name", "description", "tags", "onboot", "protection", "startup", "hookscript", "lock", "migrate_downtime",
        "migrate_speed", "shares", "vmstatestorage",
    ]
    static let cloudInit: Set<String> = [
        "ciuser", "cipassword", "citype", "ciupgrade", "cicustom", "nameserver", "searchdomain", "sshkeys",
    ]
    static let nicTapLevel: Set<String> = ["bridge", "tag", "trunks", "firewall", "rate", "link_down"]
    static let nicReplug: Set<String> = ["model", "macaddr", "queues", "mtu"]
    static let diskPendingOptions: Set<String> = [
        "aio", "discard", "iothread", "queues", "product", "cache", "ssd", "vendor", "ro",
    ]

    static func isCloudInit(_ key: String) -> Bool { cloudInit.contains(key) || IndexedKey.split(key)?.0 == "ipconfig" }

    /// A QEMU key set (`new` non-nil) or deleted (`new` nil) on a running VM.
    static func decide(_ key: String, old: String?, new: String?, guest g: Guest) -> HotplugOutcome {
        let flags = features(g.config["hotplug"])
        let base = IndexedKey.split(key)?.0 ?? key
        if fastPlug.contains(key) || isCloudInit(key) { return .live }
        switch base {
        case "cores", "sockets": return .pending
        case "vcpus": return g.startedHotplug.contains("cpu") ? .live : .pending
        case "memory": return g.startedHotplug.contains("memory") && g.startedNUMA ? .live : .pending
        case "balloon":
            let was = old.map { $0 != "0" } ?? true
            let will = new.map { $0 != "0" } ?? true
            return was && will ? .live : .pending
        case "cpulimit", "cpuunits": return .live
        case "hotplug":
            let touched = features(old).union(features(new))
            return touched.contains("cpu") || touched.contains("memory") ? .pending : .live
        case "tablet", "usb": return flags.contains("usb") ? .live : .pending
        case "net": return nic(old: old, new: new, network: flags.contains("network"))
        case "scsi", "virtio", "ide", "sata", "efidisk", "tpmstate":
            return disk(key, base: base, old: old, new: new, diskFlag: flags.contains("disk"))
        default: return .pending
        }
    }

    private static func nic(old: String?, new: String?, network: Bool) -> HotplugOutcome {
        guard let old, let new else { return network ? .live : .pending }
        let keys = ConfigValues.qemuConfig.schema(for: "net0")!.propertyKeys!
        guard let a = try? PropertyString.parse(old, keys: keys, path: "net"),
            let b = try? PropertyString.parse(new, keys: keys, path: "net")
        else { return .pending }
        let changed = Set(a.keys).union(b.keys).filter { a[$0] != b[$0] }
        if changed.isEmpty || changed.isSubset(of: nicTapLevel) { return .live }
        if !changed.isDisjoint(with: nicReplug) { return network ? .live : .pending }
        return .live  // other sub-options: written to config, no live effect
    }

    private static func disk(_ key: String, base: String, old: String?, new: String?, diskFlag: Bool) -> HotplugOutcome
    {
        let hotpluggableBus = base == "scsi" || base == "virtio"
        guard let new else { return diskFlag && hotpluggableBus ? .live : .pending }
        guard let old else { return diskFlag && hotpluggableBus ? .live : .pending }
        if base == "efidisk" || base == "tpmstate" { return .pending }
        let a = ConfigValues.splitDisk(old)
        let b = ConfigValues.splitDisk(new)
        let oa = Dictionary(a.options, uniquingKeysWith: { x, _ in x })
        let ob = Dictionary(b.options, uniquingKeysWith: { x, _ in x })
        if oa["media"] == "cdrom" || ob["media"] == "cdrom" { return .live }  // medium change
        if a.volume != b.volume { return diskFlag ? .live : .pending }
        let changed = Set(oa.keys).union(ob.keys).filter { oa[$0] != ob[$0] && $0 != "size" }
        if !changed.isDisjoint(with: diskPendingOptions) { return .pending }
        return .live  // throttles (live) and options written to config only
    }
}

enum LXCHotplug {
    static let live: Set<String> = [
        "description", "onboot", "startup", "protection", "hookscript", "tags", "lock", "cores", "hostname", "memory",
        "swap",
        "cpulimit", "cpuunits",
    ]

    static func decide(_ key: String, old: String?, new: String?) -> HotplugOutcome {
        if live.contains(key) { return .live }
        switch IndexedKey.split(key)?.0 {
        case "net": return .live
        case "mp", "dev": return old == nil && new != nil ? .live : .pending
        default: return .pending
        }
    }
}
