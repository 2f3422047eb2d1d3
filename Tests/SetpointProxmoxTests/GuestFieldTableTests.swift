import Foundation
import PVESim
import SetpointCore
import SetpointManifest
import Testing

@testable import SetpointProxmox

/// The guest kinds' field tables: one row per schema field, and every field round-trips through apply and observe on
/// pve-sim (the second plan is empty), for a create, an update of every field and a removal of the optional ones.
@Suite(.timeLimit(.minutes(3))) struct GuestFieldTableTests {
    @Test(arguments: ["VirtualMachine", "Container"])
    func everySchemaFieldHasExactlyOneRow(kind: String) {
        let (schema, table) =
            kind == "VirtualMachine"
            ? (VirtualMachineKind.spec, VirtualMachineFields.table.table)
            : (ContainerKind.spec, ContainerFields.table.table)
        let coverage = table.coverage(of: schema)
        #expect(coverage.missing.isEmpty, "schema fields without a row: \(coverage.missing)")
        #expect(coverage.unknown.isEmpty, "rows without a schema field: \(coverage.unknown)")
        #expect(coverage.duplicated.isEmpty, "fields with more than one row: \(coverage.duplicated)")
    }

    /// A stopped container takes every change of its mount points and NICs at once, the maps themselves included
    /// (the manifest dropping `mountPoints:` altogether), as it did before the tables.
    @Test func aStoppedContainerTakesMountPointAndNICChangesAtOnce() throws {
        let dynamic = try #require(ContainerFields.table.policy.dynamicImpact)
        let stopped = Value.map(["state": .string("stopped")])
        let running = Value.map(["state": .string("running")])
        for keys in [["mountPoints"], ["networks"], ["mountPoints", "mp0", "path"], ["networks", "net0", "mtu"]] {
            let path = FieldPath(keys.map { .key($0) })
            #expect(dynamic(path, stopped, nil)?.0 == .hot, "\(path) on a stopped container")
        }
        #expect(dynamic(FieldPath([.key("networks"), .key("net0"), .key("mtu")]), running, .int(1400)) == nil)
        #expect(dynamic(FieldPath([.key("node")]), stopped, .string("pve2")) == nil, "a migration stays restart")
    }

    @Test func coverageFindsAMissingAnUnknownAndADuplicatedRow() {
        var table = ContainerFields.table.table
        table.rows.removeAll { $0.path == "swap" }
        table.rows.append(.init("cpuLimit", PVEField(.key("cpulimit"))))
        table.rows.append(.init("cores", PVEField(.key("cores"))))
        let coverage = table.coverage(of: ContainerKind.spec)
        #expect(coverage.missing == ["swap"] && coverage.unknown == ["cpuLimit"] && coverage.duplicated == ["cores"])
    }

    static let pool = """
        apiVersion: setpoint/v1
        kind: ResourcePool
        metadata: {name: apps}
        spec: {cluster: pve}

        """

    /// A VM setting every field a manifest can set (a clone source needs a template and is the create path's own;
    /// placement and node exclude each other).
    static func fullVM(_ v: Int, state: String = "stopped") -> String {
        """
        apiVersion: setpoint/v1
        kind: VirtualMachine
        metadata: {name: full}
        spec:
          cluster: pve
          node: pve1
          vmid: 120
          cores: \(2 * v)
          sockets: 2
          vcpus: \(v + 1)
          cpu: \(v == 1 ? "host" : "x86-64-v2-AES")
          memory: \(v)Gi
          balloon: \(v * 512)Mi
          numa: \(v == 1)
          hotplug: \(v == 1 ? "[disk, network]" : "[network, disk, usb, cpu]")
          bios: \(v == 1 ? "ovmf" : "seabios")
          machine: \(v == 1 ? "q35" : "pc")
          osType: \(v == 1 ? "l26" : "win11")
          agent: \(v == 1)
          scsiController: \(v == 1 ? "virtio-scsi-single" : "virtio-scsi-pci")
          disks:
            scsi0: {storage: ceph, size: \(v * 4)Gi, format: raw, cache: \(v == 1 ? "writeback" : "none"), discard: \(v == 1), ssd: \(v == 1), iothread: \(v == 1), backup: \(v != 1)}
          networks:
            net0: {bridge: vmbr\(v - 1), model: \(v == 1 ? "virtio" : "e1000"), vlan: \(10 * v), firewall: \(v == 1), mtu: \(1400 + v), macaddr: "BC:24:11:00:00:0\(v)", rate: \(v == 1 ? "12.5" : "20")}
          cloudInit:
            user: ops\(v)
            password: {env: PVE_TOKEN}
            sshKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI\(v) ops@example"]
            ipConfig:
              net0: {ip: 10.0.\(v).5/24, gateway: 10.0.\(v).1, ip6: "fd00::\(v)/64", gateway6: "fd00::1"}
            nameserver: 10.0.0.\(v)
            searchDomain: v\(v).example
            storage: ceph
          pool: apps
          tags: [web, v\(v)]
          state: \(state)
          onBoot: \(v == 1)
          startup: {order: \(v), up: \(30 * v), down: \(60 * v)}
          protection: false
          description: "Round trip \(v)"

        """
    }

    static func fullCT(_ v: Int, state: String = "stopped") -> String {
        """
        apiVersion: setpoint/v1
        kind: Container
        metadata: {name: fullct}
        spec:
          cluster: pve
          node: pve1
          vmid: 130
          template: "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
          hostname: fullct\(v)
          cores: \(v)
          memory: \(v)Gi
          swap: \(v * 256)Mi
          rootfs: {storage: ceph, size: \(v * 4)Gi}
          mountPoints:
            mp0: {storage: ceph, size: \(v)Gi, path: /srv/data\(v), backup: \(v == 1), readOnly: \(v != 1)}
          networks:
            net0: {name: eth\(v - 1), bridge: vmbr\(v - 1), ip: 10.1.\(v).5/24, gateway: 10.1.\(v).1, ip6: "fd01::\(v)/64", gateway6: "fd01::1", vlan: \(20 * v), firewall: \(v == 1), mtu: \(1400 + v), macaddr: "BC:24:11:00:01:0\(v)"}
          unprivileged: true
          features: {nesting: \(v == 1), keyctl: \(v == 1), fuse: \(v != 1)}
          password: {env: PVE_TOKEN}
          sshKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI ops@example"]
          nameserver: 10.0.0.\(v)
          searchDomain: v\(v).example
          pool: apps
          tags: [db, v\(v)]
          state: \(state)
          onBoot: \(v == 1)
          startup: {order: \(v), up: \(30 * v)}
          protection: false
          description: "Round trip \(v)"

        """
    }

    /// The manifest paths a spec sets, maps' own keys as `*` (`disks.*.size`).
    static func paths(_ value: Value, _ prefix: [String] = [], mapsOf: Set<String>) -> Set<String> {
        guard case .map(let m) = value else { return [prefix.joined(separator: ".")] }
        var out: Set<String> = prefix.isEmpty ? [] : [prefix.joined(separator: ".")]
        let isEntryMap = mapsOf.contains(prefix.joined(separator: "."))
        for (key, inner) in m {
            out.formUnion(paths(inner, prefix + [isEntryMap ? "*" : key], mapsOf: mapsOf))
        }
        return out
    }

    @Test(arguments: [("VirtualMachine", "full"), ("Container", "fullct")])
    func everyFieldRoundTripsThroughApplyAndObserve(kind: String, name: String) async throws {
        let isVM = kind == "VirtualMachine"
        let manifest: (Int) -> String = { isVM ? Self.fullVM($0) : Self.fullCT($0) }
        let fields = isVM ? VirtualMachineFields.table : ContainerFields.table

        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        // The full manifest sets every row that reaches PVE, so a new row without a round trip here fails.
        let set = ManifestLoader().load(
            text: [env.clusterYAML(), Self.pool, manifest(1)].joined(separator: "---\n"),
            file: "full.yaml"
        )
        #expect(set.isValid, "\(set.diagnostics)")
        let loaded = try #require(set.resources.first { $0.id.kind.rawValue == kind })
        let maps: Set<String> = ["disks", "networks", "mountPoints", "cloudInit.ipConfig"]
        let setPaths = Self.paths(loaded.spec, mapsOf: maps)
        let unset = fields.table.rows.filter { row in
            if case .none = row.mapping.source { return false }
            return !setPaths.contains(row.path) && !row.path.hasPrefix("clone") && row.path != "placement"
        }
        #expect(unset.isEmpty, "rows the round trip does not set: \(unset.map(\.path))")

        // Create.
        try env.write([Self.pool, manifest(1)])
        await env.apply()
        let created = await env.plan()
        #expect(created.code == 0, "the plan after the create is empty:\n\(created.text)")
        let g = try #require(await env.guest(named: isVM ? "full" : "fullct1"))
        #expect(g.config["startup"] == (isVM ? "order=1,up=30,down=60" : "order=1,up=30"))
        if isVM {
            #expect(g.config["vcpus"] == "2" && g.config["ciuser"] == "ops1" && g.config["ipconfig0"] != nil)
        } else {
            #expect(g.config["features"] == "fuse=0,keyctl=1,nesting=1", "\(g.config)")
            #expect(g.config["hostname"] == "fullct1")
        }

        // Every field changed (stopped: every change is hot, nothing waits for approval).
        try env.write([Self.pool, manifest(2)])
        let update = await env.plan()
        #expect(update.code == 2, "\(update.text)")
        await env.apply()
        let updated = await env.plan()
        #expect(updated.code == 0, "the plan after updating every field is empty:\n\(updated.text)")
        let u = try #require(await env.guest(named: isVM ? "full" : "fullct2"))
        #expect(u.config["startup"] == (isVM ? "order=2,up=60,down=120" : "order=2,up=60") && u.pending.isEmpty)
        if isVM { #expect(u.config["vcpus"] == "3" && u.config["cpu"] == "x86-64-v2-AES") }

        // The optional fields removed from the manifest are removed from PVE.
        var trimmed = manifest(2)
        for field in ["startup", "description", "vcpus", "nameserver", "searchDomain"] {
            trimmed = trimmed.split(separator: "\n", omittingEmptySubsequences: false)
                .filter { !$0.hasPrefix("  \(field):") && !$0.hasPrefix("    \(field):") }
                .joined(separator: "\n")
        }
        try env.write([Self.pool, trimmed])
        await env.apply()
        let removed = await env.plan()
        #expect(removed.code == 0, "the plan after removing fields is empty:\n\(removed.text)")
        let r = try #require(await env.guest(named: isVM ? "full" : "fullct2"))
        #expect(r.config["startup"] == nil && r.config["description"] == nil && r.config["vcpus"] == nil)
    }

    static func vm(vcpus: Int, hotplug: String, startup: String = "{order: 1}") -> String {
        """
        apiVersion: setpoint/v1
        kind: VirtualMachine
        metadata: {name: app}
        spec:
          cluster: pve
          node: pve1
          cores: 4
          vcpus: \(vcpus)
          hotplug: \(hotplug)
          startup: \(startup)
          disks:
            scsi0: {storage: ceph, size: 4Gi}

        """
    }

    @Test func vcpusArePendingWithoutCPUHotplugAndLiveWithIt() async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        try env.write([Self.vm(vcpus: 2, hotplug: "[network, disk]")])
        await env.apply()
        try env.write([Self.vm(vcpus: 3, hotplug: "[network, disk]")])
        let pending = actionsByVerb(try await env.planJSON())
        #expect(pending["update"]?["impact"] as? String == "restart" && pending["restart"] != nil)
        await env.apply(expect: 3)
        let g = try #require(await env.guest(named: "app"))
        #expect(g.config["vcpus"] == "2" && g.pending["vcpus"] == "3", "written, pending in PVE")

        let hot = try await SimEnv()
        defer { Task { await hot.stop() } }
        try hot.write([Self.vm(vcpus: 2, hotplug: "[network, disk, cpu]")])
        await hot.apply()
        try hot.write([Self.vm(vcpus: 4, hotplug: "[network, disk, cpu]")])
        let live = actionsByVerb(try await hot.planJSON())
        #expect(live["update"]?["impact"] as? String == "hot" && live["restart"] == nil)
        await hot.apply()
        let h = try #require(await hot.guest(named: "app"))
        #expect(h.config["vcpus"] == "4" && h.pending.isEmpty, "plugged live")
        #expect(await hot.plan().code == 0)
    }

    @Test func moreVCPUsThanSocketsTimesCoresIsRefusedBeforeAnythingRuns() async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        try env.write([Self.vm(vcpus: 9, hotplug: "[network, disk, cpu]")])
        let r = await env.run(["validate", env.manifests], withState: false)
        #expect(r.code != 0)
        let text = r.out + r.err
        #expect(text.contains("stack.yaml:17:10: error"), "the error names the file, line and column:\n\(text)")
        #expect(text.contains("spec.vcpus: 9 is more than sockets × cores (1 × 4 = 4)"), "\(text)")
    }

    @Test func startupIsConfigOnlyOnARunningGuest() async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        try env.write([Self.vm(vcpus: 2, hotplug: "[network, disk]", startup: "{order: 1, up: 30}")])
        await env.apply()
        try env.write([Self.vm(vcpus: 2, hotplug: "[network, disk]", startup: "{order: 3, down: 90}")])
        let plan = actionsByVerb(try await env.planJSON())
        #expect(plan["update"]?["impact"] as? String == "hot" && plan["restart"] == nil, "\(plan)")
        await env.apply()
        let g = try #require(await env.guest(named: "app"))
        #expect(g.config["startup"] == "order=3,down=90" && g.pending.isEmpty && g.running)
        #expect(await env.plan().code == 0)
    }
}
