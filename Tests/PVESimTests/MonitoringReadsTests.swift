import Foundation
import PVESim
import Testing

/// The reads monitoring tools make on every scrape, shaped as pve-api-full.json's `returns` says and filled as
/// pve-manager computes them: guests no backup job covers, a community install's subscription, no replication jobs,
/// no QDevice.
@Suite(.timeLimit(.minutes(3))) struct MonitoringReadsTests {
    static func entry(_ vmid: Int, _ type: String, _ name: String) -> JSONValue {
        .object(["vmid": .int(vmid), "type": .string(type), "name": .string(name)])
    }

    @Test func notBackedUpListsTheGuestsNoBackupJobSelects() async throws {
        let sim = Sim {
            $0.tokens += [
                TokenSpec(id: "mon@pve!scrape", secret: "s1", role: "Sys.Audit"),
                TokenSpec(id: "vm@pve!audit", secret: "s2", role: "VM.Audit"),
            ]
        }
        try await sim.createVM(100)
        try await sim.createVM(101)
        try await sim.createVM(102, node: "pve2")
        try await sim.createVM(103, node: "pve2")
        try await sim.finish(
            try await sim.ok(
                "POST",
                "/nodes/pve1/lxc",
                [
                    "vmid": "200", "hostname": "ct200", "rootfs": "local-lvm:4",
                    "ostemplate": "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst",
                ]
            )
        )
        #expect(
            try await sim.ok("GET", "/cluster/backup-info/not-backed-up")
                == .array([
                    Self.entry(100, "qemu", "vm100"), Self.entry(101, "qemu", "vm101"),
                    Self.entry(102, "qemu", "vm102"),
                    Self.entry(103, "qemu", "vm103"), Self.entry(200, "lxc", "ct200"),
                ])
        )
        // By VMID; by pool (a disabled job still counts); all but `exclude`, on the job's node only.
        try await sim.ok(
            "POST",
            "/cluster/backup",
            ["id": "job-vmid", "vmid": "100", "schedule": "daily", "storage": "local"]
        )
        try await sim.ok("POST", "/pools", ["poolid": "web"])
        try await sim.ok("PUT", "/pools", ["poolid": "web", "vms": "101"])
        try await sim.ok(
            "POST",
            "/cluster/backup",
            ["id": "job-pool", "pool": "web", "schedule": "daily", "storage": "local", "enabled": "0"]
        )
        try await sim.ok(
            "POST",
            "/cluster/backup",
            [
                "id": "job-pve2", "all": "1", "exclude": "103", "node": "pve2", "schedule": "daily",
                "storage": "local",
            ]
        )
        // A job whose node does not hold the guest does not cover it.
        try await sim.ok(
            "POST",
            "/cluster/backup",
            ["id": "job-elsewhere", "vmid": "103", "node": "pve1", "schedule": "daily", "storage": "local"]
        )
        #expect(
            try await sim.ok("GET", "/cluster/backup-info/not-backed-up")
                == .array([
                    Self.entry(103, "qemu", "vm103"), Self.entry(200, "lxc", "ct200"),
                ])
        )
        try await sim.ok("DELETE", "/cluster/backup/job-vmid")
        #expect(
            try await sim.ok("GET", "/cluster/backup-info/not-backed-up").arrayValue?.compactMap {
                $0["vmid"]?.intValue
            } == [100, 103, 200]
        )
        // Sys.Audit on / to call it; guests listed only with VM.Audit.
        let monitor = await sim.call(
            "GET",
            "/cluster/backup-info/not-backed-up",
            headers: ["authorization": "PVEAPIToken=mon@pve!scrape=s1"]
        )
        #expect(monitor.status == 200 && monitor.body["data"] == .array([]))
        let denied = await sim.call(
            "GET",
            "/cluster/backup-info/not-backed-up",
            headers: ["authorization": "PVEAPIToken=vm@pve!audit=s2"]
        )
        #expect(denied.status == 403 && denied.reason == "Permission check failed (/, Sys.Audit)")
    }

    @Test func subscriptionAnswersAsACommunityInstallWithoutAKey() async throws {
        let sim = Sim { $0.tokens += [TokenSpec(id: "vm@pve!audit", secret: "s2", role: "VM.Audit")] }
        let subscription = try await sim.ok("GET", "/nodes/pve2/subscription")
        #expect(subscription["status"] == .string("notfound"))
        #expect(subscription["message"] == .string("There is no subscription key"))
        #expect(subscription["url"] == .string("https://www.proxmox.com/en/proxmox-virtual-environment/pricing"))
        let serverID = try #require(subscription["serverid"]?.stringValue)
        #expect(serverID.wholeMatch(of: /[0-9A-F]{32}/) != nil, "\(serverID)")
        guard case .object(let keys) = subscription else {
            Issue.record("not an object: \(subscription.serialized)")
            return
        }
        let schemaKeys: Set<String> = [
            "status", "checktime", "key", "level", "message", "nextduedate", "productname", "regdate", "serverid",
            "signature", "sockets", "url",
        ]
        #expect(Set(keys.keys).isSubset(of: schemaKeys), "\(keys.keys.sorted())")
        // Without Sys.Audit on the node: no server ID.
        let audit = await sim.call(
            "GET",
            "/nodes/pve1/subscription",
            headers: ["authorization": "PVEAPIToken=vm@pve!audit=s2"]
        )
        #expect(
            audit.status == 200 && audit.body["data"]?["status"] == .string("notfound")
                && audit.body["data"]?["serverid"] == nil
        )
        #expect(
            await sim.fails("GET", "/nodes/pve9/subscription")
                == "hostname lookup 'pve9' failed - failed to get address info for: pve9: Name or service not known"
        )
    }

    @Test func replicationIsAnEmptyListAndQDeviceAnEmptyObject() async throws {
        let sim = Sim()
        try await sim.createVM(100)
        #expect(try await sim.ok("GET", "/nodes/pve1/replication") == .array([]))
        #expect(try await sim.ok("GET", "/nodes/pve1/replication", ["guest": "100"]) == .array([]))
        let bad = await sim.call("GET", "/nodes/pve1/replication", ["guest": "abc"])
        #expect(
            bad.status == 400 && bad.body["errors"]?["guest"] == .string("type check ('integer') failed - got 'abc'\n")
        )
        #expect(await sim.fails("GET", "/nodes/pve9/replication").hasPrefix("hostname lookup 'pve9' failed"))
        let qdevice = await sim.call("GET", "/cluster/config/qdevice")
        #expect(qdevice.status == 200 && qdevice.body.serialized == #"{"data":{}}"#)
    }

    @Test func theMonitoringReadsAreServedOverHTTPS() async throws {
        let live = try await LiveSim.start()
        defer { Task { await live.stop() } }
        for path in [
            "/cluster/backup-info/not-backed-up", "/nodes/pve1/subscription", "/nodes/pve1/replication",
            "/cluster/config/qdevice",
        ] {
            let (status, reason, body) = try await live.request("GET", path)
            #expect(status == 200, "GET \(path): \(status) \(reason)")
            #expect(body["data"] != nil && body["data"] != .null, "GET \(path): \(body.serialized)")
        }
        let (_, _, qdevice) = try await live.request("GET", "/cluster/config/qdevice")
        #expect(qdevice == .object(["data": .object([:])]))
    }
}
