import Foundation
import SetpointCore
import SetpointExec
import SetpointPG
import SetpointRemote

/// Carries out a `PostgresCluster`'s actions against a fresh look at its members. Each action converges: run twice,
/// the second run finds nothing left to do.
struct ClusterApplier: Sendable {
    let view: ClusterView
    let context: ProviderContext
    let resource: ResourceID

    var settings: ClusterSettings { view.settings }

    func fail(_ message: String, transient: Bool = false, terminal: Bool = false) -> SetpointError {
        SetpointError(.applyFailed, message, resource: resource, isTransient: transient, isTerminal: terminal)
    }

    func note(_ message: String) {
        context.log.log(.info, message, metadata: ["resource": resource.description])
    }

    func primaryName() throws -> String {
        guard let p = view.actualPrimary else {
            throw fail(
                "no single member accepts writes (\(view.writers.isEmpty ? "none" : view.writers.joined(separator: ", "))): plan again to see why"
            )
        }
        return p
    }

    func connection(_ name: String) throws -> PGConnection {
        guard let db = view.connections[name] else { throw fail("member \(name) is not connected") }
        return db
    }

    /// The member's host: its Host over SSH, or this machine.
    func access(for member: ClusterSettings.Member) async throws -> HostAccess {
        guard member.canControl else {
            throw fail(
                "member \(member.name) is on \(member.host ?? "a conninfo host"), which is not this machine: name the Host it runs "
                    + "on with runsOn, so its tools (pg_ctl, pg_basebackup, pg_rewind) run there over SSH"
            )
        }
        return try await context.host(member.runsOn, for: resource)
    }

    func control(for member: ClusterSettings.Member) async throws -> MemberControl {
        MemberControl(
            access: try await access(for: member),
            binDirectory: settings.binDirectory(major: view.facts(try primaryName())?.majorVersion),
            osUser: settings.osUser
        )
    }

    func member(_ name: String) throws -> ClusterSettings.Member {
        guard let m = settings.member(name) ?? view.removed.first(where: { $0.name == name }) else {
            throw fail("no member \(name)")
        }
        return m
    }

    // MARK: - update: parameters, members, synchronous replication

    /// Stops every former primary that came back after a failover (`ClusterView.stalePrimaries`) and keeps it from
    /// ever starting as a primary again: `standby.signal` (a restart by hand or by systemd comes up in recovery, taking
    /// no writes) and `setpoint.fenced` saying when and why (no pass brings it back; `postgres reinit` does).
    func fenceStalePrimaries() async throws {
        guard let leader = view.actualPrimary else { return }
        for name in view.stalePrimaries {
            let m = try member(name)
            guard let directory = m.dataDirectory ?? view.facts(name)?.dataDirectory else {
                throw fail(
                    "\(name) accepts writes on an old timeline and its data directory is unknown, so it cannot be fenced: stop it yourself"
                )
            }
            let tools = try await control(for: m)
            let why =
                "it ran as a primary on timeline \(view.facts(name)?.timeline ?? 0) while \(leader) led on timeline "
                + "\(view.facts(leader)?.timeline ?? 0); stopped by Setpoint at \(Timestamp.seconds(context.clock.now))"
            note("fencing \(name): \(why)")
            // The markers first (harmless while it runs): should the stop succeed and a write then fail, the next pass
            // must still see a fenced member, never a stopped primary to rewind.
            _ = try await tools.runner.run(
                Command("/usr/bin/touch", ["\(directory)/standby.signal"], user: settings.osUser, timeout: .seconds(30))
            )
            try await tools.files.write(
                why + "\n",
                to: "\(directory)/\(ClusterView.fenceMarker)",
                mode: 0o600,
                private: true
            )
            try await tools.stop(directory, mode: "fast")
            context.log.log(.warning, "fenced \(name): \(why)", metadata: ["resource": resource.description])
        }
    }

    /// Everything an update converges, in a safe order: parameters (so new replicas copy them), members, removals,
    /// synchronous standbys last (so commits never wait for a standby that is not there yet).
    func converge(lastApplied: Value?) async throws {
        let primary = try primaryName()
        // pg_hba.conf first: a replica made below connects to the primary through it.
        for (name, state) in view.hba.sorted(by: { $0.key < $1.key }) {
            guard case .differs = state, let db = view.connections[name] else { continue }
            try await writeHba(try member(name), db: db)
        }
        try await writeParameters(lastApplied: lastApplied, primary: primary)
        for m in settings.members where m.name != primary {
            try await bringIn(m, primary: primary)
        }
        for m in view.removed { try await remove(m, primary: primary) }
        try await setSynchronous(primary: primary)
        // Members that were not running when this apply looked (made or started above) get the block now, where their
        // pg_hba.conf is not the copy of the primary's that pg_basebackup brought (Debian's /etc/postgresql).
        if settings.managesHba {
            for m in settings.members where m.runsOn != nil && view.facts(m.name) == nil {
                guard let db = try? await PGConnection.counted(settings.connection(to: m)) else { continue }
                defer { db.close() }
                try await writeHba(m, db: db)
            }
        }
    }

    /// Puts Setpoint's block at the top of the member's pg_hba.conf (on its Host, as the server's OS user; the rest of
    /// the file as it was), reloads, and checks the server read every line.
    func writeHba(_ m: ClusterSettings.Member, db: PGConnection) async throws {
        guard let path = try await db.query("SELECT setting FROM pg_settings WHERE name = 'hba_file'").first?["setting"]
        else { throw fail("\(m.name) does not say where its pg_hba.conf is (hba_file)") }
        let access = try await access(for: m)
        let files = access.files.acting(as: settings.osUser)
        let text = try await files.read(path) ?? ""
        let block = HbaBlock(settings)
        let wanted = block.applied(to: text)
        guard wanted != text else { return }
        try await files.write(wanted, to: path, mode: 0o640, private: false)
        _ = try await db.query("SELECT pg_reload_conf()")
        note(
            "wrote Setpoint's block at the top of \(path) on \(access.name) (\(block.lines.count) lines) and reloaded \(m.name)"
        )
        let errors = try await db.query(
            "SELECT line_number, error FROM pg_hba_file_rules WHERE error IS NOT NULL ORDER BY line_number"
        ).records
        if !errors.isEmpty {
            throw fail(
                "\(m.name)'s \(path) on \(access.name) has lines the server refuses, so it keeps the rules it had: "
                    + errors.map { "line \($0["line_number"] ?? "?"): \($0["error"] ?? "?")" }.joined(separator: "; ")
            )
        }
    }

    func writeParameters(lastApplied: Value?, primary: String) async throws {
        let wanted = settings.parameters
        let dropped: [String] = {
            guard case .map(let m)? = lastApplied?["parameters"] else { return [] }
            return m.keys.filter { wanted[$0] == nil }.sorted()
        }()
        guard !wanted.isEmpty || !dropped.isEmpty else { return }
        let known = Set(view.facts(primary)?.settings.keys.map { $0 } ?? [])
        let unknown = wanted.keys.filter { !known.contains($0) && !$0.contains(".") }.sorted()
        if !unknown.isEmpty {
            throw fail(
                "PostgreSQL \(view.facts(primary)?.majorVersion ?? 0) has no parameter \(unknown.joined(separator: ", ")): "
                    + "correct spec.parameters (nothing was written)",
                terminal: true
            )
        }
        // The primary first, then the others: a value the server refuses is refused before any replica has it.
        let order = [primary] + (settings.members.map(\.name) + view.removed.map(\.name)).filter { $0 != primary }
        for name in order {
            guard let f = view.facts(name), let db = view.connections[name] else { continue }
            var changes: [String: String?] = [:]
            for (k, v) in wanted {
                if let st = f.settings[k] {
                    let live = ParameterValues.equivalent(v, st.setting, unit: st.unit)
                    let staged = st.fileValue.map { ParameterValues.equivalent(v, $0, unit: st.unit) } ?? false
                    if (live && !st.pendingRestart) || (staged && st.pendingRestart) { continue }
                    if live && st.pendingRestart && staged { continue }
                }
                changes[k] = v
            }
            for k in dropped where f.settings[k]?.fileSource?.hasSuffix("postgresql.auto.conf") == true {
                changes[k] = .some(nil)
            }
            guard !changes.isEmpty else { continue }
            do {
                let outcome = try await ParameterWriter(clock: context.clock).apply(changes, on: db)
                let staged = outcome.filter { $0.value == .pendingRestart }.keys.sorted()
                note(
                    "\(name): wrote \(changes.keys.sorted().joined(separator: ", "))"
                        + (staged.isEmpty ? "" : "; waiting for a restart: \(staged.joined(separator: ", "))")
                )
            } catch let error as PGError {
                // A value or name PostgreSQL refuses stays refused; a lost connection is worth retrying.
                throw fail(
                    "member \(name): ALTER SYSTEM refused: \(error.message)\(error.hint.map { " (\($0))" } ?? "")",
                    transient: error.isTransient,
                    terminal: !error.isTransient
                )
            }
        }
    }

    /// Makes one declared replica stream from the primary, whatever it is now.
    func bringIn(_ m: ClusterSettings.Member, primary: String) async throws {
        let state = ClusterObservation.state(view, m.name, primary: primary)
        let primaryMember = try member(primary)
        let slot = settings.useSlots ? ReplicaSpec.slotName(m.name) : nil
        let db = try connection(primary)
        switch state {
        case "streaming", "primary", "fenced":
            return
        case "absent", "building":
            if m.runsOn != primaryMember.runsOn,
                let listen = view.facts(primary)?.settings["listen_addresses"]?.setting,
                let problem = ClusterObservation.listenProblem(listen, address: primaryMember.host)
            {
                throw fail("cannot make replica \(m.name) on another host: the primary \(primary) \(problem)")
            }
            guard let directory = m.dataDirectory else {
                throw fail(
                    "member \(m.name) does not answer on \(m.endpoint) and declares no dataDirectory to create it in"
                )
            }
            let tools = try await control(for: m)
            let spec = ReplicaSpec(
                name: m.name,
                port: m.port,
                dataDirectory: directory,
                primaryHost: primaryMember.host ?? "127.0.0.1",
                primaryPort: primaryMember.port,
                replicationUser: settings.replicationUser,
                replicationPassword: settings.replicationPassword,
                binDirectory: tools.binDirectory,
                osUser: settings.osUser,
                useSlot: settings.useSlots
            )
            note(
                state == "building"
                    ? "finishing replica \(m.name) in \(directory): attaching to its copy"
                    : "creating replica \(m.name) in \(directory) from \(primary)"
            )
            do {
                let took = try await ReplicaBuilder(access: tools.access, clock: context.clock).create(
                    spec,
                    primary: db,
                    journal: context.journal
                )
                note("replica \(m.name) streams (\(took))")
            } catch let refusal as ReplicaRefusal {
                throw fail(refusal.description)
            }
        case "stopped", "stopped-primary":
            guard let directory = m.dataDirectory else {
                throw fail("member \(m.name) is stopped and declares no dataDirectory")
            }
            let tools = try await control(for: m)
            if let slot { try await ensureSlot(slot, on: db) }
            if state == "stopped-primary" {
                note("rewinding \(m.name) onto \(primary)")
                _ = try await tools.rewind(
                    directory,
                    source: settings.connection(to: primaryMember),
                    serverSource: settings.serverConnection(to: primaryMember)
                )
            }
            try await tools.writeStandbyConfig(
                directory,
                port: m.port,
                primaryConninfo: MemberControl.primaryConninfo(
                    settings: settings,
                    primary: primaryMember,
                    standby: m.name
                ),
                slot: slot
            )
            note("starting \(m.name) as a standby of \(primary)")
            try await tools.start(directory)
            try await ReplicaBuilder(access: tools.access, clock: context.clock).waitForStreaming(
                m.name,
                primary: db,
                timeout: .seconds(120),
                logFile: tools.logFile(directory),
                osUser: settings.osUser
            )
            if state == "stopped-primary" { try await dropStaleSlots(on: m) }
        case "standby-elsewhere":
            if let slot { try await ensureSlot(slot, on: db) }
            try await repoint(m.name, to: primaryMember, slot: slot)
            try await ReplicaBuilder(clock: context.clock).waitForStreaming(
                m.name,
                primary: db,
                timeout: .seconds(120)
            )
        default:
            throw fail("member \(m.name) is \(ClusterObservation.describe(view.status[m.name])): plan again")
        }
    }

    /// A former primary keeps the slots its replicas used, inactive and holding WAL back: dropped once it is a standby.
    func dropStaleSlots(on member: ClusterSettings.Member) async throws {
        let db = try await PGConnection.counted(settings.connection(to: member))
        defer { db.close() }
        let ours = settings.members.map { ReplicaSpec.slotName($0.name) }
        let stale = try await db.query(
            "SELECT slot_name FROM pg_replication_slots WHERE NOT active AND slot_type = 'physical' AND slot_name = ANY($1::text[])",
            ["{" + ours.map { "\"\($0)\"" }.joined(separator: ",") + "}"]
        )
        for row in stale.records {
            guard let slot = row["slot_name"] else { continue }
            _ = try await db.query("SELECT pg_drop_replication_slot($1)", [slot])
            note("\(member.name): dropped the stale slot \(slot) it kept from when it was a primary")
        }
    }

    func ensureSlot(_ slot: String, on db: PGConnection) async throws {
        let r = try await db.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", [slot])
        if r.count == 0 { _ = try await db.query("SELECT pg_create_physical_replication_slot($1)", [slot]) }
    }

    /// A running standby follows another primary: `primary_conninfo` and `primary_slot_name` by ALTER SYSTEM, then a
    /// reload (PostgreSQL 13 and later restart the WAL receiver on it).
    func repoint(_ name: String, to primary: ClusterSettings.Member, slot: String?) async throws {
        let db = try connection(name)
        note("re-pointing \(name) at \(primary.name)")
        let conninfo = MemberControl.primaryConninfo(settings: settings, primary: primary, standby: name)
        do {
            _ = try await db.query("ALTER SYSTEM SET primary_conninfo = \(try PGQuote.literal(conninfo))")
            if let slot { _ = try await db.query("ALTER SYSTEM SET primary_slot_name = \(try PGQuote.literal(slot))") }
            _ = try await db.query("SELECT pg_reload_conf()")
        } catch let error as PGError {
            throw fail("member \(name): re-pointing refused: \(error.message)")
        }
    }

    /// A member the manifest no longer declares: stopped, its slot dropped; its data directory is kept.
    func remove(_ m: ClusterSettings.Member, primary: String) async throws {
        if view.facts(m.name) != nil {
            guard let directory = m.dataDirectory ?? view.facts(m.name)?.dataDirectory else {
                throw fail("member \(m.name): no data directory known")
            }
            note("stopping removed member \(m.name); its data stays in \(directory)")
            try await (try await control(for: m)).stop(directory)
        }
        if settings.useSlots
            || view.facts(primary)?.slots.contains(where: { $0.name == ReplicaSpec.slotName(m.name) }) == true
        {
            do {
                try await MemberOperations(clock: context.clock).dropSlot(
                    ReplicaSpec.slotName(m.name),
                    on: try connection(primary)
                )
            } catch let refusal as ReplicaRefusal {
                throw fail(refusal.description)
            }
        }
    }

    func setSynchronous(primary: String) async throws {
        let wanted = settings.synchronousStandbyNames(primary: primary)
        let now = view.facts(primary)?.settings["synchronous_standby_names"]?.setting ?? ""
        let parsedNow = ClusterObservation.parseSynchronous(now)
        let parsedWanted = ClusterObservation.parseSynchronous(wanted)
        if parsedNow.names == parsedWanted.names && (parsedNow.count == parsedWanted.count || parsedNow.names.isEmpty) {
            return
        }
        note("\(primary): synchronous_standby_names = '\(wanted)'")
        try await MemberOperations(clock: context.clock).setSynchronous(
            count: settings.synchronousCount,
            standbys: settings.synchronousCandidates(primary: primary),
            on: try connection(primary)
        )
    }

    // MARK: - restart

    /// The parameters that a standby must have at least as high as its primary: raising them restarts the replicas
    /// first, lowering them the primary first (PostgreSQL refuses hot standby otherwise).
    static let standbyMinimums: Set<String> = [
        "max_connections", "max_worker_processes", "max_wal_senders", "max_prepared_transactions",
        "max_locks_per_transaction",
    ]

    /// Restarts each member with settings waiting for a restart, replicas and primary in the order the changes need.
    func restartPending() async throws {
        let primary = try primaryName()
        let waiting = (settings.members.map(\.name)).filter { name in
            view.facts(name)?.settings.values.contains { $0.pendingRestart } ?? false
        }
        guard !waiting.isEmpty else { return }
        let lowering =
            view.facts(primary)?.settings.contains { name, st in
                guard Self.standbyMinimums.contains(name), st.pendingRestart, let file = st.fileValue,
                    let a = Double(file), let b = Double(st.setting)
                else { return false }
                return a < b
            } ?? false
        let replicas = waiting.filter { $0 != primary }
        let order = lowering ? waiting.filter { $0 == primary } + replicas : replicas + waiting.filter { $0 == primary }
        for name in order {
            let m = try member(name)
            guard let directory = m.dataDirectory ?? view.facts(name)?.dataDirectory else {
                throw fail("member \(name): no data directory known")
            }
            note("restarting \(name)")
            try await (try await control(for: m)).restart(directory)
        }
        // The replicas reconnect by themselves; done when each streams again.
        let db = try await PGConnection.counted(settings.connection(to: try member(primary)))
        defer { db.close() }
        for name in settings.members.map(\.name) where name != primary && view.isStreaming(name, from: primary) {
            try await ReplicaBuilder(clock: context.clock).waitForStreaming(
                name,
                primary: db,
                timeout: .seconds(120)
            )
        }
    }
}
