import PVESim
import Testing

/// IMPACT.md §0 and the table rows the providers rely on, against the simulator in-process.
@Suite(.timeLimit(.minutes(2))) struct ImpactRulesTests {
    @Test func createStoresPVENormalFormsAndTypesValuesAsPVEReturnsThem() async throws {
        let sim = Sim()
        let upid = try await sim.ok(
            "POST",
            "/nodes/pve1/qemu",
            [
                "vmid": "100", "name": "web", "memory": "2048", "cores": "2",
                "scsi0": "local-lvm:4,ssd=1", "net0": "virtio,bridge=vmbr0", "tags": "B;a,b", "onboot": "yes",
            ]
        )
        #expect(
            upid.stringValue?.hasPrefix("UPID:pve1:") == true
                && upid.stringValue?.contains(":qmcreate:100:root@pam!setpoint:") == true
        )
        let locked = await sim.fails("PUT", "/nodes/pve1/qemu/100/config", ["memory": "4096"])
        #expect(locked == "VM is locked (create)")
        try await sim.finish(upid)
        let c = try await sim.config(100)
        #expect(c["memory"] == .string("2048"), "memory is a property string since PVE 8.1")
        #expect(c["cores"] == .int(2))
        #expect(c["onboot"] == .int(1))
        #expect(c["tags"] == .string("a;b"))
        #expect(c["scsi0"] == .string("local-lvm:vm-100-disk-0,size=4G,ssd=1"))
        let net = try #require(c["net0"]?.stringValue)
        #expect(net.wholeMatch(of: /virtio=BC:24:11:[0-9A-F]{2}:[0-9A-F]{2}:[0-9A-F]{2},bridge=vmbr0/) != nil, "\(net)")
        #expect(c["digest"]?.stringValue?.count == 40)
        #expect(c["boot"] == .string("order=scsi0;net0"))
        #expect(c["lock"] == nil)
    }

    @Test func aStoppedGuestTakesEveryChangeAtOnce() async throws {
        let sim = Sim()
        try await sim.createVM(100)
        try await sim.ok("PUT", "/nodes/pve1/qemu/100/config", ["memory": "4096", "cores": "4"])
        let p = try await sim.pending(100)
        #expect(p["memory"]?.0 == "4096" && p["memory"]?.1 == nil)
        #expect(p["cores"]?.0 == "4" && p["cores"]?.1 == nil)
    }

    @Test func memoryOnARunningVMWithoutMemoryHotplugIsPendingUntilPVEStopsIt() async throws {
        let sim = Sim()
        try await sim.createVM(100)
        try await sim.start(100)
        try await sim.ok("PUT", "/nodes/pve1/qemu/100/config", ["memory": "4096"])
        let p = try await sim.pending(100)
        #expect(p["memory"]?.0 == "2048" && p["memory"]?.1 == "4096")
        #expect(try await sim.config(100)["memory"] == .string("4096"), "GET config merges pending values")
        #expect(try await sim.config(100, current: true)["memory"] == .string("2048"), "current=1 shows the live value")
        try await sim.finish(try await sim.ok("POST", "/nodes/pve1/qemu/100/status/shutdown"))
        let after = try await sim.pending(100)
        #expect(after["memory"]?.0 == "4096" && after["memory"]?.1 == nil, "a PVE-driven stop applies pending changes")
    }

    @Test func memoryIsHotWithMemoryHotplugAndNUMAAtStart() async throws {
        let sim = Sim()
        try await sim.createVM(100, ["hotplug": "network,disk,memory", "numa": "1"])
        try await sim.start(100)
        try await sim.ok("PUT", "/nodes/pve1/qemu/100/config", ["memory": "4096"])
        #expect(try await sim.pending(100)["memory"]?.1 == nil)
        #expect(try await sim.config(100, current: true)["memory"] == .string("4096"))
        // Memory hotplug without NUMA is not enough.
        try await sim.createVM(101, ["hotplug": "network,disk,memory"])
        try await sim.start(101)
        try await sim.ok("PUT", "/nodes/pve1/qemu/101/config", ["memory": "4096"])
        #expect(try await sim.pending(101)["memory"]?.1 == "4096")
    }

    @Test func pendingValuesEqualToLiveOnesAreDroppedAndTextIsCompared() async throws {
        let sim = Sim()
        try await sim.createVM(100)
        try await sim.start(100)
        try await sim.ok("PUT", "/nodes/pve1/qemu/100/config", ["cores": "2"])
        #expect(try await sim.pending(100)["cores"]?.1 == nil, "same text as live: nothing pending")
        try await sim.ok("PUT", "/nodes/pve1/qemu/100/config", ["memory": "current=2048"])
        #expect(try await sim.pending(100)["memory"]?.1 == "current=2048", "same meaning, other text: pending")
    }

    @Test func coresArePendingAlwaysAndVCPUsHotOnlyWithCPUHotplug() async throws {
        let sim = Sim()
        try await sim.createVM(100, ["cores": "4", "vcpus": "2", "hotplug": "network,disk,cpu"])
        try await sim.start(100)
        try await sim.ok("PUT", "/nodes/pve1/qemu/100/config", ["cores": "8", "vcpus": "3"])
        let p = try await sim.pending(100)
        #expect(p["cores"]?.1 == "8")
        #expect(p["vcpus"]?.0 == "3" && p["vcpus"]?.1 == nil)
    }

    @Test func fastPlugKeysAreImmediateOnARunningVM() async throws {
        let sim = Sim()
        try await sim.createVM(100)
        try await sim.start(100)
        try await sim.ok(
            "PUT",
            "/nodes/pve1/qemu/100/config",
            ["name": "renamed", "onboot": "1", "tags": "Prod;web", "description": "x"]
        )
        let p = try await sim.pending(100)
        for key in ["name", "onboot", "tags", "description"] { #expect(p[key]?.1 == nil, "\(key)") }
        #expect(p["tags"]?.0 == "prod;web")
    }

    @Test func nicBridgeChangesAreHotWhateverTheFlagsAndAMissingMACIsANewOne() async throws {
        let sim = Sim()
        try await sim.createVM(100, ["hotplug": "0"])
        try await sim.start(100)
        let net = try #require(try await sim.config(100)["net0"]?.stringValue)
        let mac = String(net.split(separator: ",")[0].dropFirst("virtio=".count))
        try await sim.ok("PUT", "/nodes/pve1/qemu/100/config", ["net0": "virtio=\(mac),bridge=vmbr1,tag=20"])
        #expect(
            try await sim.pending(100)["net0"]?.0 == "virtio=\(mac),bridge=vmbr1,tag=20",
            "tap-level: hot without hotplug"
        )
        try await sim.ok("PUT", "/nodes/pve1/qemu/100/config", ["net0": "virtio,bridge=vmbr1,tag=20"])
        let p = try await sim.pending(100)
        let pendingNet = try #require(p["net0"]?.1)
        #expect(
            !pendingNet.contains(mac),
            "no MAC sent: PVE generates a new one, a model/MAC change, pending without network hotplug"
        )
    }

    @Test func disksHotplugOnSCSIButNotIDEAndRemovalLeavesUnused() async throws {
        let sim = Sim()
        try await sim.createVM(100)
        try await sim.start(100)
        try await sim.ok("PUT", "/nodes/pve1/qemu/100/config", ["scsi1": "local-lvm:2", "sata1": "local-lvm:1"])
        var p = try await sim.pending(100)
        let scsi1 = try #require(p["scsi1"]?.0, "scsi: hot with the disk flag")
        #expect(scsi1.wholeMatch(of: /local-lvm:vm-100-disk-[12],size=2G/) != nil && p["scsi1"]?.1 == nil)
        let sata1 = try #require(p["sata1"]?.1, "ide/sata: pending, but the volume is allocated now")
        #expect(sata1.wholeMatch(of: /local-lvm:vm-100-disk-[12],size=1G/) != nil && p["sata1"]?.0 == nil)
        try await sim.ok("PUT", "/nodes/pve1/qemu/100/config", ["delete": "scsi1"])
        p = try await sim.pending(100)
        #expect(p["scsi1"] == nil)
        #expect(p["unused0"]?.0 == String(scsi1.split(separator: ",")[0]), "the volume is kept as unused0")
        let content = try await sim.ok("GET", "/nodes/pve1/storage/local-lvm/content", ["vmid": "100"])
        #expect(content.arrayValue?.count == 3)
        try await sim.ok("PUT", "/nodes/pve1/qemu/100/config", ["delete": "unused0"])
        #expect(
            try await sim.ok("GET", "/nodes/pve1/storage/local-lvm/content", ["vmid": "100"]).arrayValue?.count == 2,
            "deleting unusedN destroys the volume at once"
        )
    }

    @Test func withoutDiskHotplugANewSCSIDiskIsPending() async throws {
        let sim = Sim()
        try await sim.createVM(100, ["hotplug": "network"])
        try await sim.start(100)
        try await sim.ok("PUT", "/nodes/pve1/qemu/100/config", ["scsi1": "local-lvm:2"])
        #expect(try await sim.pending(100)["scsi1"]?.1 == "local-lvm:vm-100-disk-1,size=2G")
    }

    @Test func balloonChangesAreHotOnlyWhileBallooningStaysOn() async throws {
        let sim = Sim()
        try await sim.createVM(100, ["balloon": "1024"])
        try await sim.start(100)
        try await sim.ok("PUT", "/nodes/pve1/qemu/100/config", ["balloon": "1536"])
        #expect(try await sim.pending(100)["balloon"]?.1 == nil)
        try await sim.ok("PUT", "/nodes/pve1/qemu/100/config", ["balloon": "0"])
        #expect(try await sim.pending(100)["balloon"]?.1 == "0")
    }

    @Test func lxcMemoryIsHotAndUnprivilegedIsReadOnly() async throws {
        let sim = Sim()
        let upid = try await sim.ok(
            "POST",
            "/nodes/pve1/lxc",
            [
                "vmid": "200", "ostemplate": "local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst",
                "rootfs": "local-lvm:8", "net0": "name=eth0,bridge=vmbr0,ip=dhcp",
            ]
        )
        try await sim.finish(upid)
        var c = try await sim.config(200, type: "lxc")
        #expect(
            c["hostname"] == .string("CT200") && c["unprivileged"] == .int(1) && c["swap"] == .int(512)
                && c["memory"] == .int(512)
        )
        #expect(c["rootfs"] == .string("local-lvm:vm-200-disk-0,size=8G"))
        let net = try #require(c["net0"]?.stringValue)
        #expect(
            net.wholeMatch(of: /name=eth0,bridge=vmbr0,hwaddr=BC:24:11:[0-9A-F:]{8},ip=dhcp,type=veth/) != nil,
            "\(net)"
        )
        try await sim.start(200, type: "lxc")
        try await sim.ok("PUT", "/nodes/pve1/lxc/200/config", ["memory": "1024", "ostype": "ubuntu"])
        let p = try await sim.pending(200, type: "lxc")
        #expect(p["memory"]?.0 == "1024" && p["memory"]?.1 == nil)
        #expect(p["ostype"]?.1 == "ubuntu")
        let r = await sim.call("PUT", "/nodes/pve1/lxc/200/config", ["unprivileged": "0"])
        #expect(
            r.status == 400
                && r.body["errors"]?["unprivileged"]?.stringValue
                    == "unable to modify read-only option: 'unprivileged'\n"
        )
        c = try await sim.config(200, type: "lxc", current: true)
        #expect(c["memory"] == .int(1024))
    }
}
