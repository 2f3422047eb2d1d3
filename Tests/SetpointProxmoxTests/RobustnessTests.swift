import Foundation
import PVESim
import SetpointCore
import SetpointHTTP
import Testing

/// TLS choices, saved-plan staleness per guest, the observation budget, and convergence under injected faults.
@Suite(.timeLimit(.minutes(5))) struct RobustnessTests {
    static func vm(_ name: String, memory: String = "1Gi", node: String? = "pve1", tags: String = "[app]") -> String {
        """
        apiVersion: setpoint/v1
        kind: VirtualMachine
        metadata: {name: \(name)}
        spec:
          cluster: pve
        \(node.map { "  node: \($0)\n" } ?? "")  memory: \(memory)
          tags: \(tags)
          disks:
            scsi0: {storage: local-lvm, size: 4Gi}
          networks:
            net0: {bridge: vmbr0}

        """
    }

    @Test func tlsIsVerifiedByCAOrPinAndInsecureIsExplicit() async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        // A CA that did not sign the server's certificate.
        let other = try SelfSignedCA.make()
        let wrongCA = env.dir + "/other-ca.pem"
        try other.caPEM.write(toFile: wrongCA, atomically: true, encoding: .utf8)
        try env.write([Self.vm("a")], tls: "{caFile: \(wrongCA)}")
        let refused = await env.plan()
        #expect(refused.code == 1)
        #expect(
            refused.text.contains("ProxmoxCluster/pve") && refused.text.contains("TLS verification failed"),
            "\(refused.text)"
        )
        // The right CA with the wrong pinned key.
        try env.write([Self.vm("a")], tls: "{caFile: \(env.caFile), pinnedPublicKey: \"\(other.publicKeyPin)\"}")
        let pinned = await env.plan()
        #expect(pinned.code == 1 && pinned.text.lowercased().contains("public key"), "\(pinned.text)")
        // The right pin.
        try env.write(
            [Self.vm("a")],
            tls: "{caFile: \(env.caFile), pinnedPublicKey: \"\(env.running.tls!.publicKeyPin)\"}"
        )
        #expect(await env.plan().code == 2)
        // No verification, said explicitly.
        try env.write([Self.vm("a")], tls: "{insecure: true}")
        #expect(await env.plan().code == 2)
    }

    @Test func observingNGuestsCostsAtMostNPlus3Requests() async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        let names = (1...12).map { "g\($0)" }
        try env.write(
            names.map { Self.vm($0) } + [
                "apiVersion: setpoint/v1\nkind: ResourcePool\nmetadata: {name: p}\nspec: {cluster: pve}\n",
                "apiVersion: setpoint/v1\nkind: GuestBackupJob\nmetadata: {name: j}\nspec: {cluster: pve, all: true, schedule: daily, storage: local}\n",
            ]
        )
        await env.apply()
        await env.sim.resetRequestCounts()
        #expect(await env.plan().code == 0)
        let total = await env.sim.totalRequests
        let counts = await env.sim.requestCounts
        #expect(total <= names.count + 3, "\(total) requests for \(names.count) guests: \(counts)")
        #expect(counts["GET /nodes/{node}/qemu/{vmid}/pending"] == names.count)
    }

    @Test func aSavedPlanIsRefusedWhenATouchedGuestChangedAndAcceptedWhenAnotherDid() async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        try env.write([Self.vm("a"), Self.vm("b")])
        await env.apply()
        try env.write([Self.vm("a", tags: "[app, blue]"), Self.vm("b")])
        let planFile = env.dir + "/plan.bin"
        let saved = await env.run(["plan", env.manifests, "--out", planFile])
        #expect(saved.code == 0, "\(saved.out)\(saved.err)")
        // Another guest changes: the plan still holds.
        let b = try #require(await env.guest(named: "b"))
        await env.pve("PUT", "/nodes/pve1/qemu/\(b.vmid)/config", ["description": "touched by hand"])
        let accepted = await env.run(["apply", planFile, "--auto-approve"])
        #expect(accepted.code == 0, "\(accepted.out)\(accepted.err)")
        #expect(await env.guest(named: "a")?.config["tags"] == "app;blue;setpoint")
        // A touched guest changes: refused.
        try env.write([Self.vm("a", tags: "[app, green]"), Self.vm("b")])
        let second = await env.run(["plan", env.manifests, "--out", planFile])
        #expect(second.code == 0)
        let a = try #require(await env.guest(named: "a"))
        await env.pve("PUT", "/nodes/pve1/qemu/\(a.vmid)/config", ["cores": "3"])
        let refused = await env.run(["apply", planFile, "--auto-approve"])
        #expect(
            refused.code == 1 && refused.err.contains("stale") && refused.err.contains("VirtualMachine/a"),
            "\(refused.err)"
        )
        #expect(await env.guest(named: "a")?.config["tags"] == "app;blue;setpoint", "nothing was applied")
    }

    @Test func unpinnedGuestsArePlacedByFreeMemoryAndStayWhereTheyAre() async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        // pve1 is busy: the new guest goes elsewhere.
        await env.pve("POST", "/nodes/pve1/qemu", ["vmid": "500", "memory": "40000", "name": "big"])
        try await env.settle()
        await env.pve("POST", "/nodes/pve1/qemu/500/status/start")
        try await env.settle()
        try env.write([Self.vm("placed", node: nil)])
        await env.apply()
        let g = try #require(await env.guest(named: "placed"))
        #expect(g.node != "pve1")
        // An HA-style move behind Setpoint's back is not drift for an unpinned guest.
        await env.pve("POST", "/nodes/\(g.node)/qemu/\(g.vmid)/migrate", ["target": "pve1", "online": "1"])
        try await env.settle()
        #expect(await env.plan().code == 0)
    }

    @Test(arguments: 1...10)
    func convergesUnderFaultsWithinFiveAppliesAndNeverCreatesTwice(seed: Int) async throws {
        let env = try await SimEnv {
            $0.failRate = 0.1
            $0.lockContention = 0.2
            $0.taskFailureRate = 0.05
            $0.seed = UInt64(seed)
        }
        defer { Task { await env.stop() } }
        let names = ["f1", "f2", "f3", "f4"]
        try env.write(
            names.map { Self.vm($0, node: nil) } + [
                "apiVersion: setpoint/v1\nkind: ResourcePool\nmetadata: {name: pool-a}\nspec: {cluster: pve, comment: faults}\n"
            ]
        )
        var converged = false
        var log = ""
        for _ in 1...5 {
            let r = await env.run(["apply", env.manifests, "--auto-approve"])
            log += "apply → \(r.code)\n\(r.out)\(r.err)\n"
            try await env.settle()
            if await env.plan().code == 0 {
                converged = true
                break
            }
        }
        #expect(converged, "seed \(seed) did not converge in 5 applies:\n\(log)")
        let snapshot = await env.sim.snapshot
        #expect(
            snapshot.createdVMIDs.values.allSatisfy { $0 == 1 },
            "a VMID was created twice: \(snapshot.createdVMIDs)"
        )
        for name in names {
            #expect(snapshot.createdNames[name] == 1, "\(name) created \(snapshot.createdNames[name] ?? 0) times")
            #expect(snapshot.guests.values.filter { $0.name == name }.count == 1)
        }
    }
}
