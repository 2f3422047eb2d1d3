import Foundation

public enum GuestType: String, Codable, Sendable {
    case qemu, lxc

    /// `VM` / `CT`, as PVE's messages name them.
    var label: String { self == .qemu ? "VM" : "CT" }
    /// The config directory PVE's messages quote (`nodes/pve1/qemu-server/100.conf`).
    var configDirectory: String { self == .qemu ? "qemu-server" : "lxc" }
}

/// One guest: its live config, its pending section and its run state.
public struct Guest: Codable, Sendable {
    public var vmid: Int
    public var type: GuestType
    public var node: String
    /// The live ("current") config, values as PVE writes them to the config file.
    public var config: [String: String]
    /// `[PENDING]` values.
    public var pending: [String: String] = [:]
    /// Keys pending deletion: 1 = delete, 2 = force.
    public var pendingDelete: [String: Int] = [:]
    public var running = false
    /// The hotplug features and NUMA setting the running QEMU process was started with.
    public var startedHotplug: Set<String> = []
    public var startedNUMA = false
    public var startedAt: Double?
    /// The task holding this guest's config file lock (flock), as a clone's source does.
    public var flockTask: String?
    /// The template (or guest) it was cloned from, for the guest hook.
    public var clonedFrom: ClonedFrom?

    public struct ClonedFrom: Codable, Sendable, Equatable {
        public var vmid: Int
        public var name: String
    }

    public var lock: String? { config["lock"] }
    public var isTemplate: Bool { config["template"] == "1" }
    public var name: String { config[type == .qemu ? "name" : "hostname"] ?? "\(type == .qemu ? "VM" : "CT")\(vmid)" }

    /// The config with pending values applied, as `GET …/config` shows it.
    public var merged: [String: String] {
        var c = config
        for (k, v) in pending { c[k] = v }
        for k in pendingDelete.keys { c[k] = nil }
        return c
    }

    /// The config file's text (PVE's SHA-1 `digest` is taken over it).
    public var configFileText: String {
        var text = config.keys.sorted().map { "\($0): \(config[$0]!)\n" }.joined()
        if !pending.isEmpty || !pendingDelete.isEmpty {
            text += "\n[PENDING]\n"
            if !pendingDelete.isEmpty {
                text +=
                    "delete: "
                    + pendingDelete.keys.sorted().map { pendingDelete[$0] == 2 ? "!\($0)" : $0 }.joined(separator: ",")
                    + "\n"
            }
            text += pending.keys.sorted().map { "\($0): \(pending[$0]!)\n" }.joined()
        }
        return text
    }
}

/// A storage volume (a disk image, a container volume, a template or a backup archive).
public struct Volume: Codable, Sendable {
    public var storage: String
    /// `vm-100-disk-0`, `vztmpl/debian-12-standard_12.7-1_amd64.tar.zst`, `backup/vzdump-qemu-100-….vma.zst`.
    public var name: String
    public var node: String
    /// The size the guest sees (a thin volume's virtual size).
    public var size: Int64
    public var vmid: Int?
    public var content: String
    public var ctime: Int
    /// Bytes written to a thin volume (on an `lvmthin` pool): what it takes from the pool. A new thin volume holds 0
    /// bytes, a full clone what its source held, a linked clone 0 (it shares its base's blocks); growing it does not
    /// write. Nil for volumes that take their whole size (other storages, templates, archives). Tests write data with
    /// `PVESimulator.mutate`.
    public var used: Int64? = nil

    public var volid: String { "\(storage):\(name)" }
    /// What the volume takes from its storage.
    public var allocated: Int64 { used ?? size }
}

public struct SimNode: Codable, Sendable {
    public var name: String
    public var maxmem: Int64
    public var maxcpu: Int
    public var online = true
    public var ip: String
}

public struct SimStorage: Codable, Sendable {
    public var id: String
    public var type: String
    public var content: [String]
    public var shared: Bool
    /// Capacity per node (a shared storage has one pool of space, counted once).
    public var total: Int64

    /// An LVM thin pool (`local-lvm`): volumes overcommit it, only the data written fills it.
    public var isThin: Bool { type == "lvmthin" }
}

public struct SimPool: Codable, Sendable {
    public var poolid: String
    public var comment: String?
    public var vmids: Set<Int> = []
    public var storages: Set<String> = []
}

/// Everything the simulator knows; persisted as JSON by `--state-file`.
public struct ClusterState: Codable, Sendable {
    public var clusterName = "setpoint-sim"
    public var nodes: [SimNode] = []
    public var storages: [SimStorage] = []
    public var volumes: [String: Volume] = [:]  // by node-qualified key, see `volumeKey`
    public var guests: [Int: Guest] = [:]
    public var pools: [String: SimPool] = [:]
    public var backupJobs: [String: [String: String]] = [:]
    public var tasks: [SimTask] = []
    public var nextPID = 0x3000
    public var macCounter = 0
    /// Guests that came into being (create or clone task succeeded), by VMID and by name: tests assert nothing was
    /// created twice.
    public var createdVMIDs: [Int: Int] = [:]
    public var createdNames: [String: Int] = [:]

    public func node(_ name: String) -> SimNode? { nodes.first { $0.name == name } }
    public func storage(_ id: String) -> SimStorage? { storages.first { $0.id == id } }

    /// Shared storages hold one copy of a volume for the whole cluster; local ones one per node.
    public func volumeKey(storage: String, name: String, node: String) -> String {
        self.storage(storage)?.shared == true ? "\(storage):\(name)" : "\(node)/\(storage):\(name)"
    }

    /// Bytes the volumes on a storage take from it (a thin volume: the data written to it).
    public func used(storage id: String, node: String) -> Int64 {
        let shared = storage(id)?.shared == true
        return volumes.values.filter { $0.storage == id && (shared || $0.node == node) }.reduce(0) { $0 + $1.allocated }
    }

    /// Bytes of memory the running guests on `node` hold.
    public func usedMemory(node: String) -> Int64 {
        guests.values.filter { $0.node == node && $0.running }.reduce(0) {
            $0 + Int64(ConfigValues.memoryMiB($1)) * 1_048_576
        }
    }

    public func pool(of vmid: Int) -> String? { pools.values.first { $0.vmids.contains(vmid) }?.poolid }
}
