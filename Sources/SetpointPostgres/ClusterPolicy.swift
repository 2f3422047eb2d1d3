import SetpointCore

extension Verb {
    /// Move the primary role to another member: a planned, clean hand-over.
    public static let switchover = Verb(rawValue: "switchover")
}

/// How a `PostgresCluster`'s fields compare and what changing each does.
enum ClusterPolicy {
    static func make() -> FieldPolicy {
        var p = FieldPolicy()
        p.stagesRestarts = true
        p.rule(
            "version",
            reason: "the major version",
            check: { c in
                "PostgreSQL \(c.before?.intValue.map(String.init) ?? "?") runs, the manifest says \(c.after?.intValue.map(String.init) ?? "?"): "
                    + "a major upgrade (pg_upgrade) is not something Setpoint does; correct spec.version"
            }
        )
        p.rule("primary", impact: .restart, verb: .switchover, reason: "a switchover: writes stop for a few seconds")
        p.rule("members", impact: .hot)
        p.rule(
            "replication.synchronousCount",
            impact: .hot,
            reason: "synchronous_standby_names on the primary, by reload"
        )
        p.rule(
            "replication.pgHba",
            impact: .hot,
            reason:
                "Setpoint's block at the top of each member's pg_hba.conf is written again (the rest of the file as it "
                + "is), then pg_reload_conf() on that member",
            absent: .bool(true)
        )
        for ignored in [
            "connection", "replication.user", "replication.password", "replication.slots",
            "replication.maxSwitchoverLag",
            "binDirectory", "osUser",
        ] {
            p.rule(ignored, comparison: .ignore)
        }
        p.rule("parameters.*", impact: .hot, reason: "ALTER SYSTEM on every member, then a reload")
        p.dynamicImpact = { path, observed, after in
            let keys = path.components.compactMap { c -> String? in
                if case .key(let k) = c { return k } else { return nil }
            }
            switch keys.first {
            case "parameters" where keys.count == 2:
                let context = observed?["(contexts)"]?[keys[1]]?.stringValue
                switch context {
                case "postmaster"?:
                    return (
                        .restart,
                        "\(keys[1]) is a postmaster parameter: written with ALTER SYSTEM now, live after each member restarts"
                    )
                case nil:
                    return (
                        .hot,
                        "\(keys[1]) is not a parameter the server knows yet: ALTER SYSTEM will say whether it accepts it"
                    )
                case let c?:
                    return (.hot, "\(keys[1]) (\(c) context): ALTER SYSTEM on every member, then a reload")
                }
            case "members":
                return (.hot, membersReason(observed: observed, after: after))
            case "primary":
                return (.restart, switchoverReason(observed: observed, after: after))
            default:
                return nil
            }
        }
        p.requiresApproval = { path, observed, after in
            guard path.components.first == .key("members") else { return nil }
            let removed = removedMembers(observed: observed, after: after)
            guard !removed.isEmpty else { return nil }
            return removed.map { m in
                "removes member \(m["name"]?.stringValue ?? "?"): stops it and drops its replication slot; its data stays in "
                    + (m["dataDirectory"]?.stringValue ?? "its data directory")
            }.joined(separator: "; ")
        }
        return p
    }

    static func names(_ v: Value?) -> [String] {
        guard case .list(let l)? = v else { return [] }
        return l.compactMap { $0["name"]?.stringValue }
    }

    static func removedMembers(observed: Value?, after: Value?) -> [Value] {
        let keep = Set(names(after))
        guard case .list(let l)? = observed?["members"] else { return [] }
        return l.filter { !keep.contains($0["name"]?.stringValue ?? "") }
    }

    /// Each member's part of a `members` change, in words.
    static func membersReason(observed: Value?, after: Value?) -> String {
        let present = Set(names(observed?["members"]))
        let primary = observed?["primary"]?.stringValue ?? "the primary"
        var parts: [String] = []
        guard case .list(let wanted)? = after else { return "members change" }
        for m in wanted {
            guard let name = m["name"]?.stringValue else { continue }
            if present.contains(name) {
                let before: Value? = {
                    if case .list(let l)? = observed?["members"] {
                        return l.first { $0["name"]?.stringValue == name }
                    } else {
                        return nil
                    }
                }()
                if before?["synchronous"] != m["synchronous"] {
                    parts.append(
                        m["synchronous"] == .bool(true)
                            ? "\(name) becomes a synchronous candidate" : "\(name) stops being a synchronous candidate"
                    )
                }
                continue
            }
            let directory = m["dataDirectory"]?.stringValue ?? "its data directory"
            switch observed?["(members)"]?[name]?.stringValue {
            case "absent"?:
                parts.append(
                    "creates replica \(name): a slot on \(primary), pg_basebackup into \(directory), start, done when it streams"
                )
            case "stopped"?: parts.append("starts \(name) as a standby of \(primary)")
            case "building"?:
                parts.append(
                    "finishes replica \(name): attaches to the pg_basebackup an earlier run started on its host (never a second "
                        + "copy), then start, done when it streams"
                )
            case "stale-primary"?:
                parts.append(
                    "fences \(name), a primary from before a failover that accepts writes again: stopped first, before anything "
                        + "else, and kept from starting as a primary; then `setpoint postgres reinit` re-makes it from \(primary)"
                )
            case "stopped-primary"?:
                parts.append("rejoins \(name) (a former primary) as a standby of \(primary): pg_rewind, then start")
            case "standby-elsewhere"?:
                parts.append("re-points \(name) at \(primary) (primary_conninfo by ALTER SYSTEM, reload)")
            default: parts.append("brings \(name) in as a standby of \(primary)")
            }
        }
        for m in removedMembers(observed: observed, after: after) {
            parts.append(
                "removes \(m["name"]?.stringValue ?? "?") (stopped, slot dropped, data kept in \(m["dataDirectory"]?.stringValue ?? "place"))"
            )
        }
        return parts.isEmpty ? "members change" : parts.joined(separator: "; ")
    }

    /// The switchover's steps and whether its preconditions hold as observed.
    static func switchoverReason(observed: Value?, after: Value?) -> String {
        let from = observed?["primary"]?.stringValue ?? "?"
        let to = after?.stringValue ?? "?"
        var text =
            "switchover \(from) → \(to): checks \(to) streams with replay lag under maxSwitchoverLag, stops \(from) cleanly, "
            + "waits for \(to) to replay its last WAL, promotes \(to), re-points the other replicas"
        if observed?["(members)"]?[to]?.stringValue != "streaming" {
            text +=
                "; PRECONDITION NOT MET NOW: \(to) does not stream from \(from) (if an update in this plan brings it in first, the "
                + "switchover goes ahead; otherwise apply refuses and changes nothing)"
        }
        if observed?["(rewind)"] == .bool(true) {
            text += ", rejoins \(from) with pg_rewind"
        } else {
            text +=
                "; \(from) has neither wal_log_hints nor data checksums, so pg_rewind cannot run: \(from) stays stopped. To bring it "
                + "back: set wal_log_hints = on (a restart), or re-create it (empty its data directory; it is then re-made as a replica)"
        }
        return text
    }
}
