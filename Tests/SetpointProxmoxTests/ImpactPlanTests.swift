import Foundation
import PVESim
import SetpointCore
import Testing

/// What plans say about changes to guests, and what applying them does in pve-sim.
@Suite(.timeLimit(.minutes(2))) struct ImpactPlanTests {
    static func vm(
        memory: String = "2Gi",
        state: String = "running",
        node: String = "pve1",
        extra: String = "",
        disk: String = "8Gi"
    ) -> String {
        """
        apiVersion: setpoint/v1
        kind: VirtualMachine
        metadata: {name: app}
        spec:
          cluster: pve
          node: \(node)
          memory: \(memory)
          state: \(state)
          disks:
            scsi0: {storage: ceph, size: \(disk)}
          networks:
            net0: {bridge: vmbr0}
        \(extra)

        """
    }

    @Test func memoryOnAStoppedVMIsHot() async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        try env.write([Self.vm(state: "stopped")])
        await env.apply()
        try env.write([Self.vm(memory: "4Gi", state: "stopped")])
        let plan = try await env.planJSON()
        let a = actionsByVerb(plan)
        #expect(a["update"]?["impact"] as? String == "hot", "\(plan)")
        #expect(a["restart"] == nil)
        await env.apply()
        #expect(await env.guest(named: "app")?.config["memory"] == "4096")
        #expect(await env.plan().code == 0)
    }

    @Test func memoryOnARunningVMIsPendingAndTheRestartWaitsForApproval() async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        try env.write([Self.vm()])
        await env.apply()
        try env.write([Self.vm(memory: "4Gi")])
        let plan = try await env.planJSON()
        let a = actionsByVerb(plan)
        #expect(a["update"]?["impact"] as? String == "restart", "\(plan)")
        #expect(a["restart"]?["requiresApproval"] as? Bool == true)
        let out = await env.apply(expect: 3)
        #expect(out.contains("VirtualMachine/app:restart"), "the restart awaits approval:\n\(out)")
        let g = try #require(await env.guest(named: "app"))
        #expect(g.config["memory"] == "2048" && g.pending["memory"] == "4096", "written, pending in PVE")
        let again = await env.plan()
        #expect(again.code == 2 && again.text.contains("restart"), "only the pending restart remains:\n\(again.text)")
        await env.apply(["--approve", "VirtualMachine/app"])
        try await env.settle()
        let after = try #require(await env.guest(named: "app"))
        #expect(after.config["memory"] == "4096" && after.pending.isEmpty, "PVE's reboot applied the pending change")
        #expect(await env.plan().code == 0)
    }

    @Test func memoryIsHotWithMemoryHotplugAndNUMA() async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        let extra = "  numa: true\n  hotplug: [network, disk, memory]"
        try env.write([Self.vm(extra: extra)])
        await env.apply()
        try env.write([Self.vm(memory: "4Gi", extra: extra)])
        let a = actionsByVerb(try await env.planJSON())
        #expect(a["update"]?["impact"] as? String == "hot")
        #expect(a["restart"] == nil)
        await env.apply()
        #expect(await env.guest(named: "app")?.config["memory"] == "4096")
    }

    @Test func aNodeChangeIsAMigration() async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        try env.write([Self.vm()])
        await env.apply()
        try env.write([Self.vm(node: "pve2")])
        let a = actionsByVerb(try await env.planJSON())
        #expect(a["migrate"] != nil && a["replace"] == nil && a["delete"] == nil)
        await env.apply()
        let g = try #require(await env.guest(named: "app"))
        #expect(g.node == "pve2" && g.running, "an online migration")
        #expect(await env.plan().code == 0)
    }

    @Test func aDiskShrinkIsAPlanErrorAndAGrowIsAResize() async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        try env.write([Self.vm()])
        await env.apply()
        try env.write([Self.vm(disk: "4Gi")])
        let shrink = await env.plan()
        #expect(shrink.code == 1, "\(shrink.text)")
        #expect(shrink.text.contains("disks only grow"), "\(shrink.text)")
        try env.write([Self.vm(disk: "12Gi")])
        let a = actionsByVerb(try await env.planJSON())
        #expect(a["resize"] != nil)
        await env.apply()
        #expect(await env.guest(named: "app")?.config["scsi0"]?.hasSuffix("size=12G") == true)
        #expect(await env.plan().code == 0)
    }

    @Test func aCloneSourceChangeIsAReplacementWithItsReason() async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        for id in [9000, 9001] {
            await env.pve(
                "POST",
                "/nodes/pve1/qemu",
                ["vmid": String(id), "name": "tmpl-\(id)", "scsi0": "ceph:4", "template": "0"]
            )
        }
        try await env.settle()
        for id in [9000, 9001] { await env.pve("PUT", "/nodes/pve1/qemu/\(id)/config", ["template": "1"]) }
        func cloned(_ template: Int) -> String { Self.vm(extra: "  clone: {vmid: \(template)}") }
        try env.write([cloned(9000)])
        await env.apply()
        let first = try #require(await env.guest(named: "app"))
        #expect(first.config["scsi0"]?.contains("size=8G") == true, "the cloned disk grew to the declared size")
        #expect(await env.plan().code == 0)
        try env.write([cloned(9001)])
        let plan = try await env.planJSON()
        let replace = try #require(actionsByVerb(plan)["replace"], "\(plan)")
        #expect(
            (replace["reasons"] as? [String])?.joined().contains("clone source") == true
                || "\(replace)".contains("clone source")
        )
        #expect(replace["requiresApproval"] as? Bool == true)
    }

    @Test func anOutOfBandChangeIsDrift() async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        try env.write([Self.vm(extra: "  cores: 2")])
        await env.apply()
        let g = try #require(await env.guest(named: "app"))
        // Someone changes cores (pending on a running VM) and the description (live) at the PVE GUI.
        await env.pve("PUT", "/nodes/pve1/qemu/\(g.vmid)/config", ["cores": "6", "description": "hand-edited"])
        try env.write([Self.vm(extra: "  cores: 2\n  description: managed")])
        await env.apply()
        await env.pve("PUT", "/nodes/pve1/qemu/\(g.vmid)/config", ["cores": "6", "description": "hand-edited"])
        let plan = try await env.planJSON()
        let update = try #require(actionsByVerb(plan)["update"], "\(plan)")
        let changes = update["changes"] as? [[String: Any]] ?? []
        #expect(
            changes.contains { $0["path"] as? String == "cores" && $0["origin"] as? String == "drift" },
            "\(changes)"
        )
        #expect(
            changes.contains { $0["path"] as? String == "description" && $0["origin"] as? String == "drift" },
            "\(changes)"
        )
        #expect(
            actionsByVerb(plan)["restart"] == nil,
            "a pending value the manifest does not want is corrected, not restarted into"
        )
        await env.apply()
        let after = try #require(await env.guest(named: "app"))
        #expect(after.pending.isEmpty && after.config["cores"] == "2" && after.config["description"] == "managed")
        #expect(await env.plan().code == 0)
    }

    @Test func aRemovedGuestIsAnOrphanAndPruneDeletesItWithApproval() async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        try env.write([Self.vm()])
        await env.apply()
        try env.write([])
        let orphan = await env.plan()
        #expect(orphan.text.contains("VirtualMachine/app"), "\(orphan.text)")
        #expect(await env.guest(named: "app") != nil)
        let prune = try await env.planJSON(["--prune"])
        let delete = try #require(actionsByVerb(prune)["delete"], "\(prune)")
        #expect(delete["requiresApproval"] as? Bool == true)
        await env.apply(["--prune"], expect: 3)
        #expect(await env.guest(named: "app") != nil, "a delete is never applied without its approval")
        await env.apply(["--prune", "--approve", "VirtualMachine/app"])
        #expect(await env.guest(named: "app") == nil)
    }

    @Test func aForeignGuestOnAPinnedVMIDIsNeverTouched() async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        await env.pve("POST", "/nodes/pve1/qemu", ["vmid": "150", "name": "someone-elses", "memory": "1024"])
        try await env.settle()
        try env.write([Self.vm(extra: "  vmid: 150")])
        let plan = await env.plan()
        #expect(plan.code == 1 && plan.text.contains("Setpoint does not own"), "\(plan.text)")
        let r = await env.run(["apply", env.manifests, "--auto-approve"])
        #expect(r.code != 0)
        #expect(await env.guest(named: "someone-elses")?.config["memory"] == "1024")
    }
}
