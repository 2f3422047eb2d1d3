import Foundation
public import SetpointCore
import SetpointExec
import SetpointRemote

/// The hosts provider: `Host` (referenced). Observing a host logs in over SSH with its pinned keys — through its jump
/// host, if it names one — and runs `true`. A host that answers is present as declared; one that does not is an
/// observation error that names it and quotes ssh (the other resources still plan). A key other than the pinned ones
/// is refused with both fingerprints: the one offered and the ones pinned.
public struct HostProvider: Provider {
    public let kinds: [ResourceKind] = [.host]

    public init() {}

    public func fieldPolicy(for kind: ResourceKind) -> FieldPolicy {
        var p = FieldPolicy()
        p.rule("*", comparison: .ignore)  // nothing of a Host is changed by Setpoint
        return p
    }

    public func apply(
        _ action: Action,
        resource: ResolvedResource?,
        in context: ProviderContext
    ) async throws
        -> Observation
    {
        throw SetpointError(
            .applyFailed,
            "\(action.resource) is referenced: Setpoint reaches hosts, it never creates or changes them",
            resource: action.resource
        )
    }

    public func observe(
        _ resources: [ResolvedResource],
        in context: ProviderContext
    ) async throws -> [ResourceID:
        Observation]
    {
        // The run's sessions (the connections later work on these hosts shares), or ones of this call's own.
        var context = context
        let own = context.hosts is HostSessionPool ? nil : HostSessionPool()
        if let own { context.hosts = own }
        let sessions = context
        // Every host at once: an unreachable one costs its connect timeout, not the others' too.
        var out: [ResourceID: Observation] = [:]
        await withTaskGroup(of: (ResourceID, Observation).self) { group in
            for r in resources where r.id.kind == .host {
                group.addTask {
                    do {
                        let access = try await sessions.host(r.id.name, for: r.id)
                        return (
                            r.id, .present(ObservedResource(spec: r.resource.spec, providerID: access.files.hostName))
                        )
                    } catch {
                        return (r.id, .failed("\(error)"))
                    }
                }
            }
            for await (id, observation) in group { out[id] = observation }
        }
        await own?.close()
        return out
    }
}

/// `setpoint doctor` for a Host: the login (with the offered and pinned fingerprints when the key is not pinned), the
/// sudo rights the resources on it need (the server user of every PostgresCluster member that runs there), and the
/// tools they run there.
extension HostProvider: HealthChecking {
    public func healthChecks(for resource: Resource, in context: ProviderContext) async -> [HealthCheck] {
        guard resource.id.kind == .host else { return [] }
        let id = resource.id
        let access: HostAccess
        do {
            access = try await context.host(id.name, for: id)
            _ = try await access.runner.run(Command("true", timeout: .seconds(30)), allowFailure: false)
        } catch {
            return [HealthCheck(id, "login", .failed, "\(error)")]
        }
        var out = [HealthCheck(id, "login", .ok, "logged in to \(access.files.hostName) with a pinned key")]
        for (user, needs) in Self.needs(of: id.name, in: context.declared).sorted(by: { $0.key < $1.key }) {
            do {
                let tools = try await access.runner.run(
                    Command(
                        "/bin/sh",
                        ["-c", "for t in \"$@\"; do command -v \"$t\" >/dev/null 2>&1 || echo \"$t\"; done", "sh"]
                            + needs.tools,
                        user: user,
                        timeout: .seconds(30)
                    ),
                    allowFailure: false
                )
                out.append(
                    HealthCheck(id, "sudo as \(user)", .ok, "acts as \(user) for \(needs.for.joined(separator: ", "))")
                )
                let missing = tools.stdout.split(separator: "\n").map(String.init)
                if needs.tools.contains("pgbackrest"), !missing.contains("pgbackrest") {
                    out.append(await Self.pgBackRestVersion(id, access: access, user: user))
                }
                if !missing.isEmpty {
                    out.append(
                        HealthCheck(
                            id,
                            "tools",
                            .failed,
                            "missing on the host: \(missing.joined(separator: ", ")) (needed by \(needs.for.joined(separator: ", ")))"
                        )
                    )
                }
            } catch {
                out.append(HealthCheck(id, "sudo as \(user)", .failed, "\(error)"))
            }
        }
        return out
    }

    /// pgBackRest's version on the host: its TLS server (backups across hosts) needs 2.37 or later.
    static func pgBackRestVersion(_ id: ResourceID, access: HostAccess, user: String) async -> HealthCheck {
        let said =
            (try? await access.runner.run(
                Command("pgbackrest", ["version"], user: user, timeout: .seconds(30)),
                allowFailure: true
            ))?.stdout.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        // "pgBackRest 2.45"
        let parts = (said.split(separator: " ").last ?? "").split(separator: ".").compactMap { Int($0) }
        guard parts.count >= 2 else {
            return HealthCheck(id, "pgbackrest", .failed, "pgbackrest version said: \(said)")
        }
        let ok = parts[0] > 2 || (parts[0] == 2 && parts[1] >= 37)
        return HealthCheck(
            id,
            "pgbackrest",
            ok ? .ok : .failed,
            ok
                ? said
                : "\(said): its TLS server (backups across hosts) needs 2.37 or later; upgrade pgbackrest on the host"
        )
    }

    /// OS users the declared resources run tools as on a Host, with the tools and the resources that need them.
    static func needs(
        of host: String,
        in declared: [ResourceID: Resource]
    ) -> [String: (tools: [String], for: [String])] {
        var out: [String: (tools: [String], for: [String])] = [:]
        for (id, r) in declared where id.kind == .postgresCluster {
            guard let spec = try? r.decodeSpec(PostgresClusterSpec.self) else { continue }
            let members = spec.members.filter { $0.runsOn == host }
            guard !members.isEmpty else { continue }
            let bin = spec.binDirectory ?? "/usr/lib/postgresql/\(spec.version ?? 15)/bin"
            let user = spec.osUser ?? "postgres"
            var entry = out[user] ?? ([], [])
            entry.tools = Array(
                Set(entry.tools + ["pg_ctl", "pg_basebackup", "pg_rewind", "pg_controldata"].map { "\(bin)/\($0)" })
            ).sorted()
            entry.for += members.map { "\(id) member \($0.name)" }
            out[user] = entry
        }
        // pgBackRest on each host a BackupPolicy reaches: its repository's, its drill's, its cluster's members'.
        for (id, r) in declared where id.kind == .backupPolicy {
            guard let spec = try? r.decodeSpec(BackupPolicySpec.self),
                let cluster = try? declared[ResourceID(kind: .postgresCluster, name: spec.cluster)]?.decodeSpec(
                    PostgresClusterSpec.self
                )
            else { continue }
            var roles: [String] = []
            if spec.repository.runsOn == host { roles.append("repository") }
            if spec.drill?.runsOn == host { roles.append("drill") }
            if spec.repository.runsOn != nil, cluster.members.contains(where: { $0.runsOn == host }) {
                roles.append("archive-push")
            }
            guard !roles.isEmpty else { continue }
            let user = cluster.osUser ?? "postgres"
            var entry = out[user] ?? ([], [])
            entry.tools = Array(Set(entry.tools + ["pgbackrest"])).sorted()
            entry.for.append("\(id) (\(roles.joined(separator: ", ")))")
            out[user] = entry
        }
        return out
    }
}
