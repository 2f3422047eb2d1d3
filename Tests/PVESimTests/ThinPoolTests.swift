import Foundation
import PVESim
import Testing

/// `local-lvm` is an LVM thin pool, as on a PVE install: disks may add up to more than the pool (their size is
/// virtual), only data written fills it, and a full pool refuses new thin volumes with LVM's message.
@Suite(.timeLimit(.minutes(3))) struct ThinPoolTests {
    static let refusal = "error:   Cannot create new thin volume, free space in thin pool pve/data reached threshold."

    /// `total`, `used` and `avail` of pve1's `local-lvm` (or `node`'s).
    static func localLVM(_ sim: Sim, node: String = "pve1") async throws -> (total: Int, used: Int, avail: Int) {
        let status = try await sim.ok("GET", "/nodes/\(node)/storage/local-lvm/status")
        let total = try #require(status["total"]?.intValue)
        let used = try #require(status["used"]?.intValue)
        let avail = try #require(status["avail"]?.intValue)
        return (total, used, avail)
    }

    /// Writes `bytes` into a guest's thin volume, as the guest would.
    static func write(_ sim: Sim, _ volume: String, bytes: Int64, node: String = "pve1") async {
        await sim.sim.mutate { state in
            let key = state.volumeKey(storage: "local-lvm", name: volume, node: node)
            state.volumes[key]?.used = bytes
        }
    }

    @Test func thinDisksOvercommitThePoolAndOnlyWrittenDataFillsIt() async throws {
        let sim = Sim { $0.localStorageSize = 10 << 30 }
        try await sim.createVM(100, ["scsi0": "local-lvm:8"])
        try await sim.createVM(101, ["scsi0": "local-lvm:8"])  // 16 GiB of disks on a 10 GiB pool
        try await sim.finish(try await sim.ok("PUT", "/nodes/pve1/qemu/101/resize", ["disk": "scsi0", "size": "+20G"]))
        #expect(try await sim.config(101)["scsi0"] == .string("local-lvm:vm-101-disk-0,size=28G"))
        var pool = try await Self.localLVM(sim)
        #expect(
            pool.total == 10 << 30 && pool.used == 0 && pool.avail == 10 << 30,
            "new thin volumes hold no data: \(pool)"
        )
        let content = try #require(try await sim.ok("GET", "/nodes/pve1/storage/local-lvm/content").arrayValue)
        #expect(
            content.compactMap { $0["size"]?.intValue }.sorted() == [8 << 30, 28 << 30],
            "the content lists virtual sizes"
        )
        // A guest writes 3 GiB; a full clone copies what its source holds.
        await Self.write(sim, "vm-100-disk-0", bytes: 3 << 30)
        pool = try await Self.localLVM(sim)
        #expect(pool.used == 3 << 30 && pool.avail == 7 << 30, "\(pool)")
        try await sim.finish(try await sim.ok("POST", "/nodes/pve1/qemu/100/clone", ["newid": "102", "full": "1"]))
        pool = try await Self.localLVM(sim)
        #expect(pool.used == 6 << 30, "\(pool)")
        let resources = try #require(try await sim.ok("GET", "/cluster/resources", ["type": "storage"]).arrayValue)
        let entry = try #require(resources.first { $0["id"] == .string("storage/pve1/local-lvm") })
        #expect(entry["disk"] == .int(6 << 30) && entry["maxdisk"] == .int(10 << 30))
        // Allocating a volume through the storage API overcommits too.
        let volid = try await sim.ok(
            "POST",
            "/nodes/pve1/storage/local-lvm/content",
            ["vmid": "100", "filename": "vm-100-disk-9", "size": "50G"]
        )
        #expect(volid == .string("local-lvm:vm-100-disk-9"))
        #expect(try await Self.localLVM(sim).used == 6 << 30)
    }

    @Test func aFullThinPoolRefusesNewThinVolumesAsLVMDoes() async throws {
        let sim = Sim { $0.thinPoolsFull = true }
        #expect(
            await sim.fails("POST", "/nodes/pve1/qemu", ["vmid": "100", "scsi0": "local-lvm:4"])
                == "unable to create VM 100 - lvcreate 'pve/vm-100-disk-0' \(Self.refusal)"
        )
        let pool = try await Self.localLVM(sim)
        #expect(pool.used == pool.total && pool.avail == 0, "\(pool)")
        // Other storages still take disks; a new thin disk, a clone onto the pool and a storage allocation are refused.
        try await sim.createVM(100, ["scsi0": "ceph:4"])
        #expect(
            await sim.fails("PUT", "/nodes/pve1/qemu/100/config", ["scsi1": "local-lvm:1"])
                == "lvcreate 'pve/vm-100-disk-0' \(Self.refusal)"
        )
        #expect(
            await sim.fails("POST", "/nodes/pve1/qemu/100/clone", ["newid": "101", "storage": "local-lvm"])
                == "clone failed: lvcreate 'pve/vm-101-disk-0' \(Self.refusal)"
        )
        #expect(
            await sim.fails(
                "POST",
                "/nodes/pve1/storage/local-lvm/content",
                ["vmid": "100", "filename": "vm-100-disk-5", "size": "1G"]
            )
                == "lvcreate 'pve/vm-100-disk-5' \(Self.refusal)"
        )
        #expect(try await sim.ok("GET", "/nodes/pve1/storage/local-lvm/content").arrayValue?.isEmpty == true)
    }

    @Test func writtenDataFillsAThinPoolUntilItRefusesNewVolumes() async throws {
        let sim = Sim { $0.localStorageSize = 10 << 30 }
        try await sim.createVM(100, ["scsi0": "local-lvm:20"])  // larger than the pool
        await Self.write(sim, "vm-100-disk-0", bytes: 10 << 30)
        let pool = try await Self.localLVM(sim)
        #expect(pool.used == 10 << 30 && pool.avail == 0, "\(pool)")
        #expect(
            await sim.fails("POST", "/nodes/pve1/qemu", ["vmid": "101", "scsi0": "local-lvm:1"])
                == "unable to create VM 101 - lvcreate 'pve/vm-101-disk-0' \(Self.refusal)"
        )
        // Each node's pool is its own; growing a thin disk writes nothing, so a full pool takes it.
        try await sim.createVM(102, node: "pve2")
        try await sim.finish(try await sim.ok("PUT", "/nodes/pve1/qemu/100/resize", ["disk": "scsi0", "size": "+10G"]))
        #expect(try await sim.config(100)["scsi0"] == .string("local-lvm:vm-100-disk-0,size=30G"))
    }
}
