import SetpointCore

/// Bulk observation: one `GET /cluster/resources` per cluster, one `GET …/pending` per guest (live and pending value
/// of every key) at bounded concurrency, `GET /pools` and `GET /cluster/backup` only when pools or jobs are asked:
/// N guests cost at most N+3 requests.
struct GuestObserver {
    let api: ProxmoxAPI
    let concurrency: Int

    /// A guest listed by `/cluster/resources`.
    struct Listed: Sendable {
        var vmid: Int
        var kind: GuestState.Kind
        var node: String
        var name: String
        var running: Bool
        var template: Bool
        var pool: String?
    }

    func list() async throws -> [Int: Listed] {
        var result: [Int: Listed] = [:]
        for item in try await api.get("/cluster/resources", ["type": "vm"]).array {
            guard let vmid = item["vmid"]?.int, let type = item["type"]?.text,
                let kind = GuestState.Kind(rawValue: type),
                let node = item["node"]?.text
            else { continue }
            result[vmid] = Listed(
                vmid: vmid,
                kind: kind,
                node: node,
                name: item["name"]?.text ?? "",
                running: item["status"]?.text == "running",
                template: item["template"]?.int == 1,
                pool: item["pool"]?.text
            )
        }
        return result
    }

    /// Live and pending config of these guests, at most `concurrency` requests in flight.
    func states(_ listed: [Listed]) async throws -> [Int: GuestState] {
        try await withThrowingTaskGroup(of: GuestState?.self) { group in
            var result: [Int: GuestState] = [:]
            var iterator = listed.makeIterator()
            func addNext() -> Bool {
                guard let l = iterator.next() else { return false }
                group.addTask {
                    do {
                        let items = try await api.get("/nodes/\(l.node)/\(l.kind.rawValue)/\(l.vmid)/pending").array
                        return GuestState(
                            vmid: l.vmid,
                            kind: l.kind,
                            node: l.node,
                            running: l.running,
                            template: l.template,
                            pool: l.pool,
                            pendingItems: items
                        )
                    } catch let error as PVEAPIError
                        where error.status == 500 && error.message.contains("does not exist")
                    {
                        return nil  // deleted (or migrated) between the list and this call
                    }
                }
                return true
            }
            for _ in 0..<max(1, concurrency) where addNext() {}
            while let state = try await group.next() {
                if let state { result[state.vmid] = state }
                _ = addNext()
            }
            return result
        }
    }

    /// The observation of one guest resource, given what the cluster lists.
    static func observation(
        for r: ResolvedResource,
        kind: GuestState.Kind,
        listed: [Int: Listed],
        states: [Int: GuestState]
    ) -> Observation {
        guard let vmid = vmid(of: r), let l = listed[vmid] else { return .absent }
        guard l.kind == kind else {
            return .failed(
                "VMID \(vmid) is a \(l.kind == .qemu ? "VM" : "container") ('\(l.name)' on \(l.node)), not a \(kind == .qemu ? "VM" : "container")"
            )
        }
        guard let state = states[vmid] else { return .absent }
        if r.providerID == nil, !state.isTagged {
            return .failed(
                "VMID \(vmid) is taken by '\(l.name)' on \(l.node), which Setpoint does not own (no 'setpoint' tag, not in state): "
                    + "adopt it with `setpoint import \(r.id) PATH… --id \(vmid)` or choose another vmid"
            )
        }
        let desired = r.resource.spec
        var live = kind.fields.observe(state.live, guest: state, desired: desired)
        var pending: Value?
        if !state.pending.isEmpty || !state.pendingDelete.isEmpty {
            let merged = kind.fields.observe(state.merged, guest: state, desired: desired)
            var staged = difference(live, merged).mapValue
            var observed = live.mapValue
            // A pending value the manifest does not want (someone staged it behind Setpoint's back) is what the guest
            // will become at its next restart: report it as the value, so the plan corrects it instead of restarting
            // into it. Only pending values the manifest wants wait for a restart.
            var liveBefore: [String: Value] = [:]
            for (key, value) in staged where !agrees(desired[key], merged[key]) {
                liveBefore[key] = observed[key] ?? .null
                observed[key] = value == .null ? nil : merged[key]
                staged[key] = nil
            }
            if !liveBefore.isEmpty { observed[GuestPolicies.stagedLiveKey] = .map(liveBefore) }
            live = .map(observed)
            if !staged.isEmpty {
                pending = .map(staged)
            } else if difference(live, merged).mapValue.isEmpty {
                // Pending keys that map to no spec field (e.g. a pending `vmgenid`) still wait for a restart.
                pending = .map([
                    "(pending)": .list(
                        (Array(state.pending.keys) + Array(state.pendingDelete)).sorted().map(Value.string)
                    )
                ])
            }
        }
        return .present(ObservedResource(spec: live, providerID: String(vmid), pending: pending))
    }

    /// Whether `value` holds what `desired` asks for (maps: the keys the manifest sets; absent: anything).
    static func agrees(_ desired: Value?, _ value: Value?) -> Bool {
        guard let desired else { return true }
        if case .map(let d) = desired, case .map(let v)? = value {
            return d.allSatisfy { agrees($0.value, v[$0.key]) }
        }
        return desired == value
    }

    static func vmid(of r: ResolvedResource) -> Int? {
        if let id = r.providerID, let vmid = Int(id) { return vmid }
        if case .int(let v)? = r.resource.spec["vmid"] { return Int(v) }
        return nil
    }

    /// The parts of `after` that differ from `before` (maps key by key), in the spec's shape.
    static func difference(_ before: Value, _ after: Value) -> Value {
        guard case .map(let a) = before, case .map(let b) = after else { return after }
        var out: [String: Value] = [:]
        for key in Set(a.keys).union(b.keys) {
            switch (a[key], b[key]) {
            case (let x?, let y?) where x == y: continue
            case (.map?, .map?): out[key] = difference(a[key]!, b[key]!)
            case (_, let y?): out[key] = y
            case (_, nil): out[key] = .null
            }
        }
        return .map(out)
    }
}
