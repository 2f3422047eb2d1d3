import Foundation
import SetpointCore
import SetpointExec
import SetpointPG
import SetpointRemote

/// What one member is, as far as Setpoint can tell.
enum MemberStatus: Sendable {
    /// It answers; its facts.
    case running(MemberFacts)
    /// Its data directory holds a cluster and no server runs on it (`standby`: it has `standby.signal`).
    case stopped(dataDirectory: String, standby: Bool)
    /// Stopped by Setpoint because it ran as a primary on an old timeline after a failover (its data directory holds
    /// `setpoint.fenced`, saying when and why): it comes back only by `setpoint postgres reinit`.
    case fenced(dataDirectory: String, why: String)
    /// A replica whose copy (pg_basebackup, a job on its host) an earlier run started: running, or ended without the
    /// rest of its making. The next apply attaches to it and finishes, never copying twice.
    case building(dataDirectory: String, job: String)
    /// Nothing answers and its data directory is missing or empty: a replica to create.
    case absent
    /// Nothing answers and its data directory holds files that are not a cluster: nothing may be created there.
    case notEmpty(dataDirectory: String, entries: [String])
    /// It could not be reached or refused Setpoint (the reason quotes libpq or the server).
    case unreachable(String)

    var facts: MemberFacts? {
        if case .running(let f) = self { return f }
        return nil
    }
}

/// Every member of one cluster, observed at one moment: the manifest's, and the last apply's that it no longer has.
struct ClusterView: Sendable {
    var settings: ClusterSettings
    /// By member name.
    var status: [String: MemberStatus]
    /// Members of the last apply that the manifest no longer declares (to remove).
    var removed: [ClusterSettings.Member]
    /// Open connections to running members, by name; closed by `close()`.
    var connections: [String: PGConnection]
    /// Setpoint's block in the pg_hba.conf of running members on Hosts (when the cluster manages it), by name.
    var hba: [String: HbaState] = [:]

    enum HbaState: Sendable, Equatable {
        /// At the top of the file (its path), as Setpoint writes it.
        case asWritten(String)
        /// Missing, changed or not at the top of the file (its path).
        case differs(String)
        /// The file could not be read (the reason names the host).
        case failed(String)
    }

    /// The members that accept writes.
    var writers: [String] {
        (settings.members + removed).map(\.name).filter { status[$0]?.facts.map { !$0.inRecovery } ?? false }
    }

    /// The one member that leads: the only one that accepts writes; or, when former primaries came back after a
    /// failover and accept writes too, the declared primary on the newest timeline (the others are `stalePrimaries`).
    var actualPrimary: String? {
        let w = writers
        if w.count == 1 { return w[0] }
        return stalePrimaries.isEmpty ? nil : settings.primary
    }

    /// Members that accept writes on an older timeline than the declared primary, which accepts writes too: primaries
    /// from before a failover that came back (their link healed, their host restarted). They must be stopped before
    /// anything else, and never take writes again.
    var stalePrimaries: [String] {
        let w = writers
        guard w.count > 1, w.contains(settings.primary), let newest = facts(settings.primary)?.timeline else {
            return []
        }
        let others = w.filter { $0 != settings.primary }
        guard others.allSatisfy({ (facts($0)?.timeline ?? .max) < newest }) else { return [] }
        return others
    }

    /// What the fence marker says: the marker's name in a member's data directory.
    static let fenceMarker = "setpoint.fenced"

    func facts(_ name: String) -> MemberFacts? { status[name]?.facts }

    /// A standby streams from the primary: the primary lists it, by application name, as `streaming`.
    func isStreaming(_ name: String, from primary: String) -> Bool {
        facts(primary)?.standbys.contains { $0.applicationName == name && $0.state == "streaming" } ?? false
    }

    func close() {
        for c in connections.values { c.close() }
    }

    /// Looks at every member at once.
    static func observe(
        _ settings: ClusterSettings,
        removed: [ClusterSettings.Member],
        parameters: [String],
        context: ProviderContext,
        resource: ResourceID
    ) async -> ClusterView {
        let all = settings.members + removed
        // Members on a Host behind a jump host are dialled through a forward on that Host's connection.
        // A forward that cannot be opened is that member's observation error (it names the Host and quotes ssh).
        var forwarded = settings
        var status: [String: MemberStatus] = [:]
        for member in all where context.isBehindJump(member.runsOn) && member.conninfo == nil {
            guard let address = member.host else { continue }
            do {
                let access = try await context.host(member.runsOn, for: resource)
                forwarded.forwarded[member.name] = try await access.socketFolder(to: address, port: member.port)
            } catch {
                status[member.name] = .unreachable("\(error)")
            }
        }
        let settings = forwarded
        var connections: [String: PGConnection] = [:]
        await withTaskGroup(of: (String, MemberStatus, PGConnection?).self) { group in
            for member in all where status[member.name] == nil {
                group.addTask {
                    do {
                        let db = try await PGConnection.counted(settings.connection(to: member))
                        do {
                            return (member.name, .running(try await MemberProbe.probe(db, parameters: parameters)), db)
                        } catch {
                            db.close()
                            return (member.name, .unreachable("\(error)"), nil)
                        }
                    } catch {
                        return (
                            member.name,
                            await offline(
                                member,
                                error: error,
                                settings: settings,
                                context: context,
                                resource: resource
                            ),
                            nil
                        )
                    }
                }
            }
            for await (name, s, db) in group {
                status[name] = s
                if let db { connections[name] = db }
            }
        }
        var view = ClusterView(settings: settings, status: status, removed: removed, connections: connections)
        if settings.managesHba {
            for member in settings.members where member.runsOn != nil {
                guard let facts = view.facts(member.name) else { continue }
                view.hba[member.name] = await hbaState(
                    of: member,
                    facts: facts,
                    settings: settings,
                    context: context,
                    resource: resource
                )
            }
        }
        return view
    }

    /// Where Setpoint's block stands in a running member's pg_hba.conf (read on its Host as the server's OS user).
    static func hbaState(
        of member: ClusterSettings.Member,
        facts: MemberFacts,
        settings: ClusterSettings,
        context: ProviderContext,
        resource: ResourceID
    ) async -> HbaState {
        guard let path = facts.settings["hba_file"]?.setting, !path.isEmpty else {
            return .failed("\(member.name) does not say where its pg_hba.conf is (hba_file)")
        }
        do {
            let access = try await context.host(member.runsOn, for: resource)
            let text = try await access.files.acting(as: settings.osUser).read(path) ?? ""
            let block = HbaBlock(settings)
            return text.hasPrefix(block.text) && block.applied(to: text) == text ? .asWritten(path) : .differs(path)
        } catch {
            return .failed("\(error)")
        }
    }

    /// What a member that does not answer is, judged from its data directory (on its Host, or on this machine).
    static func offline(
        _ member: ClusterSettings.Member,
        error: any Error,
        settings: ClusterSettings,
        context: ProviderContext,
        resource: ResourceID
    ) async -> MemberStatus {
        let refused = "\(error)"
        if let pg = error as? PGError, pg.sqlState.hasPrefix("28") || refused.contains("authentication failed") {
            return .unreachable(refused)
        }
        guard member.canControl, let directory = member.dataDirectory else { return .unreachable(refused) }
        // Nothing answered; what its host says about the data directory comes first (it says what to do), libpq's
        // first line after it.
        let said = refused.split(separator: "\n").first.map(String.init) ?? refused
        let files: any HostFiles
        do { files = try await context.host(member.runsOn, for: resource).files.acting(as: settings.osUser) } catch {
            return .unreachable(
                "its host cannot be reached to look at its data directory: \(error) (and libpq: \(said))"
            )
        }
        let job = ReplicaBuilder.jobFolder(directory)
        do {
            if try await files.stat(job) != nil { return .building(dataDirectory: directory, job: job) }
        } catch {
            return .unreachable("its data directory cannot be looked at: \(error) (and libpq: \(said))")
        }
        let entries: [String]
        do {
            guard let listed = try await files.list(directory) else { return .absent }
            entries = listed
        } catch {
            return .unreachable("its data directory \(directory) cannot be read: \(error) (and libpq: \(said))")
        }
        if entries.isEmpty { return .absent }
        guard entries.contains("PG_VERSION") else {
            return .notEmpty(dataDirectory: directory, entries: entries.sorted())
        }
        if entries.contains("postmaster.pid"), let pid = await postmasterPID(directory, files: files),
            await isPostgresRunning(pid, files: files)
        {
            return .unreachable(refused + " (a server runs on \(directory): process \(pid))")
        }
        if entries.contains(fenceMarker) {
            let why = (try? await files.read(directory + "/" + fenceMarker)) ?? nil
            return .fenced(
                dataDirectory: directory,
                why: why?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "fenced by Setpoint"
            )
        }
        return .stopped(dataDirectory: directory, standby: entries.contains("standby.signal"))
    }

    /// Whether a process runs with that PID and is a PostgreSQL server (not a zombie a crash left, not a recycled PID),
    /// from `/proc/PID/stat` on the member's host.
    /// When the host cannot say (the read fails), the answer is yes: a lock file is never taken for stale on an error.
    static func isPostgresRunning(_ pid: Int32, files: any HostFiles) async -> Bool {
        let read: String?
        do { read = try await files.read("/proc/\(pid)/stat") } catch { return true }
        guard let stat = read, !stat.isEmpty else { return false }
        // `pid (comm) state …`: state Z is a zombie.
        if let close = stat.lastIndex(of: ")") {
            let rest = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces)
            if rest.hasPrefix("Z") || rest.hasPrefix("X") { return false }
        }
        return stat.contains("(postgres)") || stat.contains("(postmaster)")
    }

    /// The postmaster's PID from `postmaster.pid` (left behind by a crash: the process may be gone).
    static func postmasterPID(_ directory: String, files: any HostFiles) async -> Int32? {
        guard let text = try? await files.read(directory + "/postmaster.pid") else { return nil }
        return text.split(separator: "\n").first.flatMap { Int32($0.trimmingCharacters(in: .whitespaces)) }
    }
}
