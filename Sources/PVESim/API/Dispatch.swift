/// Routes a validated request to its handler by the schema's path template.
extension PVESimulator {
    func dispatch(_ m: APIMethod, params p: [String: String], caller: Auth.Caller) throws -> JSONValue {
        let type: GuestType = m.path.contains("/lxc") ? .lxc : .qemu
        switch (m.method, m.path) {
        case ("GET", "/version"): return version()
        case ("GET", "/access/ticket"): return .null
        case ("POST", "/access/ticket"): return try ticket(p)
        case ("GET", "/access/permissions"): return Auth.permissions(caller, path: p["path"])
        case ("GET", "/cluster/resources"): return resources(type: p["type"])
        case ("GET", "/cluster/nextid"): return try nextID(p)
        case ("GET", "/cluster/tasks"): return taskList(node: nil, params: ["source": "all"])
        case ("GET", "/cluster/status"): return clusterStatus()
        case ("GET", "/cluster/backup"): return .array(state.backupJobs.keys.sorted().map { backupJobJSON($0) })
        case ("POST", "/cluster/backup"): return try createBackupJob(p)
        case ("GET", "/cluster/backup/{id}"): return try backupJob(p["id"]!)
        case ("PUT", "/cluster/backup/{id}"): return try updateBackupJob(p)
        case ("DELETE", "/cluster/backup/{id}"): return try deleteBackupJob(p["id"]!)
        case ("GET", "/cluster/backup-info/not-backed-up"): return try notBackedUp(caller: caller)
        case ("GET", "/cluster/config/qdevice"): return qdevice()
        case ("GET", "/pools"): return try pools(p)
        case ("POST", "/pools"): return try createPool(p)
        case ("PUT", "/pools"), ("PUT", "/pools/{poolid}"): return try updatePool(p)
        case ("DELETE", "/pools"), ("DELETE", "/pools/{poolid}"): return try deletePool(p["poolid"]!)
        case ("GET", "/pools/{poolid}"): return try pool(p["poolid"]!, type: p["type"])
        case ("GET", "/storage"): return storageConfig(p)
        case ("POST", "/storage"): return try createStorage(p)
        case ("GET", "/nodes"): return nodes()
        case ("GET", "/nodes/{node}/status"): return try nodeStatus(p["node"]!)
        case ("POST", "/nodes/{node}/status"):
            try requireNode(p["node"]!)
            return .null
        case ("GET", "/nodes/{node}/subscription"): return try subscription(p["node"]!, caller: caller)
        case ("GET", "/nodes/{node}/replication"): return try replication(p)
        case ("GET", "/nodes/{node}/qemu"), ("GET", "/nodes/{node}/lxc"): return try guestList(p["node"]!, type)
        case ("POST", "/nodes/{node}/qemu"), ("POST", "/nodes/{node}/lxc"):
            return try createGuest(p, type, caller: caller)
        case ("DELETE", "/nodes/{node}/qemu/{vmid}"), ("DELETE", "/nodes/{node}/lxc/{vmid}"):
            return try destroyGuest(p, type, caller: caller)
        case ("GET", "/nodes/{node}/qemu/{vmid}"), ("GET", "/nodes/{node}/lxc/{vmid}"): return try guestIndex(p, type)
        case ("GET", "/nodes/{node}/qemu/{vmid}/config"), ("GET", "/nodes/{node}/lxc/{vmid}/config"):
            return try config(p, type)
        case ("PUT", "/nodes/{node}/qemu/{vmid}/config"), ("PUT", "/nodes/{node}/lxc/{vmid}/config"):
            var g = try guest(p, type)
            try updateConfig(&g, params: p, caller: caller)
            state.guests[g.vmid] = g
            return .null
        case ("POST", "/nodes/{node}/qemu/{vmid}/config"):
            var g = try guest(p, type)
            try updateConfig(&g, params: p, caller: caller)
            state.guests[g.vmid] = g
            return .string(
                startTask(
                    node: g.node,
                    type: "qmconfig",
                    id: String(g.vmid),
                    caller: caller,
                    effect: .config,
                    seconds: 0
                )
            )
        case ("GET", "/nodes/{node}/qemu/{vmid}/pending"), ("GET", "/nodes/{node}/lxc/{vmid}/pending"):
            return try pending(p, type)
        case ("GET", "/nodes/{node}/qemu/{vmid}/status/current"), ("GET", "/nodes/{node}/lxc/{vmid}/status/current"):
            return guestStatus(try guest(p, type))
        case ("POST", let path)
        where path.hasSuffix("/status/start") || path.hasSuffix("/status/stop")
            || path.hasSuffix("/status/shutdown") || path.hasSuffix("/status/reboot"):
            return try power(p, type, action: String(path.split(separator: "/").last!), caller: caller)
        case ("POST", "/nodes/{node}/qemu/{vmid}/clone"), ("POST", "/nodes/{node}/lxc/{vmid}/clone"):
            return try clone(p, type, caller: caller)
        case ("PUT", "/nodes/{node}/qemu/{vmid}/resize"), ("PUT", "/nodes/{node}/lxc/{vmid}/resize"):
            return try resize(p, type, caller: caller)
        case ("GET", "/nodes/{node}/qemu/{vmid}/migrate"), ("GET", "/nodes/{node}/lxc/{vmid}/migrate"):
            return try migrationCheck(p, type)
        case ("POST", "/nodes/{node}/qemu/{vmid}/migrate"), ("POST", "/nodes/{node}/lxc/{vmid}/migrate"):
            return try migrate(p, type, caller: caller)
        case ("GET", "/nodes/{node}/tasks"):
            try requireNode(p["node"]!)
            return taskList(node: p["node"], params: p)
        case ("GET", "/nodes/{node}/tasks/{upid}"):
            _ = try task(upid: p["upid"]!)
            return .array([.object(["name": .string("log")]), .object(["name": .string("status")])])
        case ("GET", "/nodes/{node}/tasks/{upid}/status"): return try tasksStatus(p)
        case ("GET", "/nodes/{node}/tasks/{upid}/log"): return try taskLog(p)
        case ("DELETE", "/nodes/{node}/tasks/{upid}"): return try stopTask(p)
        case ("GET", "/nodes/{node}/storage"): return try nodeStorages(p)
        case ("GET", "/nodes/{node}/storage/{storage}/status"): return try storageStatus(p)
        case ("GET", "/nodes/{node}/storage/{storage}/content"): return try storageContent(p)
        case ("POST", "/nodes/{node}/storage/{storage}/content"): return try allocateVolume(p)
        case ("POST", "/nodes/{node}/vzdump"): return try vzdump(p, caller: caller)
        case ("GET", "/nodes/{node}/vzdump/defaults"): return try vzdumpDefaults(p)
        default:
            throw PVEError("Method '\(m.method) \(m.path)' not implemented", status: 501)
        }
    }
}
