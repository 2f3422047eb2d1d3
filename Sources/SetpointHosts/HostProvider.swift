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
                        ["-c", "for t in \"$@\"; do [ -x \"$t\" ] || echo \"$t\"; done", "sh"] + needs.tools,
                        user: user,
                        timeout: .seconds(30)
                    ),
                    allowFailure: false
                )
                out.append(
                    HealthCheck(id, "sudo as \(user)", .ok, "acts as \(user) for \(needs.for.joined(separator: ", "))")
                )
                let missing = tools.stdout.split(separator: "\n").map(String.init)
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
        return out
    }
}
