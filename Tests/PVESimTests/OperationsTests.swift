import Foundation
import PVESim
import Testing

/// Digests, locks, clone, resize, migrate, protection, capacity, tasks, pools, backup jobs.
@Suite(.timeLimit(.minutes(2))) struct OperationsTests {
    @Test func aStaleDigestIsRefused() async throws {
        let sim = Sim()
        try await sim.createVM(100)
        let digest = try #require(try await sim.config(100)["digest"]?.stringValue)
        try await sim.ok("PUT", "/nodes/pve1/qemu/100/config", ["memory": "3072", "digest": digest])
        let stale = await sim.fails("PUT", "/nodes/pve1/qemu/100/config", ["memory": "4096", "digest": digest])
        #expect(stale == "checksum mismatch (file change by other user?)")
    }

    @Test func aCloneHoldsTheTargetsLockAndTheSourcesFileLock() async throws {
        let sim = Sim()
        try await sim.createVM(9000, ["name": "tmpl"])
        try await sim.ok("PUT", "/nodes/pve1/qemu/9000/config", ["template": "1"])
        let linked = await sim.fails("POST", "/nodes/pve1/qemu/100/clone", ["newid": "101"])
        #expect(linked.hasPrefix("Configuration file"))
        let upid = try await sim.ok(
            "POST",
            "/nodes/pve1/qemu/9000/clone",
            ["newid": "101", "name": "web1", "full": "1"]
        )
        #expect(await sim.fails("PUT", "/nodes/pve1/qemu/101/config", ["memory": "1024"]) == "VM is locked (clone)")
        #expect(
            await sim.fails("PUT", "/nodes/pve1/qemu/9000/config", ["memory": "1024"])
                == "can't lock file '/var/lock/qemu-server/lock-9000.conf' - got timeout"
        )
        #expect(
            await sim.fails("POST", "/nodes/pve1/qemu/9000/clone", ["newid": "102"]).hasPrefix("can't lock file"),
            "a second clone of the same template waits for the file lock and times out"
        )
        let status = try await sim.finish(upid)
        #expect(status["exitstatus"] == .string("OK"))
        let source = try await sim.config(9000)
        let clone = try await sim.config(101)
        #expect(clone["name"] == .string("web1") && clone["lock"] == nil && clone["template"] == nil)
        #expect(clone["net0"] != source["net0"], "a clone gets new MACs")
        #expect(clone["scsi0"] == .string("local-lvm:vm-101-disk-0,size=4G"))
        #expect(clone["smbios1"] != source["smbios1"])
    }

    @Test func linkedClonesNeedATemplate() async throws {
        let sim = Sim()
        try await sim.createVM(100)
        let r = await sim.fails("POST", "/nodes/pve1/qemu/100/clone", ["newid": "101", "full": "0"])
        #expect(r.contains("linked clone"))
    }

    @Test func disksGrowOnlyAndResizeIsATask() async throws {
        let sim = Sim()
        try await sim.createVM(100)
        #expect(
            await sim.fails("PUT", "/nodes/pve1/qemu/100/resize", ["disk": "scsi0", "size": "2G"])
                == "shrinking disks is not supported"
        )
        let upid = try await sim.ok("PUT", "/nodes/pve1/qemu/100/resize", ["disk": "scsi0", "size": "+2G"])
        #expect(upid.stringValue?.contains(":resize:100:") == true)
        try await sim.finish(upid)
        #expect(try await sim.config(100)["scsi0"] == .string("local-lvm:vm-100-disk-0,size=6G"))
        let bad = await sim.call("PUT", "/nodes/pve1/qemu/100/resize", ["disk": "scsi0", "size": "lots"])
        #expect(
            bad.status == 400 && bad.body["errors"]?["size"]?.stringValue == "value does not match the regex pattern\n"
        )
    }

    @Test func migrationMovesTheGuestAndARunningVMNeedsOnline() async throws {
        let sim = Sim()
        try await sim.createVM(100, ["scsi0": "ceph:4"])
        try await sim.start(100)
        #expect(
            await sim.fails("POST", "/nodes/pve1/qemu/100/migrate", ["target": "pve2"])
                == "can't migrate running VM without --online"
        )
        let upid = try await sim.ok("POST", "/nodes/pve1/qemu/100/migrate", ["target": "pve2", "online": "1"])
        #expect(await sim.fails("PUT", "/nodes/pve1/qemu/100/config", ["memory": "1024"]) == "VM is locked (migrate)")
        try await sim.finish(upid)
        #expect(
            await sim.fails("GET", "/nodes/pve1/qemu/100/config")
                == "Configuration file 'nodes/pve1/qemu-server/100.conf' does not exist"
        )
        let moved = try await sim.config(100, node: "pve2")
        #expect(moved["name"] == .string("vm100"))
        let status = try await sim.ok("GET", "/nodes/pve2/qemu/100/status/current")
        #expect(status["status"] == .string("running"), "an online migration keeps the VM running")
    }

    @Test func protectionAndRunningStateGuardDestroy() async throws {
        let sim = Sim()
        try await sim.createVM(100, ["protection": "1"])
        #expect(await sim.fails("DELETE", "/nodes/pve1/qemu/100") == "can't remove VM 100 - protection mode enabled")
        #expect(
            await sim.fails("PUT", "/nodes/pve1/qemu/100/config", ["delete": "scsi0"])
                == "can't remove drive 'scsi0' - protection mode enabled"
        )
        try await sim.ok("PUT", "/nodes/pve1/qemu/100/config", ["protection": "0"])
        try await sim.start(100)
        #expect(await sim.fails("DELETE", "/nodes/pve1/qemu/100") == "VM 100 is running - destroy failed")
        try await sim.finish(try await sim.ok("POST", "/nodes/pve1/qemu/100/status/stop"))
        try await sim.finish(try await sim.ok("DELETE", "/nodes/pve1/qemu/100"))
        #expect(
            try await sim.ok("GET", "/nodes/pve1/storage/local-lvm/content", ["vmid": "100"]).arrayValue?.isEmpty
                == true
        )
    }

    @Test func nodeMemoryAndStorageCapacityAreEnforced() async throws {
        // ceph (thick in pve-sim) refuses disks beyond its size; local-lvm is a thin pool, made full by the fault flag.
        let sim = Sim {
            $0.nodeMemory = 8 << 30
            $0.sharedStorageSize = 10 << 30
            $0.thinPoolsFull = true
        }
        try await sim.createVM(100, ["memory": "6144", "scsi0": "ceph:4"])
        try await sim.createVM(101, ["memory": "4096", "scsi0": "ceph:2"])
        try await sim.start(100)
        let status = try await sim.finish(try await sim.ok("POST", "/nodes/pve1/qemu/101/status/start"))
        let exit = try #require(status["exitstatus"]?.stringValue)
        #expect(exit.hasPrefix("start failed"), "\(exit)")
        let log = try await sim.ok("GET", "/nodes/pve1/tasks/\(status["upid"]!.stringValue!)/log")
        #expect(log.arrayValue?.last?["t"]?.stringValue?.hasPrefix("TASK ERROR: start failed") == true)
        let full = await sim.fails("POST", "/nodes/pve1/qemu", ["vmid": "102", "scsi0": "ceph:8"])
        #expect(full.contains("not enough free space"), "\(full)")
        let thin = await sim.fails("POST", "/nodes/pve1/qemu", ["vmid": "103", "scsi0": "local-lvm:1"])
        #expect(
            thin == "unable to create VM 103 - lvcreate 'pve/vm-103-disk-0' error:   Cannot create new thin volume, "
                + "free space in thin pool pve/data reached threshold.",
            "\(thin)"
        )
    }

    @Test func nextIDSkipsUsedIDsAndRefusesATakenOne() async throws {
        let sim = Sim()
        try await sim.createVM(100)
        #expect(try await sim.ok("GET", "/cluster/nextid") == .string("101"))
        let taken = await sim.call("GET", "/cluster/nextid", ["vmid": "100"])
        #expect(taken.status == 400 && taken.body["errors"]?["vmid"]?.stringValue == "VM 100 already exists\n")
        #expect(
            await sim.fails("POST", "/nodes/pve2/qemu", ["vmid": "100"])
                == "unable to create VM 100 - VM 100 already exists on node 'pve1'"
        )
    }

    @Test func poolsInThePVE81Form() async throws {
        let sim = Sim()
        try await sim.createVM(100)
        try await sim.ok("POST", "/pools", ["poolid": "web", "comment": "Web tier"])
        try await sim.ok("POST", "/pools", ["poolid": "db"])
        #expect(await sim.fails("POST", "/pools", ["poolid": "web"]) == "pool 'web' already exists")
        try await sim.ok("PUT", "/pools", ["poolid": "web", "vms": "100"])
        #expect(await sim.fails("PUT", "/pools", ["poolid": "db", "vms": "100"]) == "VM 100 is already a pool member")
        let web = try await sim.ok("GET", "/pools", ["poolid": "web"])
        #expect(web.arrayValue?.first?["members"]?.arrayValue?.first?["id"] == .string("qemu/100"))
        #expect(web.arrayValue?.first?["comment"] == .string("Web tier"))
        #expect(await sim.fails("DELETE", "/pools", ["poolid": "web"]) == "pool 'web' is not empty")
        try await sim.ok("PUT", "/pools", ["poolid": "db", "vms": "100", "allow-move": "1"])
        try await sim.ok("DELETE", "/pools", ["poolid": "web"])
        let resources = try await sim.ok("GET", "/cluster/resources", ["type": "vm"])
        #expect(resources.arrayValue?.first?["pool"] == .string("db"))
    }

    @Test func backupJobsKeepTheirSettingsAndShowRetentionAsAnObject() async throws {
        let sim = Sim()
        try await sim.ok("POST", "/pools", ["poolid": "web"])
        try await sim.ok(
            "POST",
            "/cluster/backup",
            [
                "id": "backup-web", "pool": "web", "schedule": "sun 01:00", "storage": "local",
                "mode": "snapshot", "prune-backups": "keep-daily=7,keep-weekly=4",
            ]
        )
        var job = try await sim.ok("GET", "/cluster/backup/backup-web")
        #expect(job["prune-backups"] == .object(["keep-daily": .string("7"), "keep-weekly": .string("4")]))
        #expect(job["enabled"] == .int(1) && job["type"] == .string("vzdump"))
        #expect(job["next-run"]?.intValue != nil)
        try await sim.ok("PUT", "/cluster/backup/backup-web", ["schedule": "daily", "delete": "prune-backups"])
        job = try await sim.ok("GET", "/cluster/backup/backup-web")
        #expect(job["schedule"] == .string("daily") && job["prune-backups"] == nil)
        #expect(
            await sim.fails(
                "POST",
                "/cluster/backup",
                ["id": "b2", "schedule": "daily", "storage": "local-lvm", "all": "1"]
            )
                == "storage 'local-lvm' does not support vzdump backups"
        )
        try await sim.ok("DELETE", "/cluster/backup/backup-web")
        #expect(await sim.fails("GET", "/cluster/backup/backup-web") == "Job 'backup-web' does not exist")
    }

    @Test func vzdumpLocksTheGuestAndLeavesAnArchive() async throws {
        let sim = Sim()
        try await sim.createVM(100)
        let upid = try await sim.ok("POST", "/nodes/pve1/vzdump", ["vmid": "100", "storage": "local"])
        #expect(await sim.fails("PUT", "/nodes/pve1/qemu/100/config", ["memory": "1024"]) == "VM is locked (backup)")
        try await sim.finish(upid)
        let archives = try await sim.ok("GET", "/nodes/pve1/storage/local/content", ["content": "backup"])
        #expect(archives.arrayValue?.first?["volid"]?.stringValue?.hasPrefix("local:dump/vzdump-qemu-100-") == true)
    }

    @Test func faultsAreReproducibleFromTheSeedAndSomeHappenAfterTheCommit() async throws {
        func run(seed: UInt64) async throws -> ([Int], Int) {
            let sim = Sim {
                $0.failRate = 0.5
                $0.seed = seed
            }
            var statuses: [Int] = []
            var committedButFailed = 0
            for i in 0..<40 {
                let r = await sim.call("POST", "/pools", ["poolid": "p\(i)"])
                statuses.append(r.status)
                let exists = await sim.sim.snapshot.pools["p\(i)"] != nil
                if r.status == 596 && exists { committedButFailed += 1 }
            }
            return (statuses, committedButFailed)
        }
        let (a, committedA) = try await run(seed: 7)
        let (b, _) = try await run(seed: 7)
        let (c, _) = try await run(seed: 8)
        #expect(a == b)
        #expect(a != c)
        #expect(a.contains(596) && a.contains(200))
        #expect(committedA > 0, "some failures come after the change was made")
    }

    @Test func aFailedCreateTaskLeavesNoGuestAndQuotesTheError() async throws {
        let sim = Sim { $0.taskFailureRate = 1 }
        let upid = try await sim.ok("POST", "/nodes/pve1/qemu", ["vmid": "100", "scsi0": "local-lvm:4"])
        let status = try await sim.finish(upid)
        #expect(status["status"] == .string("stopped"))
        #expect(status["exitstatus"]?.stringValue?.hasPrefix("unable to create VM 100") == true)
        #expect(status["user"] == .string("root@pam") && status["tokenid"] == .string("setpoint"))
        #expect(await sim.fails("GET", "/nodes/pve1/qemu/100/config").hasPrefix("Configuration file"))
    }

    @Test func lockContentionRefusesConfigWrites() async throws {
        let sim = Sim { $0.lockContention = 1 }
        try await sim.createVM(100)
        #expect(
            await sim.fails("PUT", "/nodes/pve1/qemu/100/config", ["memory": "1024"])
                == "can't lock file '/var/lock/qemu-server/lock-100.conf' - got timeout"
        )
    }

    @Test func theStateFileKeepsTheClusterAcrossRestarts() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("pve-sim-\(UUID().uuidString).json")
            .path
        defer { try? FileManager.default.removeItem(atPath: file) }
        let first = Sim { $0.stateFile = file }
        try await first.createVM(100, ["name": "keep-me"])
        let second = Sim { $0.stateFile = file }
        #expect(try await second.config(100)["name"] == .string("keep-me"))
    }

    @Test func prePopulatedGuestsSpreadOverTheNodes() async throws {
        let sim = Sim {
            $0.guests = 6
            $0.nodes = 3
        }
        let vms = try #require(try await sim.ok("GET", "/cluster/resources", ["type": "vm"]).arrayValue)
        #expect(vms.count == 6)
        #expect(Set(vms.compactMap { $0["node"]?.stringValue }) == ["pve1", "pve2", "pve3"])
    }
}
