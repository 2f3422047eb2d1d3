import SetpointCore

/// `Container` ⇄ LXC config, one row per manifest field: the PVE key or part, its text, PVE's default, and what a
/// change does to a running container (`../shared/pve/IMPACT.md`).
enum ContainerFields {
    typealias Row = FieldTable<PVEField>.Row

    static let table = GuestFieldTable(
        nameKey: "hostname",
        noun: "container",
        fieldRuleFirst: true,
        rows: [
            guest, resources, volumes, networks, settings, GuestPolicies.lifecycleRows(configReason: "applied live"),
        ]
        .flatMap { $0 }
    )

    static let guest: [Row] =
        GuestPolicies.identityRows(
            node: Row(
                "node",
                GuestPolicies.listedNode,
                impact: .restart,
                verb: .migrate,
                reason: "containers migrate in restart mode (no live migration)"
            )
        ) + [
            Row(
                "template",
                PVEField(.createParameter("ostemplate")),
                comparison: .writeOnly,
                impact: .replace,
                reason: "the OS template is unpacked when the container is created"
            ),
            Row(
                "unprivileged",
                PVEField(
                    .key("unprivileged"),
                    .flag,
                    absent: .bool(false),
                    createOnly: true,
                    createDefault: .bool(true)
                ),
                impact: .replace,
                reason: "Proxmox never changes 'unprivileged' after creation"
            ),
            Row(
                "password",
                PVEField(.createParameter("password"), .secret),
                comparison: .writeOnly,
                impact: .replace,
                reason: "the root password is set only when a container is created"
            ),
            Row(
                "sshKeys",
                PVEField(.createParameter("ssh-public-keys"), .keyLines),
                comparison: .writeOnly,
                impact: .replace,
                reason: "root's SSH keys are set only when a container is created"
            ),
        ]

    static let resources: [Row] = [
        Row(
            "hostname",
            PVEField(.key("hostname"), onlyWhenDesired: true, hotWhenStopped: true),
            impact: .restart,
            reason: "written now; the container takes the name at its next start"
        ),
        Row("cores", PVEField(.key("cores"), .integer), impact: .hot, reason: "applied live"),
        Row(
            "memory",
            PVEField(.key("memory"), .mebibytes, absent: .int(512 << 20)),
            impact: .hot,
            reason: "applied live"
        ),
        Row("swap", PVEField(.key("swap"), .mebibytes, absent: .int(512 << 20)), impact: .hot, reason: "applied live"),
    ]

    static let volumes: [Row] = [
        Row("rootfs", PVEField(.key("rootfs"), createOnly: true)),
        Row(
            "rootfs.storage",
            PVEField(.volumeStorage),
            impact: .replace,
            reason: "a volume stays on its storage",
            check: GuestPolicies.noStorageMove
        ),
        Row(
            "rootfs.size",
            PVEField(.volumeSize, .size, absent: .int(0)),
            impact: .hot,
            verb: .resize,
            reason: "volumes grow online",
            check: GuestPolicies.growOnly
        ),
        // Hot when stopped from the map itself down: removing every mount point (or NIC) of a stopped container too.
        Row(
            "mountPoints",
            PVEField(.slots(PVEField.Slots(member: { key, _ in isMountKey(key) })), hotWhenStopped: true)
        ),
        Row(
            "mountPoints.*",
            PVEField(.none),
            impact: .restart,
            reason: "Proxmox detaches a mount point at the next restart and keeps its volume as unusedN",
            dynamicImpact: { query in
                let keys = query.keys
                guard keys.count == 2, query.observed?["mountPoints"]?[keys[1]] == nil else { return nil }
                return (.hot, "a new mount point is allocated and mounted live")
            }
        ),
        Row(
            "mountPoints.*.storage",
            PVEField(.volumeStorage),
            impact: .replace,
            reason: "a volume stays on its storage",
            check: GuestPolicies.noStorageMove
        ),
        Row(
            "mountPoints.*.size",
            PVEField(.volumeSize, .size, absent: .int(0)),
            impact: .hot,
            verb: .resize,
            reason: "volumes grow online",
            check: GuestPolicies.growOnly
        ),
        pendingMountPoint("path", PVEField(.part("mp"), absent: .string(""))),
        pendingMountPoint("backup", PVEField(.part("backup"), .flag, absent: .bool(false))),
        pendingMountPoint("readOnly", PVEField(.part("ro"), .flag, absent: .bool(false))),
    ]

    static let networks: [Row] = [
        Row(
            "networks",
            PVEField(
                .slots(PVEField.Slots(member: { key, _ in VMNICs.isNICKey(key) }, fixedParts: ["type=veth"])),
                hotWhenStopped: true
            )
        ),
        Row("networks.*", PVEField(.none), impact: .hot, reason: "container NICs change live"),
        Row("networks.*.name", PVEField(.first("name"))),
        Row("networks.*.bridge", PVEField(.part("bridge"))),
        Row("networks.*.ip", PVEField(.part("ip"))),
        Row("networks.*.gateway", PVEField(.part("gw"))),
        Row("networks.*.ip6", PVEField(.part("ip6"))),
        Row("networks.*.gateway6", PVEField(.part("gw6"))),
        Row("networks.*.vlan", PVEField(.part("tag"), .integer)),
        Row("networks.*.firewall", PVEField(.part("firewall"), .flag, absent: .bool(false))),
        Row(
            "networks.*.mtu",
            PVEField(.part("mtu"), .integer),
            impact: .restart,
            reason: "an existing NIC takes a new MTU at the next start"
        ),
        Row(
            "networks.*.macaddr",
            PVEField(.part("hwaddr"), keepsCurrent: true),
            comparison: .computed,
            impact: .hot,
            reason: "the veth is recreated with the new MAC"
        ),
    ]

    static let settings: [Row] = [
        pendingUntilRestart("features", PVEField(.key("features"), absent: .map([:]))),
        Row("features.nesting", PVEField(.part("nesting"), .flag, absent: .bool(false))),
        Row("features.keyctl", PVEField(.part("keyctl"), .flag, absent: .bool(false))),
        Row("features.fuse", PVEField(.part("fuse"), .flag, absent: .bool(false))),
        pendingUntilRestart("nameserver", PVEField(.key("nameserver"))),
        pendingUntilRestart("searchDomain", PVEField(.key("searchdomain"))),
    ]

    static func isMountKey(_ key: String) -> Bool { key.hasPrefix("mp") && Int(key.dropFirst(2)) != nil }

    static func pendingUntilRestart(_ name: String, _ field: PVEField) -> Row {
        var field = field
        field.hotWhenStopped = true
        return Row(name, field, impact: .restart, reason: "Proxmox keeps \(name) pending until the container restarts")
    }

    static func pendingMountPoint(_ name: String, _ field: PVEField) -> Row {
        Row(
            "mountPoints.*.\(name)",
            field,
            impact: .restart,
            reason: "a mount point change is pending until the container restarts"
        )
    }
}
