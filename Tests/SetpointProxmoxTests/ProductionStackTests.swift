import Foundation
import PVESim
import SetpointTesting
import Testing

/// The Proxmox part of `manifests/` (the production stack: cloned cloud-init VMs, containers, pools, backup jobs)
/// applied to pve-sim: it converges and the next plan is empty.
@Suite(.timeLimit(.minutes(5))) struct ProductionStackTests {
    @Test func theProductionStacksGuestsPoolsAndJobsConvergeAndStay() async throws {
        let env = try await SimEnv()
        defer { Task { await env.stop() } }
        // The cluster as manifests/ expects it: its storages, the CT template on them, the cloud-init VM template 9000.
        for (id, type, content) in [
            ("ceph-vm", "rbd", "images,rootdir"), ("ceph-ssd", "rbd", "images,rootdir"),
            ("backup-nfs", "nfs", "backup"),
        ] {
            let r = await env.pve("POST", "/storage", ["storage": id, "type": type, "content": content, "shared": "1"])
            try #require(r.status == 200, "\(r.reason)")
        }
        await env.pve(
            "POST",
            "/nodes/pve1/qemu",
            [
                "vmid": "9000", "name": "debian12-cloud", "scsi0": "ceph-vm:4", "scsihw": "virtio-scsi-single",
                "net0": "virtio,bridge=vmbr0", "ide2": "ceph-vm:cloudinit", "agent": "1",
            ]
        )
        try await env.settle()
        await env.pve("PUT", "/nodes/pve1/qemu/9000/config", ["template": "1"])
        // The manifests, pointed at the simulator.
        var documents: [String] = []
        for folder in ["manifests/proxmox", "manifests/guests"] {
            for file in try FileManager.default.contentsOfDirectory(atPath: RepoPaths.path(folder)).sorted()
            where file.hasSuffix(".yaml") {
                let text = try String(contentsOfFile: RepoPaths.path("\(folder)/\(file)"), encoding: .utf8)
                if file == "cluster.yaml" { continue }
                documents.append(text.replacingOccurrences(of: "cephfs:vztmpl", with: "local:vztmpl"))
            }
        }
        documents.append(try String(contentsOfFile: RepoPaths.path("manifests/backups/guests.yaml"), encoding: .utf8))
        let cluster = env.clusterYAML().replacingOccurrences(of: "name: pve}", with: "name: pve-prod}")
        try ([cluster] + documents).joined(separator: "\n---\n").write(
            toFile: env.manifests + "/stack.yaml",
            atomically: true,
            encoding: .utf8
        )
        let first = await env.run(["apply", env.manifests, "--auto-approve", "--approve", "all-risky"])
        #expect(first.code == 0, "\(first.out)\(first.err)")
        let again = await env.plan()
        #expect(again.code == 0, "the second plan must be empty:\n\(again.text)")
        let snapshot = await env.sim.snapshot
        let guests = snapshot.guests.values.filter { $0.vmid != 9000 }
        #expect(guests.count == 11)
        #expect(guests.allSatisfy { $0.config["tags"]?.contains("setpoint") == true })
        #expect(snapshot.backupJobs.keys.filter { $0.hasPrefix("setpoint-") }.count == 4)
    }
}
