import Foundation

/// `/pools` (the PVE ≥ 8.1 form and the deprecated `/pools/{poolid}`), `/cluster/backup` and vzdump.
extension PVESimulator {
    private func poolJSON(_ pool: SimPool, members: Bool, type: String? = nil) -> JSONValue {
        var o: [String: JSONValue] = ["poolid": .string(pool.poolid)]
        if let c = pool.comment { o["comment"] = .string(c) }
        if members {
            var list: [JSONValue] = []
            for vmid in pool.vmids.sorted() {
                guard let g = state.guests[vmid], type == nil || type == g.type.rawValue else { continue }
                var m = guestUsage(g)
                m["id"] = .string("\(g.type.rawValue)/\(vmid)")
                m["type"] = .string(g.type.rawValue)
                m["node"] = .string(g.node)
                list.append(.object(m))
            }
            if type == nil || type == "storage" {
                for id in pool.storages.sorted() {
                    guard let s = state.storage(id) else { continue }
                    for n in state.nodes where s.shared == false || n.name == state.nodes.first?.name {
                        list.append(.object([
                            "id": .string("storage/\(n.name)/\(id)"), "type": .string("storage"), "storage": .string(id), "node": .string(n.name),
                            "status": .string("available"), "plugintype": .string(s.type), "content": .string(s.content.joined(separator: ",")),
                            "shared": .int(s.shared ? 1 : 0), "maxdisk": .int(Int(s.total)), "disk": .int(Int(state.used(storage: id, node: n.name))),
                        ]))
                    }
                }
            }
            o["members"] = .array(list)
        }
        return .object(o)
    }

    func pools(_ p: [String: String]) throws -> JSONValue {
        if let id = p["poolid"] {
            guard let pool = state.pools[id] else { throw PVEError("pool '\(id)' does not exist") }
            return .array([poolJSON(pool, members: true, type: p["type"])])
        }
        return .array(state.pools.keys.sorted().map { poolJSON(state.pools[$0]!, members: false) })
    }

    func pool(_ id: String, type: String?) throws -> JSONValue {
        guard let pool = state.pools[id] else { throw PVEError("pool '\(id)' does not exist") }
        guard case .object(var o) = poolJSON(pool, members: true, type: type) else { return .null }
        o["poolid"] = nil
        return .object(o)
    }

    func createPool(_ p: [String: String]) throws -> JSONValue {
        let id = p["poolid"]!
        if state.pools[id] != nil { throw PVEError("pool '\(id)' already exists") }
        if let slash = id.lastIndex(of: "/"), state.pools[String(id[..<slash])] == nil {
            throw PVEError("parent '\(id[..<slash])' does not exist")
        }
        state.pools[id] = SimPool(poolid: id, comment: p["comment"])
        return .null
    }

    func updatePool(_ p: [String: String]) throws -> JSONValue {
        let id = p["poolid"]!
        guard var pool = state.pools[id] else { throw PVEError("pool '\(id)' does not exist") }
        if let c = p["comment"] { pool.comment = c.isEmpty ? nil : c }
        let remove = p["delete"] == "1"
        let vmids = (p["vms"] ?? "").split(whereSeparator: { $0 == "," || $0 == ";" || $0 == " " }).compactMap { Int($0) }
        for vmid in vmids {
            if remove { pool.vmids.remove(vmid); continue }
            guard state.guests[vmid] != nil else { throw PVEError("no such VM ID '\(vmid)'") }
            if let other = state.pool(of: vmid), other != id {
                guard p["allow-move"] == "1" else { throw PVEError("VM \(vmid) is already a pool member") }
                state.pools[other]?.vmids.remove(vmid)
            }
            pool.vmids.insert(vmid)
        }
        for s in (p["storage"] ?? "").split(separator: ",").map(String.init) {
            if remove { pool.storages.remove(s) } else {
                guard state.storage(s) != nil else { throw PVEError("no such storage '\(s)'") }
                pool.storages.insert(s)
            }
        }
        state.pools[id] = pool
        return .null
    }

    func deletePool(_ id: String) throws -> JSONValue {
        guard let pool = state.pools[id] else { throw PVEError("pool '\(id)' does not exist") }
        if !pool.vmids.isEmpty || !pool.storages.isEmpty { throw PVEError("pool '\(id)' is not empty") }
        if state.pools.keys.contains(where: { $0.hasPrefix(id + "/") }) { throw PVEError("pool '\(id)' is not empty (has sub-pools)") }
        state.pools[id] = nil
        return .null
    }

    // MARK: Backup jobs

    static let backupJobValueKeys: Set<String> = ["id", "delete", "digest"]

    func backupJobJSON(_ id: String) -> JSONValue {
        let job = state.backupJobs[id]!
        var o: [String: JSONValue] = ["id": .string(id), "type": .string("vzdump")]
        let schema = PVEAPISchema.shared.match(method: "POST", path: "/cluster/backup")!.0
        for (k, v) in job {
            if k == "prune-backups" {
                var retention: [String: JSONValue] = [:]
                for pair in v.split(separator: ",") {
                    let kv = pair.split(separator: "=", maxSplits: 1)
                    if kv.count == 2 { retention[String(kv[0])] = .string(String(kv[1])) }
                }
                o[k] = .object(retention)
                continue
            }
            switch schema.parameters[k]?.type {
            case "integer", "boolean": o[k] = Int(v).map(JSONValue.int) ?? .string(v)
            default: o[k] = .string(v)
            }
        }
        if o["enabled"] == nil { o["enabled"] = .int(1) }
        if o["enabled"] == .int(1), let schedule = job["schedule"], let next = CalendarEvent.nextRun(schedule, after: now) {
            o["next-run"] = .int(next)
        }
        return .object(o)
    }

    func backupJob(_ id: String) throws -> JSONValue {
        guard state.backupJobs[id] != nil else { throw PVEError("Job '\(id)' does not exist") }
        return backupJobJSON(id)
    }

    private func checkSelection(_ job: [String: String]) throws {
        let chosen = ["vmid", "pool", "all"].filter { job[$0] != nil && job[$0] != "0" }
        if chosen.isEmpty { throw PVEError.param("vmid", "you need to specify one of 'vmid', 'pool' or 'all'") }
        if let pool = job["pool"], state.pools[pool] == nil { throw PVEError("pool '\(pool)' does not exist") }
        if let storage = job["storage"] {
            guard let s = state.storage(storage) else { throw PVEError("storage '\(storage)' does not exist") }
            if !s.content.contains("backup") { throw PVEError("storage '\(storage)' does not support vzdump backups") }
        }
    }

    func createBackupJob(_ p: [String: String]) throws -> JSONValue {
        var id = p["id"] ?? ""
        if id.isEmpty {
            let hex = uuid().replacingOccurrences(of: "-", with: "")
            id = "backup-\(hex.prefix(8))-\(hex.dropFirst(8).prefix(4))"
        }
        if state.backupJobs[id] != nil { throw PVEError("Job '\(id)' already exists") }
        var job = p.filter { !Self.backupJobValueKeys.contains($0.key) }
        if job["schedule"] == nil, let start = p["starttime"] { job["schedule"] = start }
        try checkSelection(job)
        state.backupJobs[id] = job
        return .null
    }

    func updateBackupJob(_ p: [String: String]) throws -> JSONValue {
        let id = p["id"]!
        guard var job = state.backupJobs[id] else { throw PVEError("Job '\(id)' does not exist") }
        for k in (p["delete"] ?? "").split(separator: ",").map(String.init) { job[k] = nil }
        for (k, v) in p where !Self.backupJobValueKeys.contains(k) {
            job[k] = v
            if ["vmid", "pool", "all"].contains(k) { for other in ["vmid", "pool", "all"] where other != k { job[other] = nil } }
        }
        try checkSelection(job)
        state.backupJobs[id] = job
        return .null
    }

    func deleteBackupJob(_ id: String) throws -> JSONValue {
        guard state.backupJobs.removeValue(forKey: id) != nil else { throw PVEError("Job '\(id)' does not exist") }
        return .null
    }

    // MARK: vzdump

    func vzdump(_ p: [String: String], caller: Auth.Caller) throws -> JSONValue {
        let node = p["node"]!
        try requireNode(node)
        var vmids: [Int]
        if p["all"] == "1" {
            vmids = state.guests.values.filter { $0.node == node }.map(\.vmid)
        } else if let pool = p["pool"] {
            guard let members = state.pools[pool]?.vmids else { throw PVEError("pool '\(pool)' does not exist") }
            vmids = members.filter { state.guests[$0]?.node == node }
        } else if let list = p["vmid"] {
            vmids = list.split(separator: ",").compactMap { Int($0) }
        } else {
            throw PVEError.param("vmid", "you need to specify one of 'vmid', 'pool' or 'all'")
        }
        vmids.sort()
        let storage = p["storage"] ?? "local"
        guard state.storage(storage)?.content.contains("backup") == true else { throw PVEError("storage '\(storage)' does not support vzdump backups") }
        for vmid in vmids {
            guard let g = state.guests[vmid] else { throw PVEError("unable to find VM \(vmid)") }
            try checkLock(g)
        }
        for vmid in vmids { state.guests[vmid]?.config["lock"] = "backup" }
        return .string(startTask(node: node, type: "vzdump", id: vmids.count == 1 ? String(vmids[0]) : "", caller: caller,
                                 effect: .vzdump(vmids: vmids, storage: storage),
                                 log: vmids.map { "INFO: Starting Backup of VM \($0) (\(state.guests[$0]!.type.rawValue))" }))
    }

    func vzdumpDefaults(_ p: [String: String]) throws -> JSONValue {
        try requireNode(p["node"]!)
        return .object(["storage": .string(p["storage"] ?? "local"), "mode": .string("snapshot"), "compress": .string("zstd"),
                        "prune-backups": .object(["keep-all": .string("1")])])
    }
}
