import SetpointCore

/// `VirtualMachine` ⇄ QEMU config, one row per manifest field: the PVE key or part, its text, PVE's default, and
/// what a change does to a running VM (`../shared/pve/IMPACT.md`). A stopped VM takes every change marked
/// `hotWhenStopped` at once.
enum VirtualMachineFields {
    typealias Row = FieldTable<PVEField>.Row

    static let table = GuestFieldTable(
        nameKey: "name",
        noun: "VM",
        fieldRuleFirst: false,
        rows: [
            guest, cpuAndMemory, firmware, disks, networks, cloudInit,
            GuestPolicies.lifecycleRows(configReason: "config only: applied at once"),
        ].flatMap { $0 }
    )

    static let guest: [Row] =
        GuestPolicies.identityRows(
            node: Row(
                "node",
                GuestPolicies.listedNode,
                impact: .hot,
                verb: .migrate,
                reason: "a node change is a migration (live while running), not a replacement"
            )
        ) + [
            Row(
                "clone",
                PVEField(.none),
                comparison: .writeOnly,
                impact: .replace,
                reason: "the clone source is fixed when the guest is created"
            ),
            Row("clone.vmid", PVEField(.none)),
            Row("clone.full", PVEField(.none)),
            Row("clone.storage", PVEField(.none)),
        ]

    static let cpuAndMemory: [Row] = [
        pendingUntilRestart("cores", PVEField(.key("cores"), .integer, absent: .int(1))),
        pendingUntilRestart("sockets", PVEField(.key("sockets"), .integer, absent: .int(1))),
        Row(
            "vcpus",
            PVEField(.key("vcpus"), .integer, hotWhenStopped: true),
            impact: .restart,
            reason: "without CPU hotplug Proxmox keeps vcpus pending until the VM is restarted",
            dynamicImpact: { query in
                GuestPolicies.hotplug(query.observed).contains("cpu")
                    ? (.hot, "CPU hotplug is on: vCPUs are plugged and unplugged live") : nil
            }
        ),
        pendingUntilRestart("cpu", PVEField(.key("cpu"), .leading("cputype", .string))),
        Row(
            "memory",
            PVEField(.key("memory"), .mebibytes, absent: .int(512 << 20), hotWhenStopped: true),
            impact: .restart,
            reason: "without memory hotplug and NUMA, memory changes wait for a restart",
            dynamicImpact: { query in
                GuestPolicies.hotplug(query.observed).contains("memory") && query.observed?["numa"] == .bool(true)
                    ? (.hot, "memory hotplug and NUMA are on: memory changes live") : nil
            }
        ),
        Row(
            "balloon",
            PVEField(.key("balloon"), .mebibytes),
            impact: .hot,
            reason: "the balloon target changes live while ballooning stays on",
            dynamicImpact: { query in
                // Turning ballooning on or off (0 ↔ n) waits for a restart; n → m is live.
                guard GuestPolicies.isRunning(query.observed) else { return nil }
                let was = query.observed?["balloon"].map { $0 != .int(0) } ?? true
                let will = query.after.map { $0 != .int(0) } ?? true
                return was != will ? (.restart, "turning the balloon device on or off waits for a restart") : nil
            }
        ),
        pendingUntilRestart("numa", PVEField(.key("numa"), .flag, absent: .bool(false))),
        Row(
            "hotplug",
            PVEField(.key("hotplug"), .list(whenOn: defaultHotplug), absent: .list(defaultHotplug.map(Value.string))),
            impact: .hot,
            reason: "hotplug flags change live unless cpu or memory are involved",
            dynamicImpact: { query in
                guard GuestPolicies.isRunning(query.observed) else { return nil }
                let old = GuestPolicies.hotplug(query.observed)
                let new = Set((query.after?.listValue ?? []).compactMap(\.stringValue))
                return old.union(new).isDisjoint(with: ["cpu", "memory"])
                    ? nil : (.restart, "a hotplug change involving cpu or memory waits for a restart")
            }
        ),
    ]

    /// PVE's hotplug default (`1`, or no key): network, disk and USB.
    static let defaultHotplug = ["network", "disk", "usb"]

    static let firmware: [Row] = [
        pendingUntilRestart("bios", PVEField(.key("bios"), absent: .string("seabios"))),
        pendingUntilRestart("machine", PVEField(.key("machine"))),
        pendingUntilRestart("osType", PVEField(.key("ostype"), absent: .string("other"))),
        pendingUntilRestart("agent", PVEField(.key("agent"), .leading("enabled", .flag), absent: .bool(false))),
        pendingUntilRestart("scsiController", PVEField(.key("scsihw"), absent: .string("lsi"))),
    ]

    static let disks: [Row] = [
        Row("disks", PVEField(.slots(VMDisks.slots))),
        Row(
            "disks.*",
            PVEField(.none),
            impact: .dataLoss,
            reason: "removing a disk frees its volume (force): its data is lost",
            dynamicImpact: { query in
                let keys = query.keys
                guard keys.count == 2, query.observed?["disks"]?[keys[1]] == nil else { return nil }  // a removal
                if !GuestPolicies.isRunning(query.observed) {
                    return (.hot, "the VM is stopped: the disk is attached at once")
                }
                if !GuestPolicies.hotplug(query.observed).contains("disk") || keys[1].hasPrefix("sata")
                    || keys[1].hasPrefix("ide")
                {
                    return (.restart, "without disk hotplug (or on IDE/SATA) a disk is attached at the next start")
                }
                return (.hot, "a new disk is hot-plugged (disk hotplug)")
            }
        ),
        Row(
            "disks.*.storage",
            PVEField(.volumeStorage, hotWhenStopped: true),
            impact: .replace,
            reason: "a volume stays on its storage",
            check: GuestPolicies.noStorageMove
        ),
        Row(
            "disks.*.size",
            PVEField(.volumeSize, .size, absent: .int(0), hotWhenStopped: true),
            impact: .hot,
            verb: .resize,
            reason: "disks grow online",
            check: GuestPolicies.growOnly
        ),
        Row("disks.*.format", PVEField(.part("format"), createOnly: true), comparison: .ignore),
        restartsDisk("cache", PVEField(.part("cache"), absent: .string("none"), hotWhenStopped: true)),
        restartsDisk("discard", PVEField(.part("discard"), .onIgnore, absent: .bool(false), hotWhenStopped: true)),
        restartsDisk("ssd", PVEField(.part("ssd"), .flag, absent: .bool(false), hotWhenStopped: true)),
        restartsDisk("iothread", PVEField(.part("iothread"), .flag, absent: .bool(false), hotWhenStopped: true)),
        Row(
            "disks.*.backup",
            PVEField(.part("backup"), .flag, absent: .bool(true), omitted: .bool(true), hotWhenStopped: true),
            impact: .hot,
            reason: "written to the config; used by the next backup"
        ),
    ]

    static let networks: [Row] = [
        Row("networks", PVEField(.slots(VMNICs.slots))),
        Row(
            "networks.*",
            PVEField(.none, hotWhenStopped: true),
            impact: .hot,
            reason: "NICs plug and unplug live with network hotplug",
            dynamicImpact: replugsNIC
        ),
        Row("networks.*.bridge", PVEField(.part("bridge")), impact: .hot, reason: tapLevel),
        Row("networks.*.model", PVEField(.nicModel), impact: .hot, reason: replug, dynamicImpact: replugsNIC),
        Row("networks.*.vlan", PVEField(.part("tag"), .integer), impact: .hot, reason: tapLevel),
        Row(
            "networks.*.firewall",
            PVEField(.part("firewall"), .flag, absent: .bool(false)),
            impact: .hot,
            reason: tapLevel
        ),
        Row(
            "networks.*.mtu",
            PVEField(.part("mtu"), .integer),
            impact: .hot,
            reason: replug,
            dynamicImpact: replugsNIC
        ),
        Row(
            "networks.*.macaddr",
            PVEField(.nicMAC),
            comparison: .computed,
            impact: .hot,
            reason: "the NIC is unplugged and plugged again with the new MAC",
            dynamicImpact: replugsNIC
        ),
        Row("networks.*.rate", PVEField(.part("rate"), .number), impact: .hot, reason: tapLevel),
    ]

    static let tapLevel = "a tap-level change: the NIC stays"
    static let replug = "the NIC is unplugged and plugged again (the guest sees a new NIC)"

    /// A NIC added, removed or replugged waits for a restart without network hotplug.
    static let replugsNIC: FieldTable<PVEField>.ImpactRule = { query in
        GuestPolicies.hotplug(query.observed).contains("network")
            ? nil : (.restart, "without network hotplug the NIC change waits for a restart")
    }

    static let cloudInit: [Row] = [
        Row(
            "cloudInit",
            PVEField(.group, hotWhenStopped: true),
            impact: .restart,
            reason: "the guest reads cloud-init at its next boot"
        ),
        Row("cloudInit.user", PVEField(.key("ciuser"))),
        Row("cloudInit.password", PVEField(.key("cipassword"), .secret), comparison: .writeOnly),
        Row("cloudInit.sshKeys", PVEField(.key("sshkeys"), .encodedKeys)),
        Row(
            "cloudInit.ipConfig",
            PVEField(
                .slots(
                    PVEField.Slots(
                        member: { key, _ in key.hasPrefix("ipconfig") },
                        manifestKey: { "net" + $0.dropFirst("ipconfig".count) },
                        configKey: { "ipconfig" + $0.dropFirst("net".count) }
                    )
                ),
                tableOrder: true
            )
        ),
        Row("cloudInit.ipConfig.*", PVEField(.none)),
        Row("cloudInit.ipConfig.*.ip", PVEField(.part("ip"))),
        Row("cloudInit.ipConfig.*.gateway", PVEField(.part("gw"))),
        Row("cloudInit.ipConfig.*.ip6", PVEField(.part("ip6"))),
        Row("cloudInit.ipConfig.*.gateway6", PVEField(.part("gw6"))),
        Row("cloudInit.nameserver", PVEField(.key("nameserver"))),
        Row("cloudInit.searchDomain", PVEField(.key("searchdomain"))),
        Row("cloudInit.storage", PVEField(.cloudInitDrive)),
    ]

    /// A QEMU key PVE keeps pending until the VM restarts (a stopped VM takes it at once).
    static func pendingUntilRestart(_ name: String, _ field: PVEField) -> Row {
        var field = field
        field.hotWhenStopped = true
        return Row(name, field, impact: .restart, reason: "Proxmox keeps \(name) pending until the VM is restarted")
    }

    static func restartsDisk(_ name: String, _ field: PVEField) -> Row {
        Row("disks.*.\(name)", field, impact: .restart, reason: "Proxmox applies disk \(name) at the next start")
    }
}
