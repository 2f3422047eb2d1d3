import Foundation
import PVESim
import SetpointCore
import Testing

/// Every Proxmox kind against pve-sim over HTTPS: apply, then the next plan is empty.
@Suite(.timeLimit(.minutes(2))) struct ApplyTwiceTests {
    static let vm = """
        apiVersion: setpoint/v1
        kind: VirtualMachine
        metadata: {name: web-1}
        spec:
          cluster: pve
          node: pve1
          cores: 2
          memory: 2Gi
          pool: demo
          tags: [web, prod]
          disks:
            scsi0: {storage: local-lvm, size: 8Gi, ssd: true}
          networks:
            net0: {bridge: vmbr0, firewall: true}

        """

    static let container = """
        apiVersion: setpoint/v1
        kind: Container
        metadata: {name: cache-1}
        spec:
          cluster: pve
          template: "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst"
          memory: 1Gi
          rootfs: {storage: local-lvm, size: 8Gi}
          networks:
            net0: {name: eth0, bridge: vmbr0, ip: dhcp}
          features: {nesting: true}

        """

    static let pool = """
        apiVersion: setpoint/v1
        kind: ResourcePool
        metadata: {name: demo}
        spec: {cluster: pve, comment: Demo guests}

        """

    static let job = """
        apiVersion: setpoint/v1
        kind: GuestBackupJob
        metadata: {name: nightly}
        spec:
          cluster: pve
          pool: demo
          schedule: "02:30"
          storage: local
          retention: {keepDaily: 7, keepWeekly: 4}

        """

    @Test func everyKindConvergesAndTheSecondPlanIsEmpty() async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        try env.write([Self.pool, Self.vm, Self.container, Self.job])
        let first = await env.plan()
        #expect(first.code == 2, "\(first.text)")
        let out = await env.apply()
        #expect(out.contains("Apply complete"), "\(out)")
        let second = await env.plan()
        #expect(second.code == 0, "the second plan must be empty:\n\(second.text)")
        let web = try #require(await env.guest(named: "web-1"))
        #expect(web.running && web.node == "pve1")
        #expect(web.config["tags"] == "prod;setpoint;web")
        #expect(web.config["memory"] == "2048" && web.config["cores"] == "2")
        #expect(web.config["scsi0"]?.hasPrefix("local-lvm:vm-\(web.vmid)-disk-0,") == true)
        let cache = try #require(await env.guest(named: "cache-1"))
        #expect(cache.type == .lxc && cache.config["features"] == "nesting=1")
        let snapshot = await env.sim.snapshot
        #expect(snapshot.pools["demo"]?.vmids == [web.vmid])
        #expect(snapshot.backupJobs["setpoint-nightly"]?["prune-backups"] == "keep-daily=7,keep-weekly=4")
    }
}
