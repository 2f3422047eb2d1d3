import Foundation
import PVESim
import SetpointCore
import Testing

/// Containers' own rules, and adopting a guest Setpoint did not create.
@Suite(.timeLimit(.minutes(2))) struct ContainerAndImportTests {
    static func ct(
        memory: String = "512Mi",
        size: String = "4Gi",
        node: String = "pve1",
        unprivileged: Bool = true
    ) -> String {
        """
        apiVersion: setpoint/v1
        kind: Container
        metadata: {name: ct}
        spec:
          cluster: pve
          node: \(node)
          template: "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
          memory: \(memory)
          unprivileged: \(unprivileged)
          rootfs: {storage: ceph, size: \(size)}
          networks:
            net0: {name: eth0, bridge: vmbr0, ip: dhcp}

        """
    }

    @Test func containerMemoryIsHotRootfsGrowsAndUnprivilegedReplaces() async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        try env.write([Self.ct()])
        await env.apply()
        #expect(await env.guest(named: "ct")?.running == true)
        try env.write([Self.ct(memory: "1Gi", size: "6Gi")])
        let plan = actionsByVerb(try await env.planJSON())
        #expect(plan["update"]?["impact"] as? String == "hot" && plan["restart"] == nil)
        #expect(plan["resize"] != nil)
        await env.apply()
        let g = try #require(await env.guest(named: "ct"))
        #expect(g.config["memory"] == "1024" && g.config["rootfs"]?.contains("size=6G") == true && g.pending.isEmpty)
        #expect(await env.plan().code == 0)
        try env.write([Self.ct(memory: "1Gi", size: "6Gi", unprivileged: false)])
        let replace = try #require(actionsByVerb(try await env.planJSON())["replace"])
        #expect("\(replace)".contains("unprivileged"))
    }

    @Test func aRunningContainerMigratesInRestartMode() async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        try env.write([Self.ct()])
        await env.apply()
        try env.write([Self.ct(node: "pve2")])
        let migrate = try #require(actionsByVerb(try await env.planJSON())["migrate"])
        #expect(migrate["requiresApproval"] as? Bool == true, "a restart-mode migration interrupts the container")
        await env.apply(["--approve", "Container/ct"])
        let g = try #require(await env.guest(named: "ct"))
        #expect(g.node == "pve2" && g.running)
    }

    @Test func importAdoptsAGuestByVMIDAndThePlanShowsOnlyTheDifferences() async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        try await env.makeLegacyGuest()
        let vm = SimEnv.legacyYAML()
        try env.write([vm])
        let before = await env.plan()
        #expect(before.text.contains("+ VirtualMachine/legacy"), "without import: a create\n\(before.text)")
        let imported = await env.run(["import", "VirtualMachine/legacy", env.manifests, "--id", "321"])
        #expect(imported.code == 0, "\(imported.out)\(imported.err)")
        let plan = try await env.planJSON()
        let a = actionsByVerb(plan)
        #expect(a["create"] == nil)
        let changes = (a["update"]?["changes"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String }
        #expect(changes == ["description"], "\(plan)")
        await env.apply()
        #expect(await env.guest(named: "legacy")?.config["description"] == "now managed")
        #expect(await env.plan().code == 0)
    }
}
