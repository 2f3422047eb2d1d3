import Foundation
import PVESim
import Testing

/// `POST /nodes/{node}/vzdump` as pve-manager's API runs it: a locked or missing guest does not refuse the request —
/// the worker fails it in the task log and the task ends in `job errors`; only the guests on the path's node are
/// backed up; an unknown node gets PVE's hostname lookup error.
@Suite(.timeLimit(.minutes(3))) struct VzdumpTests {
    /// The lines of a task's log.
    static func log(_ sim: Sim, _ upid: JSONValue) async throws -> [String] {
        let id = try #require(upid.stringValue)
        let node = id.split(separator: ":")[1]
        let lines = try #require(try await sim.ok("GET", "/nodes/\(node)/tasks/\(id)/log", ["limit": "500"]).arrayValue)
        return lines.compactMap { $0["t"]?.stringValue }
    }

    @Test func aLockedOrMissingGuestFailsInTheTaskLogAndTheJobEndsInJobErrors() async throws {
        let sim = Sim()
        try await sim.createVM(100, ["scsi0": "ceph:4"])
        try await sim.createVM(101)
        // VM 100 is locked (migrate).
        let migration = try await sim.ok("POST", "/nodes/pve1/qemu/100/migrate", ["target": "pve2"])
        let upid = try await sim.ok("POST", "/nodes/pve1/vzdump", ["vmid": "100,101,999", "storage": "local"])
        let id = try #require(upid.stringValue)
        #expect(
            id.wholeMatch(of: /UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:vzdump::root@pam!setpoint:/) != nil,
            "\(id)"
        )
        #expect(await sim.fails("PUT", "/nodes/pve1/qemu/101/config", ["memory": "1024"]) == "VM is locked (backup)")
        let status = try await sim.finish(upid)
        #expect(status["status"] == .string("stopped") && status["exitstatus"] == .string("job errors"))
        let log = try await Self.log(sim, upid)
        #expect(log.first == "INFO: starting new backup job: vzdump 100 101 999 --node pve1 --storage local", "\(log)")
        #expect(log.contains("ERROR: Backup of VM 100 failed - VM is locked (migrate)"), "\(log)")
        #expect(log.contains("ERROR: Backup of VM 999 failed - unable to find VM '999'"), "\(log)")
        #expect(log.contains("INFO: Finished Backup of VM 101 (00:00:01)"), "\(log)")
        #expect(Array(log.suffix(2)) == ["INFO: Backup job finished with errors", "TASK ERROR: job errors"])
        // VM 101 was backed up and unlocked; VM 100 kept its migration lock, and the migration finished.
        let archives = try #require(
            try await sim.ok("GET", "/nodes/pve1/storage/local/content", ["content": "backup"]).arrayValue
        )
        #expect(archives.compactMap { $0["vmid"]?.intValue } == [101])
        #expect(try await sim.config(101)["lock"] == nil)
        #expect(try await sim.finish(migration)["exitstatus"] == .string("OK"))
        #expect(try await sim.config(100, node: "pve2")["lock"] == nil)
        // The task list shows the exit status as the task's status.
        let tasks = try #require(try await sim.ok("GET", "/nodes/pve1/tasks", ["typefilter": "vzdump"]).arrayValue)
        #expect(tasks.first?["status"] == .string("job errors"))
    }

    @Test func aContainersLockIsNamedInTheLogToo() async throws {
        let sim = Sim()
        try await sim.finish(
            try await sim.ok(
                "POST",
                "/nodes/pve1/lxc",
                [
                    "vmid": "200", "rootfs": "local-lvm:4",
                    "ostemplate": "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst",
                ]
            )
        )
        await sim.sim.mutate { $0.guests[200]?.config["lock"] = "snapshot" }
        let upid = try await sim.ok("POST", "/nodes/pve1/vzdump", ["vmid": "200"])
        #expect(upid.stringValue?.contains(":vzdump:200:") == true)
        #expect(try await sim.finish(upid)["exitstatus"] == .string("job errors"))
        #expect(try await Self.log(sim, upid).contains("ERROR: Backup of VM 200 failed - CT is locked (snapshot)"))
        #expect(
            try await sim.config(200, type: "lxc")["lock"] == .string("snapshot"),
            "a failed backup leaves the guest's lock alone"
        )
    }

    @Test func onlyThePathsNodeIsBackedUpAndPVEAnswersOKWhenNoGuestIsThere() async throws {
        let sim = Sim()
        try await sim.createVM(100)
        try await sim.createVM(102, node: "pve2")
        // Every selected guest is on another node: PVE answers OK and starts no task.
        #expect(try await sim.ok("POST", "/nodes/pve2/vzdump", ["vmid": "100", "storage": "local"]) == .string("OK"))
        #expect(try await sim.config(100)["lock"] == nil)
        #expect(
            try await sim.ok("GET", "/cluster/tasks").arrayValue?.contains { $0["type"] == .string("vzdump") } == false
        )
        // Guests elsewhere are left out of the job.
        let upid = try await sim.ok("POST", "/nodes/pve1/vzdump", ["vmid": "100,102", "storage": "local"])
        #expect(upid.stringValue?.contains(":vzdump:100:") == true, "one guest on the node: the task names it")
        #expect(try await sim.finish(upid)["exitstatus"] == .string("OK"))
        let log = try await Self.log(sim, upid)
        #expect(log.first == "INFO: starting new backup job: vzdump 100 102 --node pve1 --storage local", "\(log)")
        #expect(!log.contains { $0.contains("VM 102") }, "\(log)")
        #expect(Array(log.suffix(2)) == ["INFO: Backup job finished successfully", "TASK OK"])
        // all=1 with exclude on pve2: pve2's guests but the excluded ones.
        try await sim.createVM(103, node: "pve2")
        try await sim.finish(
            try await sim.ok("POST", "/nodes/pve2/vzdump", ["all": "1", "exclude": "103", "storage": "local"])
        )
        let archives = try #require(
            try await sim.ok("GET", "/nodes/pve2/storage/local/content", ["content": "backup"]).arrayValue
        )
        #expect(archives.compactMap { $0["vmid"]?.intValue } == [102])
        // PVE's errors: an unknown node, conflicting or missing selections.
        #expect(
            await sim.fails("POST", "/nodes/pve9/vzdump", ["vmid": "100"])
                == "hostname lookup 'pve9' failed - failed to get address info for: pve9: Name or service not known"
        )
        let conflict = await sim.call("POST", "/nodes/pve1/vzdump", ["vmid": "100", "all": "1"])
        #expect(
            conflict.status == 400
                && conflict.body["errors"]?["all"] == .string("option conflicts with option 'vmid'\n")
        )
        let missing = await sim.call("POST", "/nodes/pve1/vzdump", ["storage": "local"])
        #expect(missing.status == 400 && missing.body["errors"]?["vmid"] == .string("property is missing\n"))
    }
}
