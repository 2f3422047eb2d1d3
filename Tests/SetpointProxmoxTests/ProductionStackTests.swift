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
        // The JSON plans along the way are kept, to be checked against the published plan schema.
        var plans: [String] = []
        func keepPlan(_ name: String) async throws {
            let r = await env.run(["plan", env.manifests, "--output", "json"])
            try r.out.write(toFile: env.dir + "/\(name).json", atomically: true, encoding: .utf8)
            plans.append(env.dir + "/\(name).json")
        }
        try await keepPlan("creates")
        let first = await env.run(["apply", env.manifests, "--auto-approve", "--approve", "all-risky"])
        #expect(first.code == 0, "\(first.out)\(first.err)")
        let again = await env.plan()
        #expect(again.code == 0, "the second plan must be empty:\n\(again.text)")
        try await keepPlan("empty")
        let snapshot = await env.sim.snapshot
        let guests = snapshot.guests.values.filter { $0.vmid != 9000 }
        #expect(guests.count == 11)
        #expect(guests.allSatisfy { $0.config["tags"]?.contains("setpoint") == true })
        #expect(snapshot.backupJobs.keys.filter { $0.hasPrefix("setpoint-") }.count == 4)

        // Drift made at the PVE GUI (a guest's cores and description): a plan of drift corrections.
        let api1 = try #require(await env.guest(named: "api-1"))
        await env.pve("PUT", "/nodes/\(api1.node)/qemu/\(api1.vmid)/config", ["cores": "1", "description": "by hand"])
        try await keepPlan("drift")
        try await PlanSchemaCheck.expectValid(plans)
        let drift = try String(contentsOfFile: env.dir + "/drift.json", encoding: .utf8)
        #expect(drift.contains("\"origin\" : \"drift\""), "the drift plan has drift: \(drift)")
    }
}

/// The published plan schema (`schemas/plan.schema.json`) against real plans, with python-jsonschema.
enum PlanSchemaCheck {
    static func expectValid(_ files: [String], sourceLocation: Testing.SourceLocation = #_sourceLocation) async throws {
        guard await ExternalTool.pythonHas(["jsonschema"]) || ExternalTool.isCI else { return }
        // A copy broken on purpose: the check must be able to fail.
        let first = try #require(files.first)
        var broken = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: first))) as? [String: Any]
        )
        broken["formatVersion"] = "1"
        broken["summary"] = ["create": -1]
        let brokenFile = first + ".broken.json"
        try JSONSerialization.data(withJSONObject: broken).write(to: URL(fileURLWithPath: brokenFile))
        let result = try #require(
            await ExternalTool.run("python3", [RepoPaths.path("scripts/plan-schema-check.py")] + files + [brokenFile]),
            "python3 with jsonschema is needed (Debian python3-jsonschema)",
            sourceLocation: sourceLocation
        )
        #expect(result.stderr.isEmpty, "\(result.stderr)", sourceLocation: sourceLocation)
        for line in result.stdout.split(separator: "\n") {
            let r = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let file = r["file"] as? String ?? ""
            let valid = r["valid"] as? Bool ?? false
            #expect(valid == (file != brokenFile), "\(file): \(r["errors"] ?? [])", sourceLocation: sourceLocation)
        }
        #expect(result.stdout.split(separator: "\n").count == files.count + 1, sourceLocation: sourceLocation)
    }
}
