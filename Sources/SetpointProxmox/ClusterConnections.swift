import Foundation
import SetpointCore
import SetpointHTTP
import Synchronization

/// One API client per declared ProxmoxCluster (endpoints, token, TLS), made on first use and kept.
final class ClusterConnections: Sendable {
    private let clients = Mutex<[String: ProxmoxAPI]>([:])

    /// The cluster a guest, pool or job names, with its client.
    func connect(
        _ clusterName: String,
        context: ProviderContext,
        for resource: ResourceID
    ) throws -> (ProxmoxAPI, ProxmoxClusterSpec) {
        let id = ResourceID(kind: .proxmoxCluster, name: clusterName)
        guard let declared = context.declared[id] else {
            throw SetpointError(
                .observeFailed,
                "\(id) is not declared: declare it in the manifests \(resource) is applied with",
                resource: resource
            )
        }
        let spec: ProxmoxClusterSpec
        do { spec = try declared.decodeSpec(ProxmoxClusterSpec.self) } catch {
            throw SetpointError(.observeFailed, "\(id): \(error)", resource: resource)
        }
        let secret: String
        do { secret = try context.secrets.resolve(spec.tokenSecret) } catch {
            throw SetpointError(.secretUnavailable, "tokenSecret (\(spec.tokenSecret.origin)): \(error)", resource: id)
        }
        // It goes into a header: a line break would end the header there and start another (header injection).
        if let bad = HTTPRequest.controlCharacter(in: secret) {
            throw SetpointError(
                .secretUnavailable,
                "tokenSecret (\(spec.tokenSecret.origin)) holds a control character (\(bad)): "
                    + "a token is one line of text; fix the secret's value (its value is not shown)",
                resource: id
            )
        }
        let tls = TLSOptions(
            caFile: spec.tls?.caFile,
            pinnedPublicKey: spec.tls?.pinnedPublicKey,
            insecure: spec.tls?.insecure ?? false
        )
        let key = [
            spec.endpoints.joined(separator: ","), spec.tokenId, SHA256.hex(secret), tls.caFile ?? "",
            tls.pinnedPublicKey ?? "",
            String(tls.insecure),
        ].joined(separator: "|")
        let api = clients.withLock { cache -> ProxmoxAPI in
            if let existing = cache[key] { return existing }
            let made = ProxmoxAPI(
                endpoints: spec.endpoints,
                tokenID: spec.tokenId,
                secret: secret,
                tls: tls,
                connections: spec.maxConcurrentRequests ?? 8,
                timeout: spec.requestTimeout?.duration ?? .seconds(30),
                clock: context.clock
            )
            cache[key] = made
            return made
        }
        return (api, spec)
    }

    /// VMIDs this process handed to creates, per cluster: `/cluster/nextid` reserves nothing, so parallel creates
    /// would otherwise all get the same id.
    private let reserved = Mutex<Set<String>>([])

    /// Claims a VMID for one create in this process; false when another create has it.
    func reserve(_ vmid: Int, cluster: String) -> Bool {
        reserved.withLock { $0.insert("\(cluster)/\(vmid)").inserted }
    }

    /// Requests sent through every client so far.
    var requestCount: Int {
        clients.withLock { $0.values.reduce(0) { total, api in total + api.requestCount.withLock { $0 } } }
    }
}
