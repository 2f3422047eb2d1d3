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
                        list.append(
                            .object([
                                "id": .string("storage/\(n.name)/\(id)"), "type": .string("storage"),
                                "storage": .string(id), "node": .string(n.name),
                                "status": .string("available"), "plugintype": .string(s.type),
                                "content": .string(s.content.joined(separator: ",")),
                                "shared": .int(s.shared ? 1 : 0), "maxdisk": .int(Int(s.total)),
                                "disk": .int(Int(reportedUsed(s, node: n.name))),
                            ])
                        )
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
        let vmids = (p["vms"] ?? "").split(whereSeparator: { $0 == "," || $0 == ";" || $0 == " " }).compactMap {
            Int($0)
        }
        for vmid in vmids {
            if remove {
                pool.vmids.remove(vmid)
                continue
            }
            guard state.guests[vmid] != nil else { throw PVEError("no such VM ID '\(vmid)'") }
            if let other = state.pool(of: vmid), other != id {
                guard p["allow-move"] == "1" else { throw PVEError("VM \(vmid) is already a pool member") }
                state.pools[other]?.vmids.remove(vmid)
            }
            pool.vmids.insert(vmid)
        }
        for s in (p["storage"] ?? "").split(separator: ",").map(String.init) {
            if remove {
                pool.storages.remove(s)
            } else {
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
        if state.pools.keys.contains(where: { $0.hasPrefix(id + "/") }) {
            throw PVEError("pool '\(id)' is not empty (has sub-pools)")
        }
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
        if o["enabled"] == .int(1), let schedule = job["schedule"],
            let next = CalendarEvent.nextRun(schedule, after: now)
        {
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
            if ["vmid", "pool", "all"].contains(k) {
                for other in ["vmid", "pool", "all"] where other != k { job[other] = nil }
            }
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

    /// pve-common `split_list`: VMIDs and the like separated by `,`, `;` or white space.
    static func splitList(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == "," || $0 == ";" || $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init)
    }

    /// pve-manager `PVE::VZDump::get_included_guests`: the guests a backup selection (a job, or vzdump's parameters)
    /// takes, by node — a pool's existing members, a VMID list, or all guests but `exclude`; with `node`, only the
    /// guests on that node. VMIDs of guests that do not exist are listed under "" (vzdump fails them in its log).
    func includedGuests(_ selection: [String: String]) throws -> [String: [Int]] {
        var vmids: [Int]
        if let pool = selection["pool"], !pool.isEmpty {
            guard let members = state.pools[pool]?.vmids else { throw PVEError("pool '\(pool)' does not exist") }
            vmids = members.sorted().filter { state.guests[$0] != nil }
        } else if let list = selection["vmid"], !list.isEmpty {
            vmids = Self.splitList(list).compactMap { Int($0) }
        } else if selection["all"] == "1" || selection["exclude"] != nil {
            let excluded = Set(Self.splitList(selection["exclude"] ?? "").compactMap { Int($0) })
            vmids = state.guests.keys.filter { !excluded.contains($0) }
        } else {
            return [:]
        }
        var perNode: [String: [Int]] = [:]
        for vmid in Set(vmids).sorted() {
            guard let g = state.guests[vmid] else {
                perNode["", default: []].append(vmid)
                continue
            }
            if let node = selection["node"], node != g.node { continue }
            perNode[g.node, default: []].append(vmid)
        }
        return perNode
    }

    /// `POST /nodes/{node}/vzdump` (pve-manager `PVE::API2::VZDump`): the guests of the selection on `node` (the
    /// path's node is vzdump's `--node`, so guests elsewhere are left out), plus VMIDs of guests that do not exist.
    /// When none is on the node and `all` is not set, PVE answers `OK` and starts no task. Otherwise the worker backs
    /// up each guest in turn: a locked or missing one fails in the task log (`ERROR: Backup of VM 100 failed - VM is
    /// locked (migrate)`), the others are archived, and the task ends in `job errors` if any failed.
    func vzdump(_ p: [String: String], caller: Auth.Caller) throws -> JSONValue {
        let node = p["node"]!
        try requireNode(node)
        var conflicts: [String: String] = [:]
        for key in ["all", "exclude", "pool"] where p["vmid"] != nil && p[key] != nil && p[key] != "0" {
            conflicts[key] = "option conflicts with option 'vmid'\n"
        }
        if !conflicts.isEmpty {
            var e = PVEError("Parameter verification failed.", status: 400)
            e.paramErrors = conflicts
            throw e
        }
        var selection = p
        if p["exclude"] != nil && p["pool"] == nil { selection["all"] = "1" }
        let all = selection["all"] == "1"
        if !all && p["pool"] == nil && p["vmid"] == nil && p["stop"] != "1" {
            throw PVEError.param("vmid", "property is missing")
        }
        let perNode = try includedGuests(selection)
        let local = ((perNode[node] ?? []) + (perNode[""] ?? [])).sorted()
        if local.isEmpty && !all { return .string("OK") }  // the selected guests run on other nodes: nothing to do here
        let storage = p["storage"] ?? "local"
        guard state.storage(storage)?.content.contains("backup") == true else {
            throw PVEError("storage '\(storage)' does not support vzdump backups")
        }
        let time = Self.logTime(Int(now))
        let seconds = max(0, Int(options.taskSeconds))
        var log = ["INFO: starting new backup job: \(Self.vzdumpCommandLine(p))"]
        var backedUp: [Int] = []
        var failed = 0
        for vmid in local {
            guard let g = state.guests[vmid] else {
                log += ["ERROR: Backup of VM \(vmid) failed - unable to find VM '\(vmid)'", "INFO: Failed at \(time)"]
                failed += 1
                continue
            }
            log += [
                "INFO: Starting Backup of VM \(vmid) (\(g.type.rawValue))", "INFO: Backup started at \(time)",
                "INFO: status = \(g.running ? "running" : "stopped")",
            ]
            if let lock = g.lock {
                // The plugin's lock_vm: AbstractConfig `check_lock` dies before the backup lock is taken.
                log += [
                    "ERROR: Backup of VM \(vmid) failed - \(g.type.label) is locked (\(lock))",
                    "INFO: Failed at \(time)",
                ]
                failed += 1
                continue
            }
            let mode = g.running ? (p["mode"] ?? "snapshot") : "stop"
            log += [
                "INFO: backup mode: \(mode)",
                "INFO: Finished Backup of VM \(vmid) (\(Self.formatDuration(seconds)))",
                "INFO: Backup finished at \(time)",
            ]
            backedUp.append(vmid)
        }
        for vmid in backedUp { state.guests[vmid]?.config["lock"] = "backup" }
        return .string(
            startTask(
                node: node,
                type: "vzdump",
                id: local.count == 1 ? String(local[0]) : "",
                caller: caller,
                effect: .vzdump(vmids: backedUp, storage: storage),
                log: log,
                errorAfterEffect: failed > 0 ? "job errors" : nil
            )
        )
    }

    /// pve-guest-common `PVE::VZDump::Common::command_line`: `vzdump 100 101 --mode snapshot --node pve1 --storage local`.
    static func vzdumpCommandLine(_ p: [String: String]) -> String {
        var text = "vzdump"
        if let list = p["vmid"] { text += " " + splitList(list).joined(separator: " ") }
        for key in p.keys.sorted()
        where !["id", "vmid", "starttime", "dow", "stdout", "enabled", "job-id"].contains(key) {
            guard let value = p[key], !value.isEmpty else { continue }
            text += " --\(key) \(shellQuote(value))"
        }
        return text
    }

    /// pve-common `shellquote` (String::ShellQuote's rule).
    static func shellQuote(_ text: String) -> String {
        let plain = text.unicodeScalars.allSatisfy { c in
            CharacterSet.alphanumerics.contains(c) || "_!%+,-./:=@^".unicodeScalars.contains(c)
        }
        return plain ? text : "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// vzdump's `format_time`: `00:01:05`.
    static func formatDuration(_ seconds: Int) -> String {
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : String(n) }
        return "\(two(seconds / 3600)):\(two(seconds % 3600 / 60)):\(two(seconds % 60))"
    }

    /// The time stamps of vzdump's log (`%F %H:%M:%S`; pve-sim's nodes run in UTC).
    static func logTime(_ t: Int) -> String { utcTime(t, format: "yyyy-MM-dd HH:mm:ss") }

    func vzdumpDefaults(_ p: [String: String]) throws -> JSONValue {
        try requireNode(p["node"]!)
        return .object([
            "storage": .string(p["storage"] ?? "local"), "mode": .string("snapshot"), "compress": .string("zstd"),
            "prune-backups": .object(["keep-all": .string("1")]),
        ])
    }
}
