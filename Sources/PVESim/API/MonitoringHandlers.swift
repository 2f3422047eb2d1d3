import Crypto
import Foundation

/// The reads monitoring tools make on every scrape: guests no backup job covers, the node's subscription, its
/// replication jobs, and the cluster's QDevice.
extension PVESimulator {
    /// `GET /cluster/backup-info/not-backed-up` (pve-manager `PVE::API2::Cluster::BackupInfo`): the guests no vzdump job
    /// selects — by VMID, pool or `all` minus `exclude`, only on the job's `node` when it names one; disabled jobs count.
    /// Each as `{vmid, type, name?}`; a caller without `VM.Audit` sees none.
    func notBackedUp(caller: Auth.Caller) throws -> JSONValue {
        var covered = Set<Int>()
        for id in state.backupJobs.keys.sorted() {
            for vmids in try includedGuests(state.backupJobs[id] ?? [:]).values { covered.formUnion(vmids) }
        }
        guard caller.privileges.contains("VM.Audit") else { return .array([]) }
        let guests = state.guests.values.filter { !covered.contains($0.vmid) }.sorted { $0.vmid < $1.vmid }
        return .array(
            guests.map { g in
                var o: [String: JSONValue] = ["vmid": .int(g.vmid), "type": .string(g.type.rawValue)]
                if let name = g.config[g.type == .qemu ? "name" : "hostname"] { o["name"] = .string(name) }
                return .object(o)
            }
        )
    }

    /// `GET /nodes/{node}/subscription` (pve-manager `PVE::API2::Subscription`) on a node without a key, as a community
    /// install answers: status `notfound`; the server ID only for callers with `Sys.Audit`.
    func subscription(_ node: String, caller: Auth.Caller) throws -> JSONValue {
        try requireNode(node)
        var o: [String: JSONValue] = [
            "status": .string("notfound"), "message": .string("There is no subscription key"),
            "url": .string("https://www.proxmox.com/en/proxmox-virtual-environment/pricing"),
        ]
        if caller.privileges.contains("Sys.Audit") {
            o["serverid"] = .string(
                Insecure.MD5.hash(data: Data("pve-sim:\(node)".utf8)).map { String(format: "%02X", $0) }.joined()
            )
        }
        return .object(o)
    }

    /// `GET /nodes/{node}/replication`: pve-sim models no storage replication, so no node has a job.
    func replication(_ p: [String: String]) throws -> JSONValue {
        try requireNode(p["node"]!)
        return .array([])
    }

    /// `GET /cluster/config/qdevice`: PVE returns an empty object when no QDevice is set up (its socket does not
    /// exist), as in pve-sim's clusters.
    func qdevice() -> JSONValue {
        .object([:])
    }
}
