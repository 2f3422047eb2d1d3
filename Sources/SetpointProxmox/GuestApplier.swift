import Foundation
import SetpointCore
import SetpointHTTP

/// Carries out guest actions against PVE: create (blank or clone), update, resize, migrate, restart, delete, replace.
/// Every step can be repeated: a VMID is journaled before the create call, task UPIDs are journaled and awaited, and
/// a create whose outcome is unknown is found out, never sent again blindly.
struct GuestApplier {
    let api: ProxmoxAPI
    let connections: ClusterConnections
    let cluster: String
    let kind: GuestState.Kind
    let context: ProviderContext
    let resourceID: ResourceID

    var noun: String { kind == .qemu ? "VM" : "container" }

    func fail(_ message: String, transient: Bool = false, terminal: Bool = false) -> SetpointError {
        SetpointError(.applyFailed, message, resource: resourceID, isTransient: transient, isTerminal: terminal)
    }

    /// Wraps PVE failures as apply errors that quote PVE.
    func quoting<T>(_ what: String, _ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let e as SetpointError { throw e } catch let e as PVEAPIError {
            throw fail("\(what): \(e)", transient: e.isUncertain || e.isLockContention, terminal: e.isTerminal)
        } catch let e as TaskFailure {
            throw fail("\(what): \(e)", transient: false)
        } catch {
            throw fail("\(what): \(error)", transient: true)
        }
    }

    // MARK: Looking guests up

    func locate(_ vmid: Int) async throws -> GuestObserver.Listed? {
        try await GuestObserver(api: api, concurrency: 1).list()[vmid]
    }

    func config(_ l: GuestObserver.Listed) async throws -> (config: [String: String], digest: String?) {
        let data = try await api.get("/nodes/\(l.node)/\(l.kind.rawValue)/\(l.vmid)/config")
        var config = data.object.compactMapValues(\.text)
        let digest = config.removeValue(forKey: "digest")
        return (config, digest)
    }

    /// Waits until a guest's config lock (create, clone, migrate …) is gone; nil when the guest disappeared (a failed
    /// create removes it).
    func awaitUnlocked(_ vmid: Int, timeout: Duration = .seconds(600)) async throws -> GuestObserver.Listed? {
        let deadline = context.clock.elapsed + timeout
        var delay = 100.0
        // One listing to find the node; then only the guest's config, listing again only when the config is gone
        // from that node (removed by a failed create, or moved).
        guard var l = try await locate(vmid) else { return nil }
        while context.clock.elapsed < deadline {
            do {
                if try await config(l).config["lock"] == nil { return l }
            } catch let e as PVEAPIError where e.message.contains("does not exist") {
                guard let moved = try await locate(vmid) else { return nil }
                l = moved
                continue
            } catch let e as PVEAPIError where e.isUncertain || e.isLockContention {}
            try await context.clock.sleep(for: .milliseconds(Int(delay)))
            delay = min(2000, delay * 1.5)
        }
        throw fail("\(noun) \(vmid) is still locked after \(timeout)", transient: true)
    }

    // MARK: Create

    /// Creates the guest (or finishes a create a crash interrupted); returns its VMID.
    func create(_ resource: Resource) async throws -> Int {
        let journal = context.journal
        let entries = try await journal.entries()
        let spec = resource.spec
        let pinned = spec["vmid"]?.intValue.map(Int.init)
        var vmid: Int?
        if let journaled = entries["providerID"].flatMap(Int.init) {
            if let l = try await locate(journaled) {
                // Ours only if it carries the name this resource gives its guest (the tag alone is every Setpoint
                // guest's: another create may have taken the reserved id).
                let ours = l.name == guestName(resource)
                if ours, l.kind == kind {
                    // Resume: the create happened; wait for its task and configure what is left.
                    guard let done = try await awaitUnlocked(journaled) else {
                        throw fail("\(noun) \(journaled) vanished while being created", transient: true)
                    }
                    try await finishCreate(resource, vmid: journaled, listed: done)
                    return journaled
                }
                // Someone else took the reserved id meanwhile.
                if pinned != nil {
                    throw fail("VMID \(journaled) is taken by '\(l.name)' on \(l.node), which Setpoint does not own")
                }
            } else {
                vmid = journaled
            }
        }
        for attempt in 1...5 {
            let id: Int
            if let v = vmid { id = v } else if let pinned { id = pinned } else { id = try await nextFreeVMID() }
            // The reservation is durable before the call that creates the guest.
            try await journal.record("providerID", String(id))
            do {
                try await createOnce(resource, vmid: id, entries: entries)
                return id
            } catch let e as PVEAPIError where e.message.contains("already exists") && pinned == nil && attempt < 5 {
                vmid = nil  // lost a race for the next id: take another
                continue
            }
        }
        throw fail("could not reserve a VMID")
    }

    /// The name PVE shows for this resource's guest: the VM name, or the container's hostname.
    func guestName(_ resource: Resource) -> String {
        kind == .qemu ? resource.id.name : resource.spec["hostname"]?.stringValue ?? resource.id.name
    }

    /// The next VMID no guest has and no other create of this process claimed.
    private func nextFreeVMID() async throws -> Int {
        var id = try await quoting("GET /cluster/nextid") { try await api.get("/cluster/nextid").int ?? 100 }
        while true {
            if connections.reserve(id, cluster: cluster) {
                do {
                    _ = try await api.get("/cluster/nextid", ["vmid": String(id)])
                    return id
                } catch let e as PVEAPIError where e.status == 400 {}  // taken meanwhile
            }
            id += 1
        }
    }

    private func createOnce(_ resource: Resource, vmid: Int, entries: [String: String]) async throws {
        let node = try await chooseNode(resource)
        try await context.journal.record("node", node)
        // Two attempts: a create that certainly did not happen (no guest after a lost answer, or a failed task that
        // removed it) is sent again with the same VMID; one that may have happened is only ever found out.
        for attempt in 1...2 {
            let upid: String
            do {
                upid = try await startCreate(resource, vmid: vmid, node: node)
            } catch let e as PVEAPIError where e.isUncertain {
                if let l = try await appeared(vmid) {
                    try await finishCreate(resource, vmid: vmid, listed: l)
                    return
                }
                if attempt < 2 { continue }
                throw fail(
                    "creating \(noun) \(vmid) got no answer (\(e)) and it does not exist; the next apply retries with the same VMID",
                    transient: true
                )
            } catch let e as HTTPError where e.isTransient {
                if let l = try await appeared(vmid) {
                    try await finishCreate(resource, vmid: vmid, listed: l)
                    return
                }
                if attempt < 2 { continue }
                throw fail(
                    "creating \(noun) \(vmid): \(e); it does not exist, the next apply retries with the same VMID",
                    transient: true
                )
            } catch let e as PVEAPIError where e.message.contains("already exists") {
                // Our own earlier attempt may have landed after all.
                if try await locate(vmid)?.name == guestName(resource), let done = try await awaitUnlocked(vmid) {
                    try await finishCreate(resource, vmid: vmid, listed: done)
                    return
                }
                throw e
            }
            try await context.journal.record("upid", upid)
            do {
                try await api.wait(upid)
            } catch let failure as TaskFailure {
                // A failed create task removes the guest: then it is safe to send the create again.
                if attempt < 2, try await locate(vmid) == nil { continue }
                throw fail("creating \(noun) \(vmid): \(failure)")
            } catch let e as PVEAPIError {
                throw fail("creating \(noun) \(vmid): \(e)", transient: e.isUncertain || e.isLockContention)
            }
            guard let l = try await awaitUnlocked(vmid) else {
                throw fail("\(noun) \(vmid) does not exist after its create task", transient: true)
            }
            try await finishCreate(resource, vmid: vmid, listed: l)
            return
        }
    }

    /// After a create whose answer was lost: the guest once its create lock is gone, or nil when it did not appear
    /// within a short grace period (the request never ran).
    private func appeared(_ vmid: Int) async throws -> GuestObserver.Listed? {
        for _ in 0..<3 {
            if try await locate(vmid) != nil { return try await awaitUnlocked(vmid, timeout: .seconds(120)) }
            try await context.clock.sleep(for: .milliseconds(500))
        }
        return nil
    }

    /// Sends the create (or clone) call; returns the task's UPID.
    private func startCreate(_ resource: Resource, vmid: Int, node: String) async throws -> String {
        let name = resource.id.name
        let pool = resource.spec["pool"]?.stringValue
        if kind == .qemu, let clone = try resource.decodeSpec(VirtualMachineSpec.self).clone {
            guard let template = try await locate(clone.vmid) else {
                throw fail("clone source VMID \(clone.vmid) does not exist")
            }
            var params = [
                "newid": String(vmid), "name": name, "full": PVEValues.flag(clone.full ?? true), "target": node,
            ]
            if let storage = clone.storage, clone.full ?? true { params["storage"] = storage }
            if let pool { params["pool"] = pool }
            return try await api.post("/nodes/\(template.node)/qemu/\(clone.vmid)/clone", params, safety: .once)
                .text ?? ""
        }
        var params = try kind.fields.config(
            resource.spec,
            name: name,
            current: [:],
            secrets: context.secrets,
            forCreate: true
        )
        params["vmid"] = String(vmid)
        if let pool { params["pool"] = pool }
        return try await api.post("/nodes/\(node)/\(kind.rawValue)", params, safety: .once).text ?? ""
    }

    /// After the create: configure what a clone did not set, grow cloned disks, start.
    private func finishCreate(_ resource: Resource, vmid: Int, listed: GuestObserver.Listed) async throws {
        if kind == .qemu, resource.spec["clone"] != nil {
            try await writeConfig(resource, listed: listed, paths: nil)
            var current = try await config(listed).config
            for (slot, disk) in resource.spec["disks"]?.mapValue ?? [:] {
                guard let wanted = disk["size"]?.intValue else { continue }
                if let text = current[slot], let size = PVEValues.dict(text)["size"].flatMap(PVEValues.size),
                    size < wanted
                {
                    try await resize(listed, disk: slot, bytes: wanted)
                    current = try await config(listed).config
                }
            }
        }
        let state = resource.spec["state"]?.stringValue ?? "running"
        if state == "running", !listed.running, !(listed.template) {
            try await power(listed, "start")
        }
    }

    // MARK: Update

    /// Writes the config keys behind `paths` (nil: every key the spec sets) with the config's digest; a digest
    /// mismatch re-reads and recomputes, lock contention waits and retries.
    func writeConfig(_ resource: Resource, listed: GuestObserver.Listed, paths: [FieldPath]?) async throws {
        for attempt in 1...4 {
            let (current, digest) = try await quoting("GET config of \(noun) \(listed.vmid)") {
                try await config(listed)
            }
            let fields = kind.fields
            let desired = try fields.config(
                resource.spec,
                name: resource.id.name,
                current: current,
                secrets: context.secrets,
                forCreate: false
            )
            let keys =
                paths.map { $0.flatMap { fields.keys(for: $0, desired: resource.spec, current: current) } }
                ?? Array(desired.keys)
            var params: [String: String] = [:]
            var deletes: [String] = []
            for key in Set(keys) {
                if let value = desired[key] {
                    if current[key] != value { params[key] = value }
                } else if current[key] != nil, !fields.writeOnlyKeys.contains(key) {
                    deletes.append(key)
                }
            }
            if params.isEmpty && deletes.isEmpty { return }
            if !deletes.isEmpty {
                params["delete"] = deletes.sorted().joined(separator: ",")
                if kind == .qemu, deletes.contains(where: VMDisks.isDiskKey) {
                    params["force"] = "1"
                }
            }
            if let digest { params["digest"] = digest }
            do {
                _ = try await api.put(
                    "/nodes/\(listed.node)/\(kind.rawValue)/\(listed.vmid)/config",
                    params,
                    safety: .retryable
                )
                return
            } catch let e as PVEAPIError where (e.isDigestMismatch || e.isLockContention) && attempt < 4 {
                try await context.clock.sleep(for: .milliseconds(200 * attempt))
                continue
            } catch let e as PVEAPIError {
                throw fail("updating \(noun) \(listed.vmid): \(e)", transient: e.isUncertain || e.isLockContention)
            }
        }
    }

    func update(_ action: Action, resource: Resource, vmid: Int) async throws {
        guard var l = try await locate(vmid) else { throw fail("\(noun) \(vmid) does not exist", transient: true) }
        let paths = action.changes.map(\.path)
        let top = Set(paths.compactMap { p -> String? in if case .key(let k)? = p.components.first { k } else { nil } })
        let configPaths = paths.filter { p in
            if case .key(let k)? = p.components.first { return kind.fields.isConfigField(k) }
            return false
        }
        if !configPaths.isEmpty { try await writeConfig(resource, listed: l, paths: configPaths) }
        if top.contains("pool") {
            try await quoting("changing the pool of \(noun) \(vmid)") {
                if let pool = resource.spec["pool"]?.stringValue {
                    _ = try await api.put(
                        "/pools",
                        ["poolid": pool, "vms": String(vmid), "allow-move": "1"],
                        safety: .retryable
                    )
                } else if let old = l.pool {
                    _ = try await api.put(
                        "/pools",
                        ["poolid": old, "vms": String(vmid), "delete": "1"],
                        safety: .retryable
                    )
                }
            }
        }
        if top.contains("state") {
            l = try await locate(vmid) ?? l
            let wanted = resource.spec["state"]?.stringValue ?? "running"
            if wanted == "running", !l.running { try await power(l, "start") }
            if wanted == "stopped", l.running { try await power(l, "shutdown") }
        }
    }

    /// Starts, shuts down, stops or reboots; a repeat that finds the work done (already running, not running) is
    /// success, and a failed task is tried once more.
    func power(_ l: GuestObserver.Listed, _ what: String) async throws {
        let params = what == "shutdown" ? ["forceStop": "1", "timeout": "120"] : [:]
        try await quoting("\(what) of \(noun) \(l.vmid)") {
            for attempt in 1...2 {
                do {
                    let upid =
                        try await api.post(
                            "/nodes/\(l.node)/\(l.kind.rawValue)/\(l.vmid)/status/\(what)",
                            params,
                            safety: .retryable
                        ).text ?? ""
                    try await context.journal.record("upid", upid)
                    try await api.wait(upid)
                    return
                } catch let e as PVEAPIError
                    where what == "start" && e.message.contains("already running")
                    || (what == "shutdown" || what == "stop") && e.message.contains("not running")
                {
                    return
                } catch is TaskFailure where attempt < 2 {
                    continue
                }
            }
        }
    }

    // MARK: Typed operations

    func resize(_ l: GuestObserver.Listed, disk: String, bytes: Int64) async throws {
        let current = try await config(l).config
        if let size = current[disk].flatMap({ PVEValues.dict($0)["size"] }).flatMap(PVEValues.size), size >= bytes {
            return  // already that size (a repeated action)
        }
        try await quoting("resizing \(disk) of \(noun) \(l.vmid)") {
            let upid = try await api.put(
                "/nodes/\(l.node)/\(l.kind.rawValue)/\(l.vmid)/resize",
                ["disk": disk, "size": PVEValues.sizeText(bytes)],
                safety: .retryable
            ).text
            if let upid, upid.hasPrefix("UPID:") { try await api.wait(upid) }
        }
    }

    func resize(_ action: Action, resource: Resource, vmid: Int) async throws {
        guard let l = try await locate(vmid) else { throw fail("\(noun) \(vmid) does not exist", transient: true) }
        for change in action.changes {
            let keys = change.path.keyNames
            guard case .int(let bytes)? = change.after else { continue }
            let disk = keys.first == "rootfs" ? "rootfs" : keys.count >= 2 ? keys[1] : ""
            try await resize(l, disk: disk, bytes: bytes)
        }
    }

    func migrate(_ resource: Resource, vmid: Int) async throws {
        guard let target = resource.spec["node"]?.stringValue else { return }
        guard let l = try await locate(vmid) else { throw fail("\(noun) \(vmid) does not exist", transient: true) }
        if l.node == target { return }
        var params = ["target": target]
        if l.running {
            if kind == .qemu {
                params["online"] = "1"
                let check = try await api.get("/nodes/\(l.node)/qemu/\(vmid)/migrate", ["target": target])
                if !(check["local_disks"]?.array.isEmpty ?? true) { params["with-local-disks"] = "1" }
            } else {
                params["restart"] = "1"
            }
        }
        try await quoting("migrating \(noun) \(vmid) from \(l.node) to \(target)") {
            let upid =
                try await api.post("/nodes/\(l.node)/\(kind.rawValue)/\(vmid)/migrate", params, safety: .once).text
                ?? ""
            try await context.journal.record("upid", upid)
            try await api.wait(upid)
        }
    }

    func restart(vmid: Int) async throws {
        guard let l = try await locate(vmid) else { throw fail("\(noun) \(vmid) does not exist", transient: true) }
        if l.running { try await power(l, "reboot") }
    }

    func delete(vmid: Int) async throws {
        guard let l = try await locate(vmid) else { return }
        if l.running {
            try await quoting("stopping \(noun) \(vmid)") {
                let upid =
                    try await api.post("/nodes/\(l.node)/\(kind.rawValue)/\(vmid)/status/stop", [:], safety: .retryable)
                    .text ?? ""
                try await api.wait(upid)
            }
        }
        try await quoting("destroying \(noun) \(vmid)") {
            let params = kind == .qemu ? ["purge": "1", "destroy-unreferenced-disks": "1"] : ["purge": "1"]
            let upid =
                try await api.delete("/nodes/\(l.node)/\(kind.rawValue)/\(vmid)", params, safety: .retryable).text ?? ""
            try await api.wait(upid)
        }
    }

    // MARK: Placement

    /// The pinned node, the journaled choice, or the allowed node with the most free memory.
    func chooseNode(_ resource: Resource) async throws -> String {
        if let node = resource.spec["node"]?.stringValue { return node }
        if let journaled = try await context.journal.entries()["node"] { return journaled }
        let allowed = Set((resource.spec["placement"]?["nodes"]?.listValue ?? []).compactMap(\.stringValue))
        let nodes = try await quoting("GET /nodes") { try await api.get("/nodes").array }
        let candidates = nodes.filter { n in
            n["status"]?.text == "online" && (allowed.isEmpty || allowed.contains(n["node"]?.text ?? ""))
        }
        let best: PVEJSON?
        if resource.spec["placement"]?["strategy"]?.stringValue == "spread" {
            // Fewest guests first, then most free memory.
            let listed = try await GuestObserver(api: api, concurrency: 1).list().values
            let counts = Dictionary(grouping: listed, by: \.node).mapValues(\.count)
            best = candidates.min { a, b in
                let ca = counts[a["node"]?.text ?? ""] ?? 0
                let cb = counts[b["node"]?.text ?? ""] ?? 0
                if ca != cb { return ca < cb }
                return (a["maxmem"]?.int ?? 0) - (a["mem"]?.int ?? 0) > (b["maxmem"]?.int ?? 0) - (b["mem"]?.int ?? 0)
            }
        } else {
            best = candidates.max { a, b in
                let fa = (a["maxmem"]?.int ?? 0) - (a["mem"]?.int ?? 0)
                let fb = (b["maxmem"]?.int ?? 0) - (b["mem"]?.int ?? 0)
                return fa != fb ? fa < fb : (a["node"]?.text ?? "") > (b["node"]?.text ?? "")
            }
        }
        guard let node = best?["node"]?.text else {
            throw fail(
                "no online node to place \(resource.id) on"
                    + (allowed.isEmpty ? "" : " among \(allowed.sorted().joined(separator: ", "))")
            )
        }
        return node
    }
}
