import SetpointCore

/// What changing each guest field does, from PVE's own rules (`../shared/pve/IMPACT.md`), for running guests;
/// a stopped guest takes every change at once (hot).
enum GuestPolicies {
    /// Where an observed spec keeps the live values of fields it reports by their unwanted pending value.
    static let stagedLiveKey = "(live before pending)"

    static func isRunning(_ observed: Value?) -> Bool { observed?["state"] == .string("running") }

    static func hotplug(_ observed: Value?) -> Set<String> {
        Set((observed?["hotplug"]?.listValue ?? []).compactMap(\.stringValue))
    }

    /// Disks only grow: PVE refuses a shrink ("shrinking disks is not supported").
    static let growOnly: @Sendable (FieldChange) -> String? = { change in
        if case .int(let before)? = change.before, case .int(let after)? = change.after, after < before {
            return "disks only grow: Proxmox refuses to shrink a volume (\(before >> 20) MiB → \(after >> 20) MiB); "
                + "keep the size, or add a new disk and move the data"
        }
        return nil
    }

    /// A guest, pool or job belongs to one cluster: Setpoint does not move it (it would leave the old one behind).
    static let noClusterMove: @Sendable (FieldChange) -> String? = { change in
        change.before != nil && change.after != nil
            ? "it cannot move to another ProxmoxCluster: declare a new resource for the new cluster and remove this one (with --prune)"
            : nil
    }

    static let noStorageMove: @Sendable (FieldChange) -> String? = { change in
        change.before != nil && change.after != nil
            ? "moving a volume to another storage is not something Setpoint does in place; move it in Proxmox (Move Storage) and update the manifest"
            : nil
    }

    static func virtualMachine() -> FieldPolicy {
        var p = FieldPolicy()
        p.stagesRestarts = true
        p.defaultImpact = .restart
        p.rule("cluster", impact: .replace, reason: "a guest cannot move between clusters", check: noClusterMove)
        p.rule("vmid", impact: .replace, reason: "a VMID is the guest's identity")
        p.rule(
            "clone",
            comparison: .writeOnly,
            impact: .replace,
            reason: "the clone source is fixed when the guest is created"
        )
        p.rule("placement", comparison: .ignore)
        p.rule(
            "node",
            impact: .hot,
            verb: .migrate,
            reason: "a node change is a migration (live while running), not a replacement"
        )
        for key in ["cores", "sockets", "cpu", "bios", "machine", "osType", "scsiController", "numa", "agent"] {
            p.rule(key, impact: .restart, reason: "Proxmox keeps \(key) pending until the VM is restarted")
        }
        p.rule("memory", impact: .restart, reason: "without memory hotplug and NUMA, memory changes wait for a restart")
        p.rule("balloon", impact: .hot, reason: "the balloon target changes live while ballooning stays on")
        p.rule("hotplug", impact: .hot, reason: "hotplug flags change live unless cpu or memory are involved")
        p.rule("disks.*", impact: .dataLoss, reason: "removing a disk frees its volume (force): its data is lost")
        p.rule("disks.*.size", impact: .hot, verb: .resize, reason: "disks grow online", check: growOnly)
        p.rule("disks.*.storage", impact: .replace, reason: "a volume stays on its storage", check: noStorageMove)
        p.rule("disks.*.format", comparison: .ignore)
        p.rule("disks.*.backup", impact: .hot, reason: "written to the config; used by the next backup")
        for key in ["cache", "discard", "ssd", "iothread"] {
            p.rule("disks.*.\(key)", impact: .restart, reason: "Proxmox applies disk \(key) at the next start")
        }
        p.rule("networks.*", impact: .hot, reason: "NICs plug and unplug live with network hotplug")
        for key in ["bridge", "vlan", "firewall", "rate"] {
            p.rule("networks.*.\(key)", impact: .hot, reason: "a tap-level change: the NIC stays")
        }
        for key in ["model", "mtu"] {
            p.rule(
                "networks.*.\(key)",
                impact: .hot,
                reason: "the NIC is unplugged and plugged again (the guest sees a new NIC)"
            )
        }
        p.rule(
            "networks.*.macaddr",
            comparison: .computed,
            impact: .hot,
            reason: "the NIC is unplugged and plugged again with the new MAC"
        )
        p.rule("cloudInit", impact: .restart, reason: "the guest reads cloud-init at its next boot")
        p.rule(
            "cloudInit.password",
            comparison: .writeOnly,
            impact: .restart,
            reason: "the guest reads cloud-init at its next boot"
        )
        for key in ["pool", "tags", "onBoot", "protection", "description"] {
            p.rule(key, impact: .hot, reason: "config only: applied at once")
        }
        p.rule("state", impact: .hot, reason: "start or shut down")
        p.dynamicImpact = { path, observed, after in
            let keys = path.keyNames
            guard let first = keys.first else { return nil }
            if let live = observed?[stagedLiveKey]?[first], keys.count == 1, live == after {
                return (
                    .hot, "reverts a change someone staged in Proxmox: the pending value is dropped, nothing restarts"
                )
            }
            let running = isRunning(observed)
            let flags = hotplug(observed)
            let restartable: Set<String> = [
                "cores", "sockets", "cpu", "bios", "machine", "osType", "scsiController", "numa", "agent", "memory",
                "cloudInit",
            ]
            if !running,
                restartable.contains(first) || (first == "disks" && keys.count == 3)
                    || (first == "networks" && keys.count >= 2)
            {
                return (.hot, "the VM is stopped: Proxmox applies the change at once")
            }
            switch first {
            case "balloon" where running:
                // Turning ballooning on or off (0 ↔ n) waits for a restart; n → m is live.
                let was = observed?["balloon"].map { $0 != .int(0) } ?? true
                let will = after.map { $0 != .int(0) } ?? true
                if was != will { return (.restart, "turning the balloon device on or off waits for a restart") }
            case "hotplug" where running:
                let old = Set((observed?["hotplug"]?.listValue ?? []).compactMap(\.stringValue))
                let new = Set((after?.listValue ?? []).compactMap(\.stringValue))
                if !old.union(new).isDisjoint(with: ["cpu", "memory"]) {
                    return (.restart, "a hotplug change involving cpu or memory waits for a restart")
                }
            case "memory":
                if flags.contains("memory") && observed?["numa"] == .bool(true) {
                    return (.hot, "memory hotplug and NUMA are on: memory changes live")
                }
            case "disks" where keys.count == 2:
                if observed?["disks"]?[keys[1]] != nil { return nil }  // a removal: the rule's dataLoss
                if !running { return (.hot, "the VM is stopped: the disk is attached at once") }
                if !flags.contains("disk") || keys[1].hasPrefix("sata") || keys[1].hasPrefix("ide") {
                    return (.restart, "without disk hotplug (or on IDE/SATA) a disk is attached at the next start")
                }
                return (.hot, "a new disk is hot-plugged (disk hotplug)")
            case "networks"
            where keys.count == 2 || (keys.count == 3 && ["model", "mtu", "macaddr"].contains(keys[2])):
                if !flags.contains("network") {
                    return (.restart, "without network hotplug the NIC change waits for a restart")
                }
            default: break
            }
            return nil
        }
        return p
    }

    static func container() -> FieldPolicy {
        var p = FieldPolicy()
        p.stagesRestarts = true
        p.defaultImpact = .restart
        p.rule("cluster", impact: .replace, reason: "a guest cannot move between clusters", check: noClusterMove)
        p.rule("vmid", impact: .replace, reason: "a VMID is the guest's identity")
        p.rule(
            "template",
            comparison: .writeOnly,
            impact: .replace,
            reason: "the OS template is unpacked when the container is created"
        )
        p.rule("unprivileged", impact: .replace, reason: "Proxmox never changes 'unprivileged' after creation")
        p.rule(
            "password",
            comparison: .writeOnly,
            impact: .replace,
            reason: "the root password is set only when a container is created"
        )
        p.rule(
            "sshKeys",
            comparison: .writeOnly,
            impact: .replace,
            reason: "root's SSH keys are set only when a container is created"
        )
        p.rule("placement", comparison: .ignore)
        p.rule(
            "node",
            impact: .restart,
            verb: .migrate,
            reason: "containers migrate in restart mode (no live migration)"
        )
        for key in ["cores", "memory", "swap", "pool", "tags", "onBoot", "protection", "description"] {
            p.rule(key, impact: .hot, reason: "applied live")
        }
        p.rule("hostname", impact: .restart, reason: "written now; the container takes the name at its next start")
        p.rule("rootfs.size", impact: .hot, verb: .resize, reason: "volumes grow online", check: growOnly)
        p.rule("rootfs.storage", impact: .replace, reason: "a volume stays on its storage", check: noStorageMove)
        p.rule(
            "mountPoints.*",
            impact: .restart,
            reason: "Proxmox detaches a mount point at the next restart and keeps its volume as unusedN"
        )
        p.rule(
            "mountPoints.*.backup",
            impact: .restart,
            reason: "a mount point change is pending until the container restarts"
        )
        p.rule(
            "mountPoints.*.readOnly",
            impact: .restart,
            reason: "a mount point change is pending until the container restarts"
        )
        p.rule("mountPoints.*.size", impact: .hot, verb: .resize, reason: "volumes grow online", check: growOnly)
        p.rule("mountPoints.*.storage", impact: .replace, reason: "a volume stays on its storage", check: noStorageMove)
        p.rule(
            "mountPoints.*.path",
            impact: .restart,
            reason: "a mount point change is pending until the container restarts"
        )
        p.rule("networks.*", impact: .hot, reason: "container NICs change live")
        p.rule("networks.*.mtu", impact: .restart, reason: "an existing NIC takes a new MTU at the next start")
        p.rule(
            "networks.*.macaddr",
            comparison: .computed,
            impact: .hot,
            reason: "the veth is recreated with the new MAC"
        )
        for key in ["features", "nameserver", "searchDomain"] {
            p.rule(key, impact: .restart, reason: "Proxmox keeps \(key) pending until the container restarts")
        }
        p.rule("state", impact: .hot, reason: "start or shut down")
        p.dynamicImpact = { path, observed, after in
            let keys = path.keyNames
            if let live = observed?[stagedLiveKey]?[keys.first ?? ""], keys.count == 1, live == after {
                return (
                    .hot, "reverts a change someone staged in Proxmox: the pending value is dropped, nothing restarts"
                )
            }
            if keys.count == 2, keys[0] == "mountPoints", observed?["mountPoints"]?[keys[1]] == nil {
                return (.hot, "a new mount point is allocated and mounted live")
            }
            guard !isRunning(observed), let first = path.components.first, case .key(let k) = first,
                ["hostname", "features", "nameserver", "searchDomain", "mountPoints", "networks"].contains(k)
            else { return nil }
            return (.hot, "the container is stopped: Proxmox applies the change at once")
        }
        return p
    }

    static func pool() -> FieldPolicy {
        var p = FieldPolicy()
        p.rule("cluster", impact: .replace, reason: "a pool cannot move between clusters", check: noClusterMove)
        p.rule("comment", impact: .hot, reason: "applied at once")
        return p
    }

    static func backupJob() -> FieldPolicy {
        var p = FieldPolicy()
        p.rule("cluster", impact: .replace, reason: "a job cannot move between clusters", check: noClusterMove)
        p.defaultImpact = .hot
        return p
    }
}
