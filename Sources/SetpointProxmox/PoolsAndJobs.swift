import SetpointCore

/// `ResourcePool` and `GuestBackupJob`: one list call each per cluster, config writes that may be repeated.
enum PoolsAndJobs {
    // MARK: ResourcePool

    static func observePools(_ resources: [ResolvedResource], api: ProxmoxAPI) async throws -> [ResourceID: Observation]
    {
        let pools = try await api.get("/pools").array
        var byID: [String: PVEJSON] = [:]
        for p in pools { if let id = p["poolid"]?.text { byID[id] = p } }
        var result: [ResourceID: Observation] = [:]
        for r in resources {
            let id = r.providerID ?? r.id.name
            guard let p = byID[id] else {
                result[r.id] = .absent
                continue
            }
            var spec: [String: Value] = [:]
            if let cluster = r.resource.spec["cluster"] { spec["cluster"] = cluster }
            if let comment = p["comment"]?.text, !comment.isEmpty { spec["comment"] = .string(comment) }
            result[r.id] = .present(ObservedResource(spec: .map(spec), providerID: id))
        }
        return result
    }

    static func applyPool(_ action: Action, resource: Resource?, api: ProxmoxAPI) async throws -> String {
        let id = action.providerID ?? action.resource.name
        let comment = resource?.spec["comment"]?.stringValue
        func quote(_ e: PVEAPIError) -> SetpointError {
            SetpointError(
                .applyFailed,
                "\(e)",
                resource: action.resource,
                isTransient: e.isUncertain || e.isLockContention,
                isTerminal: e.isTerminal
            )
        }
        do {
            switch action.verb {
            case .create:
                do {
                    _ = try await api.post(
                        "/pools",
                        ["poolid": id].merging(comment.map { ["comment": $0] } ?? [:]) { a, _ in a },
                        safety: .once
                    )
                } catch let e as PVEAPIError where e.isUncertain {
                    // Did it happen? A pool is known by its name.
                    let exists = try await api.get("/pools").array.contains { $0["poolid"]?.text == id }
                    if !exists { throw quote(e) }
                }
            case .update:
                _ = try await api.put("/pools", ["poolid": id, "comment": comment ?? ""], safety: .retryable)
            case .delete:
                do { _ = try await api.delete("/pools", ["poolid": id], safety: .retryable) } catch let e as PVEAPIError
                    where e.message.contains("does not exist")
                {}
            case .replace:
                _ = try? await api.delete("/pools", ["poolid": id], safety: .retryable)
                _ = try await api.post(
                    "/pools",
                    ["poolid": id].merging(comment.map { ["comment": $0] } ?? [:]) { a, _ in a },
                    safety: .once
                )
            default:
                break
            }
        } catch let e as PVEAPIError {
            throw quote(e)
        }
        return id
    }

    // MARK: GuestBackupJob

    /// The job id Setpoint gives a GuestBackupJob (PVE's `pve-configid`: lower case, digits, `-`, `_`).
    static func jobID(_ name: String) -> String {
        "setpoint-" + String(name.lowercased().map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "-" })
    }

    static let retentionKeys = [
        ("keepLast", "keep-last"), ("keepHourly", "keep-hourly"), ("keepDaily", "keep-daily"),
        ("keepWeekly", "keep-weekly"), ("keepMonthly", "keep-monthly"), ("keepYearly", "keep-yearly"),
    ]

    static func jobSpec(_ job: PVEJSON, desired: Value) -> Value {
        var s: [String: Value] = [:]
        if let cluster = desired["cluster"] { s["cluster"] = cluster }
        if let v = job["schedule"]?.text { s["schedule"] = .string(v) }
        if let v = job["storage"]?.text { s["storage"] = .string(v) }
        if let v = job["pool"]?.text { s["pool"] = .string(v) }
        if let v = job["vmid"]?.text {
            s["vmids"] = .list(v.split(separator: ",").compactMap { Int64($0) }.map(Value.int))
        }
        if job["all"]?.int == 1 { s["all"] = .bool(true) }
        if let v = job["node"]?.text { s["node"] = .string(v) }
        s["mode"] = .string(job["mode"]?.text ?? "snapshot")
        let compress = job["compress"]?.text ?? "0"
        s["compress"] = .string(compress == "0" ? "none" : compress == "1" ? "lzo" : compress)
        if let prune = job["prune-backups"] {
            var retention: [String: Value] = [:]
            let pairs: [String: String] =
                prune.object.isEmpty ? PVEValues.dict(prune.text ?? "") : prune.object.compactMapValues(\.text)
            for (field, key) in retentionKeys {
                if let v = pairs[key].flatMap(Int64.init) { retention[field] = .int(v) }
            }
            if !retention.isEmpty { s["retention"] = .map(retention) }
        }
        s["enabled"] = .bool(job["enabled"]?.int.map { $0 != 0 } ?? true)
        if let v = job["mailto"]?.text { s["mailTo"] = .list(v.split(separator: ",").map { Value.string(String($0)) }) }
        s["mailNotification"] = .string(job["mailnotification"]?.text ?? "always")
        if let v = job["notes-template"]?.text { s["notesTemplate"] = .string(v) }
        if let v = job["comment"]?.text { s["comment"] = .string(v) }
        return .map(s)
    }

    static func jobParams(_ spec: GuestBackupJobSpec) -> [String: String] {
        var p: [String: String] = ["schedule": spec.schedule, "storage": spec.storage]
        if let v = spec.pool { p["pool"] = v }
        if let v = spec.vmids { p["vmid"] = v.map(String.init).joined(separator: ",") }
        if spec.all == true { p["all"] = "1" }
        if let v = spec.node { p["node"] = v }
        if let v = spec.mode { p["mode"] = v }
        if let v = spec.compress { p["compress"] = v == "none" ? "0" : v }
        if let r = spec.retention {
            let values: [(String, Int?)] = [
                ("keep-last", r.keepLast), ("keep-hourly", r.keepHourly), ("keep-daily", r.keepDaily),
                ("keep-weekly", r.keepWeekly), ("keep-monthly", r.keepMonthly), ("keep-yearly", r.keepYearly),
            ]
            let text = values.compactMap { k, v in v.map { "\(k)=\($0)" } }.joined(separator: ",")
            if !text.isEmpty { p["prune-backups"] = text }
        }
        if let v = spec.enabled { p["enabled"] = PVEValues.flag(v) }
        if let v = spec.mailTo { p["mailto"] = v.joined(separator: ",") }
        if let v = spec.mailNotification { p["mailnotification"] = v }
        if let v = spec.notesTemplate { p["notes-template"] = v }
        if let v = spec.comment { p["comment"] = v }
        return p
    }

    static func observeJobs(_ resources: [ResolvedResource], api: ProxmoxAPI) async throws -> [ResourceID: Observation]
    {
        var byID: [String: PVEJSON] = [:]
        for job in try await api.get("/cluster/backup").array { if let id = job["id"]?.text { byID[id] = job } }
        var result: [ResourceID: Observation] = [:]
        for r in resources {
            let id = r.providerID ?? jobID(r.id.name)
            guard let job = byID[id] else {
                result[r.id] = .absent
                continue
            }
            result[r.id] = .present(ObservedResource(spec: jobSpec(job, desired: r.resource.spec), providerID: id))
        }
        return result
    }

    static func applyJob(_ action: Action, resource: Resource?, api: ProxmoxAPI) async throws -> String {
        let id = action.providerID ?? jobID(action.resource.name)
        do {
            switch action.verb {
            case .delete:
                do { _ = try await api.delete("/cluster/backup/\(id)", [:], safety: .retryable) } catch let e
                    as PVEAPIError where e.message.contains("does not exist")
                {}
            case .create, .update, .replace:
                guard let resource else { return id }
                let spec = try resource.decodeSpec(GuestBackupJobSpec.self)
                var params = jobParams(spec)
                let existing = try await api.get("/cluster/backup").array.first { $0["id"]?.text == id }
                if let existing {
                    // A create whose answer was lost, or an update: PUT is idempotent; clear what the spec no longer sets.
                    let managed = [
                        "pool", "vmid", "all", "node", "prune-backups", "mailto", "notes-template", "comment",
                    ]
                    let removed = managed.filter { existing[$0] != nil && params[$0] == nil }
                    if !removed.isEmpty { params["delete"] = removed.joined(separator: ",") }
                    _ = try await api.put("/cluster/backup/\(id)", params, safety: .retryable)
                } else {
                    params["id"] = id
                    // An explicit id: a repeat fails, never duplicates.
                    _ = try await api.post("/cluster/backup", params, safety: .retryable)
                }
            default:
                break
            }
        } catch let e as PVEAPIError {
            throw SetpointError(
                .applyFailed,
                "\(e)",
                resource: action.resource,
                isTransient: e.isUncertain || e.isLockContention,
                isTerminal: e.isTerminal
            )
        }
        return id
    }
}
