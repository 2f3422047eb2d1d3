import Foundation
import SetpointCore
import SetpointPG

/// What one member is, as far as Setpoint can tell.
enum MemberStatus: Sendable {
    /// It answers; its facts.
    case running(MemberFacts)
    /// Its data directory holds a cluster and no server runs on it.
    case stopped(dataDirectory: String)
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

    /// The members that accept writes.
    var writers: [String] {
        (settings.members + removed).map(\.name).filter { status[$0]?.facts.map { !$0.inRecovery } ?? false }
    }

    /// The one member that accepts writes, if exactly one does.
    var actualPrimary: String? { writers.count == 1 ? writers[0] : nil }

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
        parameters: [String]
    ) async -> ClusterView {
        let all = settings.members + removed
        var status: [String: MemberStatus] = [:]
        var connections: [String: PGConnection] = [:]
        await withTaskGroup(of: (String, MemberStatus, PGConnection?).self) { group in
            for member in all {
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
                        return (member.name, offline(member, error: error), nil)
                    }
                }
            }
            for await (name, s, db) in group {
                status[name] = s
                if let db { connections[name] = db }
            }
        }
        return ClusterView(settings: settings, status: status, removed: removed, connections: connections)
    }

    /// What a member that does not answer is, judged from its data directory (when it is on this machine).
    static func offline(_ member: ClusterSettings.Member, error: any Error) -> MemberStatus {
        let refused = "\(error)"
        if let pg = error as? PGError, pg.sqlState.hasPrefix("28") || refused.contains("authentication failed") {
            return .unreachable(refused)
        }
        guard member.isLocal, let directory = member.dataDirectory else { return .unreachable(refused) }
        guard FileManager.default.fileExists(atPath: directory) else { return .absent }
        let entries: [String]
        do { entries = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            return .unreachable(
                refused + "; and its data directory \(directory) cannot be read: \(error.localizedDescription)"
            )
        }
        if entries.isEmpty { return .absent }
        guard entries.contains("PG_VERSION") else {
            return .notEmpty(dataDirectory: directory, entries: entries.sorted())
        }
        if entries.contains("postmaster.pid"), let pid = postmasterPID(directory), isPostgresRunning(pid) {
            return .unreachable(refused + " (a server runs on \(directory): process \(pid))")
        }
        return .stopped(dataDirectory: directory)
    }

    /// Whether a process runs with that PID and is a PostgreSQL server (not a zombie a crash left, not a recycled PID).
    static func isPostgresRunning(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
        // `pid (comm) state …`: state Z is a zombie.
        if let close = stat.lastIndex(of: ")") {
            let rest = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces)
            if rest.hasPrefix("Z") || rest.hasPrefix("X") { return false }
        }
        return stat.contains("(postgres)") || stat.contains("(postmaster)")
    }

    /// The postmaster's PID from `postmaster.pid` (left behind by a crash: the process may be gone).
    static func postmasterPID(_ directory: String) -> pid_t? {
        guard let text = try? String(contentsOfFile: directory + "/postmaster.pid", encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first.flatMap { pid_t($0.trimmingCharacters(in: .whitespaces)) }
    }
}
