import Foundation
import SetpointCore

/// Turns a `ClusterView` into what the planner compares: the spec in the manifest's shape, values staged for a
/// restart, warnings — or why the cluster cannot be planned (an unreachable member, a role the manifest disagrees with).
///
/// Besides the manifest's keys the observed spec carries two keys the manifest never has, which the field policy
/// reads to explain a change: `(members)` (each member's state) and `(contexts)` (each parameter's `pg_settings`
/// context). Only steady facts go there, never lags or LSNs, so a saved plan is not stale for a byte of WAL.
enum ClusterObservation {
    static func observe(
        _ view: ClusterView,
        desired: Value,
        lastApplied: Value?,
        providerID: String?,
        adopting: Bool
    ) -> Observation {
        let s = view.settings
        let cluster = "PostgresCluster/\(s.name)"
        // A member that refuses Setpoint, or cannot be reached while it should run, stops the plan for this cluster.
        for member in s.members {
            switch view.status[member.name] {
            case .unreachable(let why)?:
                return .failed("member \(member.name) (\(member.endpoint)) cannot be observed: \(why)")
            case .notEmpty(let directory, let entries)?:
                return .failed(
                    "member \(member.name): nothing answers on \(member.endpoint) and its data directory \(directory) is not empty "
                        + "(\(entries.prefix(3).joined(separator: ", "))…) but holds no cluster; a replica is only made in an empty directory: "
                        + "empty it or point dataDirectory elsewhere"
                )
            default: break
            }
        }
        let writers = view.writers
        guard let actual = view.actualPrimary, let primaryFacts = view.facts(actual) else {
            if writers.count > 1 {
                let timelines = writers.map { "\($0) on timeline \(view.facts($0)?.timeline ?? 0)" }.joined(
                    separator: ", "
                )
                return .failed(
                    "\(writers.count) members accept writes (\(timelines)): a split brain that Setpoint will not resolve by itself; "
                        + "stop the member that must not be primary, then plan again"
                )
            }
            let named = s.primary
            return .failed(
                "no member accepts writes (the manifest names \(named), which is \(describe(view.status[named]))); "
                    + "if it is gone for good, promote a replica with `setpoint postgres failover \(s.name) --to MEMBER MANIFESTS…`"
            )
        }
        let sysid = primaryFacts.systemIdentifier
        if let providerID, providerID != sysid {
            return .failed(
                "its primary \(actual) has system identifier \(sysid), but Setpoint manages the cluster \(providerID): "
                    + "this is another cluster; check the members' hosts and ports"
            )
        }
        if providerID == nil && !adopting {
            return .failed(
                "the primary \(actual) (\(s.member(actual)?.endpoint ?? "?")) exists but Setpoint does not manage this cluster yet: "
                    + "adopt it with `setpoint import \(cluster)`"
            )
        }
        for member in s.members + view.removed {
            guard let f = view.facts(member.name) else { continue }
            if f.systemIdentifier != sysid {
                return .failed(
                    "member \(member.name) (\(member.endpoint)) belongs to another cluster (system identifier \(f.systemIdentifier), "
                        + "the primary's is \(sysid)): point it at the right server"
                )
            }
            if let declared = member.dataDirectory, let running = f.dataDirectory, declared != running {
                return .failed(
                    "member \(member.name) runs from \(running) but the manifest says dataDirectory \(declared): "
                        + "correct the manifest (Setpoint does not move data directories)"
                )
            }
        }
        // A member whose declared directory is where another member runs would overwrite it.
        for member in s.members where view.facts(member.name) == nil {
            if let directory = member.dataDirectory,
                let owner = (s.members + view.removed).first(where: {
                    $0.name != member.name && $0.host == member.host && view.facts($0.name)?.dataDirectory == directory
                })
            {
                return .failed(
                    "member \(member.name)'s data directory \(directory) is where \(owner.name) runs: each member needs its own directory"
                )
            }
        }
        // The manifest may move the primary (a switchover) only from the one it last applied; any other disagreement is
        // someone else's doing (a promotion by hand, a failover) and is reported, never "corrected".
        let lastPrimary = lastApplied?["primary"]?.stringValue
        if actual != s.primary && lastPrimary != actual {
            return .failed(
                "member \(actual) is the primary (timeline \(primaryFacts.timeline)) but the manifest names \(s.primary): "
                    + "Setpoint never demotes a primary by itself; if \(actual) was promoted on purpose (a failover), set primary: \(actual) "
                    + "in the manifest; to move the primary back, set primary: \(actual) first and then plan the switchover"
            )
        }
        if let v = s.version, v != primaryFacts.majorVersion, adopting {
            return .failed("the manifest says version \(v) but \(actual) runs PostgreSQL \(primaryFacts.majorVersion)")
        }
        return .present(
            ObservedResource(
                spec: spec(view, desired: desired, lastApplied: lastApplied, primary: actual),
                providerID: sysid,
                pending: pending(view, desired: desired),
                warnings: warnings(view, primary: actual)
            )
        )
    }

    static func describe(_ status: MemberStatus?) -> String {
        switch status {
        case .running(let f)?: f.inRecovery ? "a standby" : "primary"
        case .stopped(let d, _)?: "stopped (data in \(d))"
        case .fenced(let d, let why)?: "fenced (data in \(d)): \(why)"
        case .building(let d, let job)?: "being copied into \(d) (job \(job))"
        case .absent?: "not created"
        case .notEmpty(let d, _)?: "absent (\(d) not empty)"
        case .unreachable(let why)?: "unreachable: \(why)"
        case nil: "unknown"
        }
    }

    /// What a member is, for the plan's reasons: `primary`, `streaming`, `standby-elsewhere`, `stopped`, `stopped-primary`,
    /// `absent`.
    static func state(_ view: ClusterView, _ name: String, primary: String) -> String {
        switch view.status[name] {
        case .running(let f)?:
            if name == primary { return "primary" }
            if view.stalePrimaries.contains(name) { return "stale-primary" }
            return view.isStreaming(name, from: primary)
                ? "streaming" : (f.inRecovery ? "standby-elsewhere" : "primary")
        case .fenced?:
            return "fenced"
        case .building?:
            return "building"
        case .stopped(_, let standby)?:
            return standby ? "stopped" : "stopped-primary"
        case .absent?: return "absent"
        default: return "unknown"
        }
    }

    /// The names in `synchronous_standby_names` and its count (`ANY 1 ("a", "b")`, `FIRST 2 (a, b)`, `2 (a, b)`, `a, b`).
    static func parseSynchronous(_ text: String) -> (count: Int, names: [String]) {
        var t = text.trimmingCharacters(in: .whitespaces)
        guard !t.isEmpty else { return (0, []) }
        var count = 1
        for keyword in ["ANY ", "FIRST "] where t.uppercased().hasPrefix(keyword) {
            t = String(t.dropFirst(keyword.count))
        }
        if let open = t.firstIndex(of: "("), t.hasSuffix(")") {
            count = Int(t[..<open].trimmingCharacters(in: .whitespaces)) ?? 1
            t = String(t[t.index(after: open)..<t.index(before: t.endIndex)])
        }
        let names = t.split(separator: ",").map {
            var n = $0.trimmingCharacters(in: .whitespaces)
            if n.hasPrefix("\""), n.hasSuffix("\""), n.count >= 2 {
                n = String(n.dropFirst().dropLast()).replacingOccurrences(of: "\"\"", with: "\"")
            }
            return n
        }
        return (count, names)
    }

    static func spec(_ view: ClusterView, desired: Value, lastApplied: Value?, primary: String) -> Value {
        let s = view.settings
        guard case .map(var out) = desired, let primaryFacts = view.facts(primary) else { return desired }
        out["primary"] = .string(primary)
        out["version"] = .int(Int64(primaryFacts.majorVersion))
        let sync = parseSynchronous(primaryFacts.settings["synchronous_standby_names"]?.setting ?? "")
        // Members in place: the primary, and replicas streaming from it. Others are missing from the list, so the plan
        // shows them being added (created, started, re-pointed).
        var members: [Value] = []
        var states: [String: Value] = [:]
        let declared: [Value] = { if case .list(let l)? = desired["members"] { return l } else { return [] } }()
        for (member, value) in zip(s.members, declared) {
            let state = state(view, member.name, primary: primary)
            states[member.name] = .string(state)
            // A fenced member is as declared: nothing for a pass to do until `postgres reinit` (a warning says so).
            guard state == "primary" || state == "streaming" || state == "fenced", case .map(var m) = value else {
                continue
            }
            if state == "streaming" && s.synchronousCount > 0 {
                // Only where the manifest says, or where the server names it: an unset flag means "not a candidate".
                let named = sync.names.contains(member.name)
                if m["synchronous"] != nil || named { m["synchronous"] = .bool(named) }
            }
            members.append(.map(m))
        }
        let lastMembers: [Value] = { if case .list(let l)? = lastApplied?["members"] { return l } else { return [] } }()
        for member in view.removed {
            let state = state(view, member.name, primary: primary)
            let slotHeld = primaryFacts.slots.contains { $0.name == ReplicaSpec.slotName(member.name) }
            guard view.facts(member.name) != nil || slotHeld,
                let value = lastMembers.first(where: { $0["name"]?.stringValue == member.name })
            else { continue }
            states[member.name] = .string(state)
            members.append(value)
        }
        out["members"] = .list(members)
        var replication: [String: Value] = {
            if case .map(let m)? = desired["replication"] { return m } else { return [:] }
        }()
        replication["synchronousCount"] = .int(Int64(sync.count == 0 || sync.names.isEmpty ? 0 : sync.count))
        // pg_hba.conf: as declared while Setpoint's block is in place on every member on a Host; else which is not.
        let wrongHba = s.members.compactMap { m -> String? in
            switch view.hba[m.name] {
            case .differs(let path)?: return "\(m.name) (\(path))"
            case .failed(let why)?: return "\(m.name): \(why)"
            default: return nil
            }
        }
        replication["pgHba"] =
            !s.managesHba
            ? .bool(false)
            : wrongHba.isEmpty
                ? .bool(true)
                : .string(
                    "(Setpoint's block is missing or changed in pg_hba.conf of \(wrongHba.joined(separator: ", ")))"
                )
        out["replication"] = .map(replication)
        // Parameters: the desired text when every running member means it; else what the first member that differs runs.
        var parameters: [String: Value] = [:]
        var contexts: [String: Value] = [:]
        let names = Set(s.parameters.keys).union(
            (lastApplied?["parameters"].flatMap { v -> [String]? in
                if case .map(let m) = v { return Array(m.keys) } else { return nil }
            }) ?? []
        )
        let running = (s.members.map(\.name)).compactMap { view.facts($0) }
        for name in names {
            guard let first = running.lazy.compactMap({ $0.settings[name] }).first else { continue }
            contexts[name] = .string(first.context)
            let wanted = s.parameters[name]
            var shown: String? = wanted
            for f in running {
                guard let setting = f.settings[name] else { continue }
                if let wanted, ParameterValues.equivalent(wanted, setting.setting, unit: setting.unit) { continue }
                shown = ParameterValues.display(setting.setting, unit: setting.unit)
                break
            }
            if wanted == nil {
                // Removed from the manifest: present while ALTER SYSTEM still sets it on a member.
                let stillSet = running.contains {
                    $0.settings[name]?.fileSource?.hasSuffix("postgresql.auto.conf") == true
                }
                if stillSet { parameters[name] = .string(ParameterValues.display(first.setting, unit: first.unit)) }
                continue
            }
            if let shown { parameters[name] = .string(shown) }
        }
        if !names.isEmpty || desired["parameters"] != nil { out["parameters"] = .map(parameters) }
        out["(members)"] = .map(states)
        out["(contexts)"] = .map(contexts)
        out["(rewind)"] = .bool(rewindable(primaryFacts))
        return .map(out)
    }

    /// pg_rewind needs `wal_log_hints` or data checksums on the server that is rewound.
    static func rewindable(_ f: MemberFacts) -> Bool {
        ParameterValues.boolean(f.settings["wal_log_hints"]?.setting ?? "off") == true
            || ParameterValues.boolean(f.settings["data_checksums"]?.setting ?? "off") == true
    }

    /// Desired parameter values that wait for a restart on some member (written, not yet live).
    static func pending(_ view: ClusterView, desired: Value) -> Value? {
        var out: [String: Value] = [:]
        let running = view.settings.members.compactMap { view.facts($0.name) }
        for (name, wanted) in view.settings.parameters {
            let staged = running.contains { f in
                guard let st = f.settings[name], st.pendingRestart, let file = st.fileValue else { return false }
                return ParameterValues.equivalent(wanted, file, unit: st.unit)
            }
            let allThere = running.allSatisfy { f in
                guard let st = f.settings[name] else { return true }
                return ParameterValues.equivalent(wanted, st.setting, unit: st.unit)
                    || (st.pendingRestart
                        && st.fileValue.map { ParameterValues.equivalent(wanted, $0, unit: st.unit) } == true)
            }
            if staged && allThere { out[name] = .string(wanted) }
        }
        return out.isEmpty ? nil : .map(["parameters": .map(out)])
    }

    /// Why a member on a Host cannot be reached by the others with this `listen_addresses` (nil: it can): it must
    /// listen on all addresses or on its own.
    static func listenProblem(_ listen: String, address: String?) -> String? {
        let names = listen.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        if names.contains(where: { ["*", "0.0.0.0", "::"].contains($0) }) { return nil }
        if let address, names.contains(address) { return nil }
        return "listens on '\(listen)' only: the other members cannot replicate from it or rewind onto it; "
            + "set parameters.listen_addresses to '*' or to its address \(address ?? "") (a postmaster parameter: it needs a restart)"
    }

    static func warnings(_ view: ClusterView, primary: String) -> [String]? {
        let s = view.settings
        var out: [String] = []
        for name in view.stalePrimaries {
            out.append(
                "\(name) accepts writes on timeline \(view.facts(name)?.timeline ?? 0) while \(primary) leads on timeline "
                    + "\(view.facts(primary)?.timeline ?? 0): a primary from before a failover came back; the next apply or pass stops it first"
            )
        }
        for member in s.members {
            guard case .fenced(_, let why)? = view.status[member.name] else { continue }
            out.append(
                "\(member.name) is fenced (\(why)): bring it back as a replica of \(primary) with "
                    + "`setpoint postgres reinit \(s.name) \(member.name) MANIFESTS… --yes`"
            )
        }
        for member in s.members where member.runsOn != nil {
            guard let listen = view.facts(member.name)?.settings["listen_addresses"]?.setting,
                let problem = Self.listenProblem(listen, address: member.host)
            else { continue }
            out.append("\(member.name) \(problem)")
        }
        let candidates = s.synchronousCandidates(primary: primary)
        let streaming = candidates.filter { view.isStreaming($0, from: primary) }
        if s.synchronousCount > streaming.count {
            out.append(
                "synchronousCount is \(s.synchronousCount) but only \(streaming.count) synchronous candidate"
                    + "\(streaming.count == 1 ? "" : "s") stream\(streaming.count == 1 ? "s" : "") from \(primary) "
                    + "(\(candidates.isEmpty ? "none marked" : candidates.joined(separator: ", "))): commits on \(primary) wait until enough connect"
            )
        }
        return out.isEmpty ? nil : out
    }
}
