import Foundation

extension PVESimulator {
    /// Forks a "worker": returns its UPID; `effect` is applied when it ends (or rolled back when it fails).
    func startTask(
        node: String,
        type: String,
        id: String,
        caller: Auth.Caller,
        effect: TaskEffect,
        log: [String] = [],
        seconds: Double? = nil,
        failure: String? = nil,
        errorAfterEffect: String? = nil
    ) -> String {
        state.nextPID += Int.random(in: 1...97, using: &rng)
        let start = now
        let pstart = 0x1000_0000 + Int(start.truncatingRemainder(dividingBy: 0x0FFF_FFFF))
        let upid = SimTask.makeUPID(
            node: node,
            pid: state.nextPID,
            pstart: pstart,
            starttime: Int(start),
            type: type,
            id: id,
            user: caller.id
        )
        var fails = failure
        if fails == nil, !(effect.isConfig), rng.chance(options.taskFailureRate) {
            fails = effect.simulatedFailure
        }
        let task = SimTask(
            upid: upid,
            node: node,
            pid: state.nextPID,
            pstart: pstart,
            starttime: Int(start),
            type: type,
            id: id,
            user: caller.id,
            endsAt: start + (seconds ?? options.taskSeconds),
            failure: fails,
            log: log,
            effect: effect,
            errorAfterEffect: errorAfterEffect
        )
        state.tasks.append(task)
        if state.tasks.count > 2000 { state.tasks.removeFirst(state.tasks.count - 2000) }
        return upid
    }

    /// Finishes every task whose time is up, in the order they end. A lifecycle task with a guest hook first runs the
    /// hook and ends when it has (``GuestHook``).
    func settleTasks() {
        let t = now
        let due = state.tasks.indices.filter {
            state.tasks[$0].isRunning && state.tasks[$0].endsAt <= t && state.tasks[$0].hook != "running"
        }
        .sorted { state.tasks[$0].endsAt < state.tasks[$1].endsAt }
        guard !due.isEmpty else { return }
        for i in due {
            if let hook = options.guestHook, state.tasks[i].hook == nil, state.tasks[i].failure == nil,
                let event = GuestHook.event(of: state.tasks[i]),
                let document = hookDocument(state.tasks[i], event: event)
            {
                state.tasks[i].hook = "running"
                state.tasks[i].log.append("guest hook: \(event)")
                let upid = state.tasks[i].upid
                Task { [weak self] in
                    let failure = await hook.run(event: event, document: document)
                    await self?.hookFinished(upid, failure: failure)
                }
                continue
            }
            finish(i)
        }
        persist()
    }

    /// The hook of a task ended: the task ends now, failed when the hook failed.
    func hookFinished(_ upid: String, failure: String?) {
        guard let i = state.tasks.firstIndex(where: { $0.upid == upid }), state.tasks[i].isRunning else { return }
        state.tasks[i].hook = "done"
        state.tasks[i].hookFailure = failure
        state.tasks[i].endsAt = min(state.tasks[i].endsAt, now)
        finish(i)
        persist()
    }

    /// What the hook reads on stdin: the event, the guest (config with pending values applied) and its template.
    func hookDocument(_ task: SimTask, event: String) -> Data? {
        let vmid: Int
        switch task.effect {
        case .create(let v, _), .start(let v), .stop(let v), .reboot(let v), .destroy(let v): vmid = v
        case .migrate(let v, _, _): vmid = v
        default: return nil
        }
        guard let g = state.guests[vmid] else { return nil }
        var target: String?
        if case .migrate(_, let to, _) = task.effect { target = to }
        let object: [String: Any] = [
            "event": event, "vmid": vmid, "type": g.type.rawValue, "node": g.node, "name": g.name,
            "config": g.merged, "target": target as Any? ?? NSNull(),
            "clonedFrom": g.clonedFrom.map { ["vmid": $0.vmid, "name": $0.name] as [String: Any] } as Any? ?? NSNull(),
        ]
        return try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }

    private func finish(_ i: Int) {
        var task = state.tasks[i]
        var failure = task.failure ?? task.hookFailure
        var effectDone = false
        if failure == nil {
            do {
                try complete(task.effect, task: task)
                effectDone = true
            } catch let e as PVEError { failure = e.message } catch { failure = "\(error)" }
        }
        if effectDone, let partial = task.errorAfterEffect { failure = partial }
        if task.type == "vzdump" {
            task.log.append(
                failure == nil ? "INFO: Backup job finished successfully" : "INFO: Backup job finished with errors"
            )
        }
        if let failure {
            if !effectDone { rollBack(task.effect) }
            let text = failure.trimmingCharacters(in: .newlines)
            task.log.append("TASK ERROR: \(text)")
            task.exitstatus = text
        } else {
            task.log.append("TASK OK")
            task.exitstatus = "OK"
        }
        task.endtime = Int(max(task.endsAt, Double(task.starttime)))
        state.tasks[i] = task
    }

    private func complete(_ effect: TaskEffect, task: SimTask) throws {
        switch effect {
        case .create(let vmid, let start):
            state.guests[vmid]?.config["lock"] = nil
            countCreated(vmid)
            if start, var g = state.guests[vmid] {
                startGuest(&g)
                state.guests[vmid] = g
            }
        case .clone(let source, let vmid):
            state.guests[vmid]?.config["lock"] = nil
            state.guests[source]?.flockTask = nil
            countCreated(vmid)
        case .start(let vmid):
            guard var g = state.guests[vmid] else { return }
            let needed = Int64(ConfigValues.memoryMiB(g)) << 20
            let free = (state.node(g.node)?.maxmem ?? 0) - state.usedMemory(node: g.node)
            if needed > free {
                throw PVEError(
                    "start failed: QEMU exited with code 1\nkvm: cannot set up guest memory 'pc.ram': Cannot allocate memory"
                )
            }
            startGuest(&g)
            state.guests[vmid] = g
        case .stop(let vmid):
            guard var g = state.guests[vmid] else { return }
            g.running = false
            g.startedAt = nil
            applyAllPending(&g)
            state.guests[vmid] = g
        case .reboot(let vmid):
            guard var g = state.guests[vmid] else { return }
            applyAllPending(&g)
            startGuest(&g)
            state.guests[vmid] = g
        case .migrate(let vmid, let target, let restart):
            guard var g = state.guests[vmid] else { return }
            let from = g.node
            g.node = target
            g.config["lock"] = nil
            for (key, v) in state.volumes
            where v.vmid == vmid && v.node == from && state.storage(v.storage)?.shared != true {
                state.volumes[key] = nil
                var moved = v
                moved.node = target
                state.volumes[state.volumeKey(storage: v.storage, name: v.name, node: target)] = moved
            }
            if restart { startGuest(&g) }
            state.guests[vmid] = g
        case .resize(let vmid, let disk, let bytes):
            guard var g = state.guests[vmid] else { return }
            resizeDisk(&g, key: disk, bytes: bytes)
            state.guests[vmid] = g
        case .destroy(let vmid):
            guard let g = state.guests[vmid] else { return }
            state.guests[vmid] = nil
            for (key, v) in state.volumes where v.vmid == vmid && v.content != "backup" { state.volumes[key] = nil }
            for id in state.pools.keys { state.pools[id]?.vmids.remove(vmid) }
            _ = g
        case .vzdump(let vmids, let storage):
            for vmid in vmids {
                guard let g = state.guests[vmid] else { continue }
                state.guests[vmid]?.config["lock"] = nil
                let stamp = Self.backupStamp(task.starttime)
                let name = "dump/vzdump-\(g.type.rawValue)-\(vmid)-\(stamp).\(g.type == .qemu ? "vma" : "tar").zst"
                let size = Int64(
                    Double(
                        state.volumes.values.filter { $0.vmid == vmid && $0.content != "backup" }.reduce(0) {
                            $0 + $1.size
                        }
                    ) * 0.1
                )
                let volume = Volume(
                    storage: storage,
                    name: name,
                    node: g.node,
                    size: size,
                    vmid: vmid,
                    content: "backup",
                    ctime: task.starttime
                )
                state.volumes[state.volumeKey(storage: storage, name: name, node: g.node)] = volume
            }
        case .config:
            break
        }
    }

    private func rollBack(_ effect: TaskEffect) {
        switch effect {
        case .create(let vmid, _):
            // A failed create removes the config and its volumes, as PVE's error path does.
            state.guests[vmid] = nil
            for (key, v) in state.volumes where v.vmid == vmid { state.volumes[key] = nil }
            for id in state.pools.keys { state.pools[id]?.vmids.remove(vmid) }
        case .clone(let source, let vmid):
            state.guests[source]?.flockTask = nil
            state.guests[vmid] = nil
            for (key, v) in state.volumes where v.vmid == vmid { state.volumes[key] = nil }
            for id in state.pools.keys { state.pools[id]?.vmids.remove(vmid) }
        case .migrate(let vmid, _, _):
            state.guests[vmid]?.config["lock"] = nil
        case .destroy(let vmid):
            state.guests[vmid]?.config["lock"] = nil
        case .vzdump(let vmids, _):
            for vmid in vmids { state.guests[vmid]?.config["lock"] = nil }
        case .start, .stop, .reboot, .resize, .config:
            break
        }
    }

    /// A guest came into being (its create or clone task succeeded).
    private func countCreated(_ vmid: Int) {
        guard let g = state.guests[vmid] else { return }
        state.createdVMIDs[vmid, default: 0] += 1
        state.createdNames[g.name, default: 0] += 1
    }

    func startGuest(_ g: inout Guest) {
        applyAllPending(&g)
        g.running = true
        g.startedAt = now
        g.startedHotplug = QemuHotplug.features(g.config["hotplug"])
        g.startedNUMA = g.config["numa"] == "1"
    }

    static func backupStamp(_ t: Int) -> String { utcTime(t, format: "yyyy_MM_dd-HH_mm_ss") }

    /// A time as pve-sim's nodes (in UTC) print it.
    static func utcTime(_ t: Int, format: String) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = format
        return f.string(from: Date(timeIntervalSince1970: Double(t)))
    }

    func task(upid: String) throws -> Int {
        guard let i = state.tasks.firstIndex(where: { $0.upid == upid }) else {
            throw PVEError("no such task")
        }
        return i
    }

    func tasksStatus(_ params: [String: String]) throws -> JSONValue {
        state.tasks[try task(upid: params["upid"]!)].statusJSON
    }

    func taskLog(_ params: [String: String]) throws -> JSONValue {
        let t = state.tasks[try task(upid: params["upid"]!)]
        let start = Int(params["start"] ?? "0") ?? 0
        let limit = Int(params["limit"] ?? "50") ?? 50
        let lines = t.log.isEmpty && t.isRunning ? [] : t.log
        let slice = lines.enumerated().dropFirst(start).prefix(limit)
        return .array(slice.map { .object(["n": .int($0.offset + 1), "t": .string($0.element)]) })
    }

    func stopTask(_ params: [String: String]) throws -> JSONValue {
        let i = try task(upid: params["upid"]!)
        if state.tasks[i].isRunning {
            state.tasks[i].failure = "received interrupt"
            state.tasks[i].endsAt = now
            settleTasks()
        }
        return .null
    }

    func taskList(node: String?, params: [String: String]) -> JSONValue {
        let limit = Int(params["limit"] ?? "50") ?? 50
        var tasks = state.tasks.filter { node == nil || $0.node == node }
        if let vmid = params["vmid"] { tasks = tasks.filter { $0.id == vmid } }
        if params["source"] != "active" && params["source"] != "all" { tasks = tasks.filter { !$0.isRunning } }
        if params["source"] == "active" { tasks = tasks.filter(\.isRunning) }
        if params["errors"] == "1" { tasks = tasks.filter { $0.exitstatus != "OK" } }
        if let type = params["typefilter"] { tasks = tasks.filter { $0.type == type } }
        return .array(tasks.reversed().prefix(limit).map(\.listJSON))
    }
}

extension TaskEffect {
    var isConfig: Bool { if case .config = self { return true } else { return false } }

    /// What a failed task of this kind says (seeded `--task-failure-rate`).
    var simulatedFailure: String {
        switch self {
        case .create(let vmid, _):
            return "unable to create VM \(vmid) - lvcreate 'pve/vm-\(vmid)-disk-0' error: Failed to activate thin pool"
        case .clone(_, let vmid):
            return "clone failed: copy failed: command '/usr/bin/qemu-img convert' failed: exit code 1 (vm \(vmid))"
        case .start: return "start failed: QEMU exited with code 1"
        case .stop, .reboot: return "VM quit/powerdown failed - got timeout"
        case .migrate: return "migration problems"
        case .resize: return "error during block_resize: got timeout"
        case .destroy: return "lvremove failed: Logical volume in use"
        case .vzdump: return "job errors"
        case .config: return "got timeout"
        }
    }
}
