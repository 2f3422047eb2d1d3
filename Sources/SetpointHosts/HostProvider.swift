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
        var out: [ResourceID: Observation] = [:]
        for r in resources where r.id.kind == .host {
            do {
                let access: HostAccess
                if context.hosts is HostSessionPool {
                    // The run's session: the connection that later work on this host shares.
                    access = try await context.host(r.id.name, for: r.id)
                } else {
                    let connection = try HostConnection(r.id.name, context: context)
                    defer { connection.remove() }
                    try await connection.check()
                    out[r.id] = .present(ObservedResource(spec: r.resource.spec, providerID: connection.runner.name))
                    continue
                }
                out[r.id] = .present(ObservedResource(spec: r.resource.spec, providerID: access.files.hostName))
            } catch {
                out[r.id] = .failed("\(error)")
            }
        }
        return out
    }
}
