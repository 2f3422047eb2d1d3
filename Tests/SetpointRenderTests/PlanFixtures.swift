import SetpointCore

/// Plans built by hand, shaped like the planner's output, for the rendering tests.
enum PlanFixtures {
    static func id(_ text: String) -> ResourceID { ResourceID(parsing: text)! }
    static func gi(_ n: Int64) -> Value { .int(n << 30) }
    static func mi(_ n: Int64) -> Value { .int(n << 20) }
    static let source = Plan.Source(
        paths: ["infra/prod"],
        gitCommit: "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b",
        manifestDigest: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    )

    static func noop(_ resource: String, providerID: String? = nil) -> Action {
        Action(resource: id(resource), verb: .noop, providerID: providerID)
    }

    /// Every verb: a create with a secret, an update with drift and restart impact plus its restart, a resize, a
    /// migrate, a replace, a Postgres parameter change with its restart and a switchover, a pruned orphan, no-ops.
    static let production: Plan = {
        let api3 = Action(
            resource: id("VirtualMachine/api-3"),
            verb: .create,
            changes: [
                FieldChange(
                    path: ["cloudInit"],
                    before: nil,
                    after: .map(["user": .string("ops"), "password": .secret(.env("API_ROOT_PASSWORD"))]),
                    isSensitive: true,
                    origin: .manifest,
                    impact: .hot
                ),
                FieldChange(
                    path: ["cluster"],
                    before: nil,
                    after: .string("pve-main"),
                    origin: .manifest,
                    impact: .hot
                ),
                FieldChange(path: ["cores"], before: nil, after: .int(2), origin: .manifest, impact: .hot),
                FieldChange(
                    path: ["disks"],
                    before: nil,
                    after: .map([
                        "scsi0": .map(["storage": .string("local-lvm"), "size": gi(32), "discard": .bool(true)])
                    ]),
                    origin: .manifest,
                    impact: .hot
                ),
                FieldChange(path: ["memory"], before: nil, after: gi(4), origin: .manifest, impact: .hot),
                FieldChange(
                    path: ["networks"],
                    before: nil,
                    after: .map(["net0": .map(["bridge": .string("vmbr0"), "vlan": .int(20)])]),
                    origin: .manifest,
                    impact: .hot
                ),
                FieldChange(
                    path: ["tags"],
                    before: nil,
                    after: .list([.string("api"), .string("prod")]),
                    origin: .manifest,
                    impact: .hot
                ),
            ],
            reasons: ["VirtualMachine/api-3 does not exist"],
            dependsOn: []
        )
        let api1 = Action(
            resource: id("VirtualMachine/api-1"),
            verb: .update,
            changes: [
                FieldChange(
                    path: ["balloon"],
                    before: nil,
                    after: gi(1),
                    origin: .manifest,
                    impact: .restart,
                    reason: "enabling the balloon device takes effect at the next restart"
                ),
                FieldChange(
                    path: ["cores"],
                    before: .int(2),
                    after: .int(4),
                    origin: .manifest,
                    impact: .restart,
                    reason: "cores and sockets change at the next restart"
                ),
                FieldChange(
                    path: ["description"],
                    before: .string("temporary: load test"),
                    after: nil,
                    origin: .manifest,
                    impact: .hot
                ),
                FieldChange(
                    path: ["memory"],
                    before: gi(2),
                    after: gi(4),
                    origin: .drift,
                    impact: .restart,
                    reason: "memory is hot-pluggable only with NUMA and memory hotplug"
                ),
                FieldChange(
                    path: ["tags"],
                    before: .list([.string("api")]),
                    after: .list([.string("api"), .string("prod")]),
                    origin: .manifest,
                    impact: .hot
                ),
            ],
            impact: .restart,
            reasons: [
                "drift: the system no longer matches the last apply",
                "cores and sockets change at the next restart",
                "memory is hot-pluggable only with NUMA and memory hotplug",
            ],
            providerID: "101"
        )
        let api1Restart = Action(
            resource: id("VirtualMachine/api-1"),
            verb: .restart,
            impact: .restart,
            reasons: ["restart-impact changes take effect at the next restart"],
            dependsOn: [api1.id],
            requiresApproval: true,
            providerID: "101"
        )
        let api2 = Action(
            resource: id("VirtualMachine/api-2"),
            verb: .migrate,
            changes: [
                FieldChange(
                    path: ["node"],
                    before: .string("pve1"),
                    after: .string("pve2"),
                    origin: .manifest,
                    impact: .hot,
                    reason: "a node change is a live migration"
                )
            ],
            reasons: ["a node change is a live migration"],
            providerID: "102"
        )
        let db1 = Action(
            resource: id("VirtualMachine/db-1"),
            verb: .resize,
            changes: [
                FieldChange(
                    path: ["disks", "scsi1", "size"],
                    before: gi(100),
                    after: gi(200),
                    origin: .manifest,
                    impact: .hot,
                    reason: "disks grow online"
                )
            ],
            reasons: ["disks grow online"],
            providerID: "110"
        )
        let build1 = Action(
            resource: id("VirtualMachine/build-1"),
            verb: .replace,
            changes: [
                FieldChange(
                    path: ["clone", "vmid"],
                    before: .int(9000),
                    after: .int(9001),
                    origin: .manifest,
                    impact: .replace,
                    reason: "the template of a clone is fixed at creation"
                ),
                FieldChange(
                    path: ["disks", "scsi0"],
                    before: .map(["storage": .string("local-lvm"), "size": gi(20)]),
                    after: nil,
                    origin: .manifest,
                    impact: .dataLoss,
                    reason: "removing a disk destroys its data"
                ),
            ],
            impact: .dataLoss,
            reasons: ["spec.clone.vmid forces replacement: the template of a clone is fixed at creation"],
            requiresApproval: true,
            providerID: "120"
        )
        let mainDB = Action(
            resource: id("PostgresCluster/main-db"),
            verb: .update,
            changes: [
                FieldChange(
                    path: ["connection", "connectTimeout"],
                    before: .int(5_000),
                    after: .int(10_000),
                    origin: .manifest,
                    impact: .hot
                ),
                FieldChange(
                    path: ["parameters", "max_connections"],
                    before: .string("200"),
                    after: .string("400"),
                    origin: .manifest,
                    impact: .restart,
                    reason: "max_connections is a postmaster parameter: it takes effect at the next restart"
                ),
                FieldChange(
                    path: ["parameters", "work_mem"],
                    before: .string("4MB"),
                    after: .string("16MB"),
                    origin: .drift,
                    impact: .hot
                ),
                FieldChange(
                    path: ["replication", "password"],
                    before: nil,
                    after: .secret(.env("PG_REPLICATION_PASSWORD")),
                    isSensitive: true,
                    origin: .manifest,
                    impact: .hot
                ),
            ],
            impact: .restart,
            reasons: [
                "drift: the system no longer matches the last apply",
                "max_connections is a postmaster parameter: it takes effect at the next restart",
            ],
            dependsOn: []
        )
        let mainDBRestart = Action(
            resource: id("PostgresCluster/main-db"),
            verb: .restart,
            impact: .restart,
            reasons: ["restart-impact changes take effect at the next restart"],
            dependsOn: [mainDB.id],
            requiresApproval: true
        )
        let mainDBPromote = Action(
            resource: id("PostgresCluster/main-db"),
            verb: .promote,
            changes: [
                FieldChange(
                    path: ["primary"],
                    before: .string("pg-1"),
                    after: .string("pg-2"),
                    origin: .manifest,
                    impact: .hot,
                    reason: "changing the primary is a switchover"
                )
            ],
            reasons: ["changing the primary is a switchover", "annotated setpoint/approval: required"],
            dependsOn: [mainDBRestart.id],
            requiresApproval: true
        )
        let old1 = Action(
            resource: id("VirtualMachine/old-1"),
            verb: .delete,
            impact: .dataLoss,
            reasons: ["VirtualMachine/old-1 is owned but no manifest declares it (--prune)"],
            requiresApproval: true,
            providerID: "130"
        )
        let actions = [
            noop("ProxmoxCluster/pve-main"), noop("ResourcePool/prod"), api3, api1, api1Restart, api2, db1, build1,
            mainDB, mainDBRestart, mainDBPromote, noop("ConnectionPool/main-pool"), old1,
        ]
        var fingerprints: [ResourceID: String] = [:]
        for (i, a) in actions.enumerated() { fingerprints[a.resource] = "fp\(i)" }
        return Plan(
            id: "3f9a1c2b7e4d",
            createdAt: "2025-06-01T12:00:00Z",
            source: source,
            actions: actions,
            fingerprints: fingerprints,
            orphans: [id("VirtualMachine/old-1")]
        )
    }()

    /// A CI plan without state: ownership unknown, one resource not observable, one refused change.
    static let ci: Plan = {
        let web = Action(
            resource: id("Container/web-1"),
            verb: .create,
            changes: [
                FieldChange(
                    path: ["cluster"],
                    before: nil,
                    after: .string("pve-main"),
                    origin: .manifest,
                    impact: .hot
                ),
                FieldChange(path: ["memory"], before: nil, after: mi(1536), origin: .manifest, impact: .hot),
                FieldChange(path: ["swap"], before: nil, after: mi(512), origin: .manifest, impact: .hot),
            ],
            reasons: ["Container/web-1 does not exist"]
        )
        let api1 = Action(
            resource: id("VirtualMachine/api-1"),
            verb: .update,
            changes: [
                FieldChange(
                    path: ["disks", "scsi0", "size"],
                    before: gi(64),
                    after: gi(32),
                    origin: .manifest,
                    impact: .hot
                ),
                FieldChange(
                    path: ["onBoot"],
                    before: .bool(false),
                    after: .bool(true),
                    origin: .manifest,
                    impact: .hot
                ),
            ],
            providerID: "101"
        )
        let diagnostics = [
            Diagnostic(
                .error,
                .observeFailed,
                "could not observe VirtualMachine/db-1: 401 authentication failure",
                hint: "other resources still plan; fix access and plan again",
                at: SourceLocation(file: "infra/prod/db.yaml", line: 1, column: 1),
                resource: id("VirtualMachine/db-1")
            ),
            Diagnostic(
                .error,
                .changeRefused,
                "VirtualMachine/api-1: spec.disks.scsi0.size: disks never shrink (64Gi → 32Gi)",
                hint: "change the manifest back, or replace the resource deliberately",
                at: SourceLocation(file: "infra/prod/api.yaml", line: 14, column: 39),
                resource: id("VirtualMachine/api-1")
            ),
        ]
        return Plan(
            id: "b71e04c9aa20",
            createdAt: "2025-06-01T12:05:00Z",
            source: Plan.Source(
                paths: ["infra/prod", "infra/shared"],
                gitCommit: "c0ffee1234567890c0ffee1234567890c0ffee12",
                manifestDigest: "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"
            ),
            actions: [noop("ProxmoxCluster/pve-main"), web, api1],
            fingerprints: [
                id("ProxmoxCluster/pve-main"): "a1", id("Container/web-1"): "absent", id("VirtualMachine/api-1"): "c3",
            ],
            diagnostics: diagnostics,
            ownershipUnknown: [.container, .virtualMachine]
        )
    }()

    /// The manifest lines the CI plan's diagnostics point at.
    static let ciSource: [String: [String]] = [
        "infra/prod/api.yaml": Array(repeating: "", count: 13) + ["    scsi0: {storage: local-lvm, size: 32Gi}"],
        "infra/prod/db.yaml": ["apiVersion: setpoint/v1"],
    ]

    /// Nothing to do; two owned resources no manifest declares, left alone without --prune.
    static let noChanges = Plan(
        id: "0c1d2e3f4a5b",
        createdAt: "2025-06-01T12:10:00Z",
        source: source,
        actions: (1...12).map { noop("VirtualMachine/app-\($0)") },
        orphans: [id("Container/scratch-1"), id("VirtualMachine/old-2")]
    )

    /// No manifests' resources at all, no state, nothing observed.
    static let empty = Plan(
        id: "e3b0c44298fc",
        createdAt: "",
        source: Plan.Source(
            paths: [],
            manifestDigest: "4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"
        ),
        actions: []
    )
}
